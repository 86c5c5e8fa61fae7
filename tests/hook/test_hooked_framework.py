"""A hooked program's own output names its framework, and the run's advice follows it."""

from __future__ import annotations

from pathlib import Path

from maou_tui.ingest import load_store
from maou_tui.layout import EVENTS_FILE, LOG_FILE, LOG_TIMES_FILE
from maou_tui.protocol import RunFinished, RunStarted
from maou_tui.sdk import EventWriter

HF_CONSOLE = Path(__file__).parents[1] / "ingest" / "trainer_logs" / "hf_trainer.log"


def test_an_hf_console_under_the_hook_names_transformers_in_the_run(tmp_path: Path) -> None:
    """The real HF Trainer console as a hooked program's output (no step marks: placed by
    time): the hook's run_started keeps its command and gains the framework the output names."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    writer = EventWriter(run_dir / EVENTS_FILE)
    started = writer.emit(RunStarted(pid=4242, config={"cmd": ["python", "train_hf.py"]}))
    console = HF_CONSOLE.read_bytes()
    (run_dir / LOG_FILE).write_bytes(console)
    (run_dir / LOG_TIMES_FILE).write_text(f"{len(console)} {started.t}\n")
    writer.emit(RunFinished(status="completed", step=0))
    writer.close()

    store = load_store(run_dir)

    assert store.run is not None and store.run.pid == 4242
    assert store.run.config == {"cmd": ["python", "train_hf.py"], "framework": "transformers"}
