"""StageTrainer in-process: a non-finite loss is skipped with a warning; accumulation steps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from maou_tui.sdk import EventWriter, RunDir
from trainer.cli import parse_config
from trainer.context import RunContext, main_context
from trainer.loop import StageTrainer
from trainer.stages import BatchResult
from trainer.train_log import close_logger, setup_logger


@pytest.fixture
def context(tmp_path: Path, cache_dir: Path) -> Iterator[tuple[RunContext, RunDir]]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    run = RunDir.create(tmp_path / "run")
    config = parse_config(
        ["--cpu", "--stage1-batch-size", "32", "--cache-dir", str(cache_dir), "--run-dir", "x"]
    )
    logger = setup_logger(run.log_path, to_stderr=False)
    events = EventWriter(run.events_path)
    ctx = main_context(config, torch.device("cpu"), events, None, run.checkpoints_dir, logger)
    yield ctx, run
    events.close()
    close_logger(logger)
    run.close()
    torch.set_num_threads(threads)


def _events(run: RunDir) -> list[dict]:
    return [json.loads(line) for line in run.events_path.read_text().splitlines()]


def test_non_finite_loss_is_skipped_with_a_warning(context) -> None:  # type: ignore[no-untyped-def]
    ctx, run = context
    trainer = StageTrainer(ctx, 1)
    real_compute = trainer.task.compute

    def poisoned(model, batch):  # type: ignore[no-untyped-def]
        result = real_compute(model, batch)
        return BatchResult(result.loss * float("nan"), result.sums, result.outputs)

    trainer.task.compute = poisoned  # type: ignore[method-assign]
    before = [p.detach().clone() for p in trainer.model.parameters()]
    trainer._train_batch(next(trainer.train_data.epoch_batches(1)), 0)
    ctx.events.flush()
    after = list(trainer.model.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, after, strict=True))  # no update
    events = _events(run)
    (warning,) = [e for e in events if e["type"] == "warning"]
    assert warning["kind"] == "nan" and warning["step"] == 1
    (step,) = [e for e in events if e["type"] == "step"]
    assert step["loss"] is None and step["global_step"] == 1
    assert trainer.totals.batches == 0  # the running means ignore the skipped batch
    assert "Non-finite loss detected (epoch=1, batch=1): loss=nan" in run.log_path.read_text()


def test_accumulation_steps_the_optimizer_every_k_batches(context) -> None:  # type: ignore[no-untyped-def]
    ctx, _ = context
    ctx.config.gradient_accumulation_steps = 2
    trainer = StageTrainer(ctx, 1)
    assert trainer.batches == 35 and trainer.plan.steps_per_epoch == 18
    steps = []
    for batch, inputs in zip(range(4), trainer.train_data.epoch_batches(1), strict=False):
        trainer._train_batch(inputs, batch)
        steps.append(trainer.scheduler.last_epoch)  # one scheduler step per optimizer step
    assert steps == [0, 1, 1, 2]  # one optimizer step after every second batch
    assert trainer.global_step == 4
