"""A big log opens progressively: its tail is charted before the history is read, and the whole
history then replaces it with the same points ``load_store`` reads.

The sizes that make a log "big" are scaled down here (``small_pieces``): the same code paths,
a fraction of the bytes to write and read."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from pilot import status_text, wait_for

from maou_tui.app import MaouApp
from maou_tui.app import history as history_module
from maou_tui.diagnose import Diagnoser
from maou_tui.diagnose.models import Finding
from maou_tui.ingest import load_store
from maou_tui.store import RunStore

#: The preview's share and the smallest progressive file in this test (the app's: 4 / 8 MB).
PREVIEW_BYTES = 256 << 10
PROGRESSIVE_BYTES = 512 << 10
PREFIX = "2026-08-22T10:15:00+09:00 | INFO  | multi_stage_training.py | _run | 501 | "
EPOCH_BATCHES = 3000


def _epoch_bar(epoch: int) -> str:
    """One epoch of maou's tqdm output: a redraw every 3 batches, a new postfix every 50."""
    segments = [f"Training:   0%|          | 0/{EPOCH_BATCHES} [00:00<?, ?it/s]"]
    for n in range(1, EPOCH_BATCHES + 1, 3):
        k = (n - 1) // 50
        acc, loss = 90 + (epoch * 7 + k) % 90 / 10, 0.5 / (1 + epoch) + k % 7 / 1000
        postfix = f"acc={acc:.1f}%, loss={loss:.4f}"
        pct = 100 * n // EPOCH_BATCHES
        segments.append(
            f"Training: {pct:3d}%|{'#' * (pct // 10):<10}| {n}/{EPOCH_BATCHES} "
            f"[00:12<00:15, 36.5it/s, {postfix}]"
        )
    return "\r" + "\r".join(segments) + "\n"


def write_big_maou_log(path: Path, target_bytes: int) -> None:
    """maou's output for Stage 1: banner, start line, epochs of bars and epoch lines, then
    the summary of a completed run."""
    with open(path, "w", encoding="utf-8") as out:
        out.write(f"{PREFIX}{'=' * 60}\n{PREFIX}STAGE 1: REACHABLE SQUARES LEARNING\n")
        out.write(f"{PREFIX}Starting Stage 1 (TrainingLoop): max_epochs=9999, threshold=99.9%\n")
        epoch = 0
        while out.tell() < target_bytes:
            epoch += 1
            out.write(_epoch_bar(epoch))
            out.write(f"{PREFIX}Stage 1 Epoch {epoch}/9999: Loss=0.0123, Accuracy=95.12%\n")
            out.write(f"{PREFIX}Stage 1 Epoch {epoch}: LR = 0.000400\n")
        # maou's JSON summary on stdout ends a completed run (and closes the last epoch,
        # which a reader otherwise keeps open for a validation line that may follow).
        out.write('{"stage": "all", "stages_completed": 1}\n')


def hold_history_read(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Hold the history read until the returned event is set: the preview is then checked
    without depending on how fast this machine reads (it must be on screen without it)."""
    release = threading.Event()
    read_all = history_module.HistoryReader._read_all

    def held_read_all(self: history_module.HistoryReader, source, store) -> bool:  # type: ignore[no-untyped-def]
        release.wait(60)
        return read_all(self, source, store)

    monkeypatch.setattr(history_module.HistoryReader, "_read_all", held_read_all)
    return release


async def whole_history_shown(pilot, release: threading.Event) -> None:  # type: ignore[no-untyped-def]
    """Let the held history read go on, and wait until the whole of it is on screen."""
    app = pilot.app
    release.set()
    await wait_for(
        pilot,
        lambda: app.session.history is None and app.up_to_date,
        "the whole history on screen",
        timeout=120,
    )


def _same_points(shown: RunStore, expected: RunStore) -> None:
    assert shown.names() == expected.names()
    for name in expected.names():
        for column in ("steps", "values"):
            np.testing.assert_array_equal(
                getattr(shown.series(name), column), getattr(expected.series(name), column)
            )


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "maou.log"
    write_big_maou_log(path, 4 * PROGRESSIVE_BYTES)
    return path


async def test_a_big_log_charts_its_tail_first_then_the_whole_history(
    big_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_module, "PREVIEW_BYTES", PREVIEW_BYTES)
    monkeypatch.setattr(history_module, "PROGRESSIVE_BYTES", PROGRESSIVE_BYTES)
    release = hold_history_read(monkeypatch)
    # Which threads diagnose the whole history (a long one takes seconds: never the UI's).
    whole_diagnosed_on: list[str] = []
    update = Diagnoser.update

    def recorded_update(self: Diagnoser) -> list[Finding]:
        if self.store.version != self._version and self.store.last_step == expected.last_step:
            whole_diagnosed_on.append(threading.current_thread().name)
        return update(self)

    monkeypatch.setattr(Diagnoser, "update", recorded_update)
    expected = load_store(big_log)
    app = MaouApp(big_log, mode="watch")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot,
            lambda: len(app.store.series("loss")) and app.drawn_version == app.store.version,
            "the tail on the charts",
        )
        preview_points = len(app.store.series("loss"))
        assert 0 < preview_points < len(expected.series("loss")) // 2
        status = status_text(app)
        assert "reading history" in status and "x: steps from the last 262 kB" in status
        # Keys work meanwhile: the event loop is not the one reading the file.
        log_lr = app.view.log_lr
        await pilot.press("g")
        assert app.view.log_lr is not log_lr
        await whole_history_shown(pilot, release)
        _same_points(app.store, expected)
        assert app.store.last_step == expected.last_step
        assert whole_diagnosed_on and threading.main_thread().name not in whole_diagnosed_on
        reference = Diagnoser(expected)
        reference.update()
        shown = {(f.kind, f.stage, f.step) for f in app.diagnoser.findings}
        assert shown and shown == {(f.kind, f.stage, f.step) for f in reference.findings}
        assert "reading history" not in status_text(app)


@pytest.fixture(scope="module")
def big_board(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A TensorBoard run folder written by torch's SummaryWriter (what maou writes): 147 kB."""
    writer_module = pytest.importorskip("torch.utils.tensorboard", reason="needs tensorboard")
    folder = tmp_path_factory.mktemp("board") / "run"
    writer = writer_module.SummaryWriter(str(folder))
    for step in range(1, 3001):
        writer.add_scalar("Loss/train", 4.0 / (1 + step / 500), step)
    writer.close()
    return folder


async def test_a_big_tensorboard_run_charts_its_newest_steps_first(
    big_board: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_module, "PREVIEW_BYTES", 16 << 10)
    monkeypatch.setattr(history_module, "PROGRESSIVE_BYTES", 64 << 10)
    release = hold_history_read(monkeypatch)
    expected = load_store(big_board)
    app = MaouApp(big_board, mode="watch")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: len(app.store.series("loss")), "the newest steps")
        shown = app.store.series("loss").steps
        assert shown[-1] == 3000 and 0 < len(shown) < 3000 // 2 and shown[0] > 1
        assert "reading history" in status_text(app)
        await whole_history_shown(pilot, release)
        _same_points(app.store, expected)
