"""Protocol ``Step`` events built from values the log parser has already typed itself.

Why hand-made: a log backfill makes one ``Step`` per data point, and building it was the
largest single cost per point. Validating ``Step(...)`` costs ~3 µs, and pydantic's own
``model_construct`` (which skips validation) is ~10x slower still in pydantic 2.13, as it walks
every field in Python. The parser's values are ints and floats it converted itself, so
``trusted_step`` fills the instance the way ``model_construct`` does (``__dict__`` with the
defaults, ``__pydantic_fields_set__``, ``__pydantic_extra__``, ``__pydantic_private__``).
``tests/ingest/test_trusted.py`` checks that the result equals a validated ``Step``.
Events from other producers (events.jsonl) are always validated.
"""

from __future__ import annotations

import math

from maou_tui.protocol import Step
from maou_tui.store import StepBatch

_DEFAULTS = Step(stage=1, epoch=0, batch=0, global_step=0, loss=None).__dict__.copy()
_SET_FIELDS = frozenset({"stage", "epoch", "batch", "global_step", "loss", "metric_cum"})
_new = Step.__new__
_set = object.__setattr__


def trusted_step(
    stage: int,
    epoch: int,
    batch: int,
    global_step: int,
    loss: float | None,
    metric_cum: float | None,
) -> Step:
    """``Step(stage=.., ..., metric_cum=..)`` for values that are already of the right type
    (``stage`` in 1..3, ``loss`` a finite float or None)."""
    fields = _DEFAULTS.copy()
    fields["stage"] = stage
    fields["epoch"] = epoch
    fields["batch"] = batch
    fields["global_step"] = global_step
    fields["loss"] = loss
    fields["metric_cum"] = metric_cum
    fields["metrics"] = {}
    step = _new(Step)
    _set(step, "__dict__", fields)
    _set(step, "__pydantic_fields_set__", set(_SET_FIELDS))
    _set(step, "__pydantic_extra__", {})
    _set(step, "__pydantic_private__", None)
    return step


def trusted_steps(batch: StepBatch) -> list[Step]:
    """The ``Step`` events a ``StepBatch`` stands for (a NaN loss is the protocol's None)."""
    stage, rows = batch.stage, batch.columns()
    losses = [None if math.isnan(loss) else loss for loss in rows.losses.tolist()]
    metrics = [
        metric if has else None
        for metric, has in zip(rows.metric_cums.tolist(), rows.has_metric.tolist(), strict=True)
    ]
    return [
        trusted_step(stage, epoch, number, global_step, loss, metric_cum)
        for global_step, epoch, number, loss, metric_cum in zip(
            rows.steps.tolist(),
            rows.epochs.tolist(),
            rows.batches.tolist(),
            losses,
            metrics,
            strict=True,
        )
    ]
