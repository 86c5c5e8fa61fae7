"""The log viewer on maou's real output: full screen at any size (``L``), scroll, search, follow,
prefix folding, colours; a log that grows; a 100+ MB log; snapshots at 80x24 and 160x50."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from pilot import wait_for

from maou_tui.app import MaouApp
from maou_tui.app.screens.log import LogScreen
from maou_tui.app.widgets.log_viewer import LogViewer

CAPTURE = (
    Path(__file__).resolve().parents[1] / "ingest" / "golden" / "maou_real_all_stages.typescript"
)
CAPTURE_LINES = CAPTURE.read_bytes().count(b"\n")


@pytest.fixture
def maou_log(tmp_path: Path) -> Path:
    log = tmp_path / "maou-run" / "train.log"
    log.parent.mkdir()
    shutil.copyfile(CAPTURE, log)
    return log


def drawn(viewer: LogViewer, y: int) -> str:
    """Row ``y`` of the viewer as drawn on screen."""
    return viewer.render_line(y).text.rstrip()


def keys(text: str) -> list[str]:
    return ["space" if ch == " " else ch for ch in text]


async def open_full_log(pilot, app: MaouApp, lines: int) -> LogViewer:
    await wait_for(pilot, lambda: app.main.log_pane.line_count == lines, "the log pane")
    await pilot.press("L")
    assert isinstance(app.screen, LogScreen)
    viewer = app.screen.viewer
    await wait_for(pilot, lambda: viewer.line_count == lines, "the full-screen log")
    return viewer


async def test_full_screen_log_scrolls_searches_follows_and_folds_prefixes(maou_log: Path):
    app = MaouApp(maou_log, mode="watch", theme="dark")
    async with app.run_test(size=(100, 30)) as pilot:
        viewer = await open_full_log(pilot, app, CAPTURE_LINES)
        assert viewer.has_focus and viewer.follow
        assert viewer.scroll_y == viewer.max_scroll_y > 0
        height = viewer.scrollable_content_region.height
        assert drawn(viewer, height - 1).startswith("Script done on")  # the capture's last line

        await pilot.press("k", "k")
        assert not viewer.follow and viewer.scroll_y == viewer.max_scroll_y - 2
        assert "paused" in str(viewer.border_subtitle)
        await pilot.press("j", "j")  # back down to the last line: following again
        assert viewer.follow and viewer.scroll_y == viewer.max_scroll_y
        await pilot.press("k")
        assert not viewer.follow
        await pilot.press("F")
        assert viewer.follow and viewer.scroll_y == viewer.max_scroll_y
        await pilot.press("pageup")
        assert not viewer.follow and viewer.scroll_y < viewer.max_scroll_y - height // 2
        await pilot.press("G")
        assert viewer.follow

        await pilot.press("g")  # the top: maou's prefix columns are folded by default
        assert viewer.scroll_y == 0
        # maou's prefix folded to the time of day in the viewer's zone (UTC here)
        assert drawn(viewer, 1) == "08:27:41 Multi-stage training requested: stage=all"
        await pilot.press("P")
        assert drawn(viewer, 1).startswith(
            "2026-12-03T17:27:41+09:00 | INFO  |  learn_model.py |          learn_model | 773 | "
        )
        await pilot.press("P", "j", "down")
        assert viewer.scroll_y == 2 and drawn(viewer, 0).startswith("08:27:41 StreamingFileSource")

        await pilot.press("g", "slash")
        await pilot.press(*keys("threshold achieved"), "enter")
        await wait_for(pilot, lambda: viewer.found_line == 25, "the first match")
        assert viewer.has_focus and not viewer.follow
        row = int(viewer.found_line - viewer.scroll_y)
        assert drawn(viewer, row).startswith("08:28:50 Stage 1 Accuracy threshold achieved!")
        matches = [seg for seg in viewer.render_line(row) if seg.text == "threshold achieved"]
        assert matches and matches[0].style is not None and matches[0].style.bgcolor is not None
        await pilot.press("n")
        await wait_for(pilot, lambda: viewer.found_line == 43, "the next match")
        await pilot.press("n")  # no match below: the search goes on from the top
        await wait_for(pilot, lambda: viewer.found_line == 25, "the wrapped match")
        await pilot.press("N")
        await wait_for(pilot, lambda: viewer.found_line == 43, "the previous match")
        await pilot.press("slash", *keys("STAGE 2"), "enter")  # capitals: case counts
        await wait_for(pilot, lambda: viewer.found_line == 37, "STAGE 2")
        assert "/STAGE 2" in str(viewer.border_subtitle)

        await pilot.press("escape")
        assert app.screen is app.main
        await pilot.press("L")  # the same log again, following its end
        assert isinstance(app.screen, LogScreen) and app.screen.viewer.follow
        await pilot.press("L")
        assert app.screen is app.main


async def test_the_log_grows_on_screen_and_bars_show_their_last_render(tmp_path: Path):
    log = tmp_path / "train.log"
    log.write_bytes(b"\x1b[32mstarting\x1b[0m\n")
    app = MaouApp(log, mode="watch", theme="dark")
    async with app.run_test(size=(80, 24)) as pilot:
        viewer = await open_full_log(pilot, app, 1)
        with log.open("ab") as handle:  # tqdm on a terminal: one line rewritten with \r
            handle.write(b"Epoch 1:  10%|#   | 1/10\rEpoch 1:  50%|#####     | 5/10")
        await wait_for(pilot, lambda: viewer.line_count == 2, "the bar")
        await wait_for(pilot, lambda: drawn(viewer, 1).startswith("Epoch 1:  50%"), "its render")
        with log.open("ab") as handle:
            handle.write(b"\rEpoch 1: 100%|##########| 10/10\r\nEpoch 2 done\n")
        await wait_for(pilot, lambda: viewer.line_count == 3, "the next line")
        await wait_for(pilot, lambda: drawn(viewer, 2) == "Epoch 2 done", "the new last line")
        assert drawn(viewer, 1) == "Epoch 1: 100%|##########| 10/10"
        assert drawn(viewer, 0) == "starting"  # colour kept, escape codes not shown
        green = next(iter(viewer.render_line(0))).style
        assert green is not None and green.color is not None and green.color.number == 2
        await pilot.press("A")  # colours stripped: the text in the viewer's own colour
        assert drawn(viewer, 0) == "starting"
        plain = next(iter(viewer.render_line(0))).style
        assert plain is not None and plain.color == viewer.rich_style.color


def write_big_log(path: Path, megabytes: int) -> tuple[int, bytes, bytes]:
    """A maou-style log of ``megabytes`` MB: (lines, its first line, its last line)."""
    prefix = "2026-12-03T17:27:41+09:00 | INFO  | dl.py | __train | 752 | "
    block = "".join(
        f"{prefix}Epoch 1 Batch {n}/100000: Loss=0.{n % 9973:04d}, Accuracy=50.00%\n"
        for n in range(10000)
    ).encode()
    repeats = megabytes * (1 << 20) // len(block) + 1
    with path.open("wb") as handle:
        for _ in range(repeats):
            handle.write(block)
        handle.write(f"{prefix}the very last line\n".encode())
    return repeats * 10000 + 1, block.split(b"\n", 1)[0], b"the very last line"


@pytest.mark.slow
async def test_a_120_mb_log_opens_at_its_end_before_the_index_is_complete(tmp_path: Path):
    log = tmp_path / "big.log"
    lines, _, _ = write_big_log(log, 120)
    app = MaouApp(log, mode="watch", theme="dark")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("L")
        viewer = app.screen.viewer
        started = time.monotonic()
        bottom = viewer.scrollable_content_region.height - 1
        # the first lines indexed (from the end) may be drawn a frame before the view moves
        # to the end: the first screen is the one that shows the last line
        await wait_for(
            pilot, lambda: drawn(viewer, bottom) == "08:27:41 the very last line", "the end"
        )
        first_screen_s = time.monotonic() - started
        await wait_for(pilot, lambda: viewer.line_count == lines, "the whole index", timeout=60)
        assert first_screen_s < 5
        await pilot.press("g")
        assert drawn(viewer, 0).startswith("08:27:41 Epoch 1 Batch 0/100000")
        await pilot.press("slash", *keys("the very last"), "enter")
        await wait_for(pilot, lambda: viewer.found_line == lines - 1, "a search through 120 MB")


def _settle_log(lines: int):
    async def run_before(pilot) -> None:
        app = pilot.app
        await wait_for(pilot, lambda: app.main.log_pane.line_count == lines, "the log")
        await pilot.press("L")
        await wait_for(pilot, lambda: app.screen.viewer.line_count == lines, "the full log")
        app.clear_notifications()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
def test_full_screen_log_snapshot(snap_compare, maou_log: Path, size) -> None:
    app = MaouApp(maou_log, mode="watch", theme="dark")
    assert snap_compare(app, terminal_size=size, run_before=_settle_log(CAPTURE_LINES))
