"""Builders of RunStores from synthetic curves: real protocol events through RunStore.apply."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from maou_tui.protocol import EpochEnd, RunStarted, StageCompleted, StageStarted, Step
from maou_tui.store import RunStore


class CurveBuilder:
    """Appends stages of steps to a list of events; ``store()`` applies them all."""

    def __init__(self) -> None:
        self.events: list = [RunStarted(pid=1, config={"model_architecture": "resnet"})]
        self.step = 0

    def stage(
        self,
        stage: int,
        loss: Sequence[float | None],
        steps_per_epoch: int,
        *,
        metric: Sequence[float] | None = None,
        lr: Sequence[float] | float = 1e-3,
        base_lr: float = 1e-3,
        batch_size: int = 256,
        lr_scale: float = 1.0,
        warmup_steps: int | None = None,
        threshold: float | None = None,
        max_epochs: int | None = None,
        cumulative_metric: bool = True,
        epoch_ends: Sequence[dict] | None = None,
        complete: bool = True,
    ) -> CurveBuilder:
        n = len(loss)
        lrs = np.broadcast_to(np.asarray(lr, dtype=float), (n,))
        names = {1: "REACHABLE_SQUARES", 2: "LEGAL_MOVES", 3: "POLICY_VALUE"}
        self.events.append(
            StageStarted(
                stage=stage,
                name=names[stage],
                metric={1: "accuracy", 2: "f1", 3: "policy_accuracy"}[stage],
                steps_per_epoch=steps_per_epoch,
                max_epochs=max_epochs or -(-n // steps_per_epoch),
                warmup_steps=warmup_steps,
                base_lr=base_lr,
                lr_scale=lr_scale,
                effective_lr=base_lr * lr_scale,
                batch_size=batch_size,
                threshold=threshold,
                start_step=self.step + 1,
                architecture="resnet",
            )
        )
        running: list[float] = []
        for i in range(n):
            epoch, batch = i // steps_per_epoch + 1, i % steps_per_epoch + 1
            if batch == 1:
                running = []
            self.step += 1
            m = None if metric is None else float(metric[i])
            if m is not None:
                running.append(m)
            self.events.append(
                Step(
                    stage=stage,
                    epoch=epoch,
                    batch=batch,
                    global_step=self.step,
                    loss=None if loss[i] is None else float(loss[i]),
                    metric=m,
                    metric_cum=float(np.mean(running)) if (running and cumulative_metric) else None,
                    lr=float(lrs[i]),
                    samples_per_s=1000.0,
                )
            )
            if batch == steps_per_epoch and not epoch_ends:
                window = [x for x in loss[i - batch + 1 : i + 1] if x is not None]
                self.events.append(
                    EpochEnd(
                        stage=stage,
                        epoch=epoch,
                        global_step=self.step,
                        train_loss=float(np.mean(window)) if window else None,
                        train_metric=float(np.mean(running)) if running else None,
                    )
                )
        for row in epoch_ends or []:
            self.events.append(EpochEnd(stage=stage, **row))
        if complete:
            self.events.append(
                StageCompleted(stage=stage, epochs=-(-n // steps_per_epoch), step=self.step)
            )
        return self

    def store(self, events: list | None = None) -> RunStore:
        store = RunStore()
        store.apply_all(self.events if events is None else events)
        return store


@pytest.fixture
def curves() -> CurveBuilder:
    return CurveBuilder()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def decaying(
    n: int, rng: np.random.Generator, start: float = 0.7, end: float = 0.05, noise: float = 0.05
) -> np.ndarray:
    """A healthy loss: exponential decay with multiplicative per-batch noise."""
    t = np.arange(n)
    base = end + (start - end) * np.exp(-5 * t / n)
    return base * (1 + noise * rng.standard_normal(n))
