"""``step`` events as JSON lines without pydantic, for the writer's per-step hot path.

A run writes one ``step`` event per optimizer step, so building and validating a ``Step`` model
for each (about 10 µs) is most of what event writing costs. ``encode_step`` writes the same line
with ``json.dumps`` from fields that are already plain ``int``/``float``/``None`` values: the same
field names in the same order, non-finite floats as null, ints given for float fields as floats.
Anything else (a missing or unknown field, a string, a numpy scalar, a stage outside 1-3) returns
None, and the caller lets pydantic validate it, so invalid input is handled in one place.
Hand-written because pydantic has no cheaper path: ``model_construct`` skips validation and its
serialiser still costs several µs. ``tests/sdk/test_step_line.py`` checks that every line decodes
to the equal ``Step`` and keeps ``Step``'s field order.
"""

from __future__ import annotations

import json
import math
from typing import Any

from maou_tui.protocol import PROTOCOL_VERSION

#: ``Step``'s own fields after ``stage``, in its declaration order.
_INT_FIELDS = ("epoch", "batch", "global_step")
_FLOAT_FIELDS = (
    "loss",
    "loss_cum",
    "metric",
    "metric_cum",
    "lr",
    "lr_multiplier",
    "samples_per_s",
)
_REQUIRED = frozenset({"stage", *_INT_FIELDS, "loss"})
_KNOWN = frozenset({"stage", *_INT_FIELDS, *_FLOAT_FIELDS, "metrics"})
_DEFAULTS: dict[str, float | None] = {"lr_multiplier": 1.0}
_INVALID = object()
_dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


def encode_step(seq: int, t: float, fields: dict[str, Any]) -> str | None:
    """The JSON line of ``Step(seq=seq, t=t, **fields)``; None when pydantic must validate."""
    if not _REQUIRED.issubset(fields) or not _KNOWN.issuperset(fields):
        return None
    stage = fields["stage"]
    if type(stage) is not int or not 1 <= stage <= 3:
        return None
    line: dict[str, Any] = {
        "v": PROTOCOL_VERSION,
        "seq": seq,
        "t": t,
        "type": "step",
        "stage": stage,
    }
    for name in _INT_FIELDS:
        value = fields[name]
        if type(value) is not int:
            return None
        line[name] = value
    for name in _FLOAT_FIELDS:
        value = _plain_float(fields.get(name, _DEFAULTS.get(name)))
        if value is _INVALID:
            return None
        line[name] = value
    metrics = _plain_metrics(fields.get("metrics"))
    if metrics is None:
        return None
    line["metrics"] = metrics
    return _dumps(line)


def _plain_float(value: Any) -> Any:
    """``value`` as a JSON-ready float (None for non-finite), or ``_INVALID``."""
    if value is None:
        return None
    kind = type(value)
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is int and abs(value) < 2**1023:  # a larger int has no float: let pydantic say so
        return float(value)
    return _INVALID


def _plain_metrics(metrics: Any) -> dict[str, float | None] | None:
    """``metrics`` with plain float values; None when one needs validating."""
    if metrics is None:
        return {}
    if type(metrics) is not dict:
        return None
    out = {}
    for key, value in metrics.items():
        plain = _plain_float(value)
        if type(key) is not str or plain is _INVALID:
            return None
        out[key] = plain
    return out
