"""The status panel's guide line uses the global batch, also under DDP."""

from maou_tui.app.widgets.status import recommendation_line
from maou_tui.protocol import RunStarted, StageStarted
from maou_tui.store import RunStore


def _store(world_size: int, batch_size: int) -> tuple[RunStore, StageStarted]:
    store = RunStore()
    store.apply(RunStarted(pid=1, world_size=world_size))
    stage = StageStarted(
        stage=2, name="LEGAL_MOVES", metric="f1", batch_size=batch_size, architecture="vit"
    )
    store.apply(stage)
    return store, stage


def test_the_guide_line_gives_the_worked_example_for_one_process() -> None:
    store, stage = _store(world_size=1, batch_size=4096)
    assert recommendation_line(store, stage) == "guide --stage2-learning-rate 0.00005 (eff 0.0002)"


def test_two_processes_of_2048_are_the_row_of_a_4096_batch() -> None:
    store, stage = _store(world_size=2, batch_size=2048)
    assert recommendation_line(store, stage) == "guide --stage2-learning-rate 0.00005 (eff 0.0002)"
