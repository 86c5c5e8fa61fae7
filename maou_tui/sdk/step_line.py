"""``step`` events as JSON lines without a pydantic model, for the writer's per-step work.

A run writes one ``step`` event per optimizer step. Validating a ``Step`` model and dumping it
costs about 3x what ``pydantic_core.to_json`` of a plain dict does, so ``encode_step`` checks
the fields itself and hands the dict to ``to_json`` (1.35x cheaper than the model, checks
included; stdlib ``json`` was slower than the model): the same field names in the same order as
``Step``, non-finite floats as null. It accepts only what needs no conversion (``int`` fields
as ``int``; float fields as ``float``, ``int`` or None; ``metrics`` a dict of ``str`` to those);
anything else (a missing or unknown field, a string, a numpy scalar, a stage outside 1-3)
returns None, and the caller lets pydantic validate it, so invalid input is handled in one
place. ``tests/sdk/test_step_line.py`` checks that every line decodes to the equal ``Step`` and
keeps ``Step``'s field order.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import to_json

from maou_tui.protocol import PROTOCOL_VERSION

_REQUIRED = frozenset({"stage", "epoch", "batch", "global_step", "loss"})
_OPTIONAL = frozenset({"loss_cum", "metric", "metric_cum", "lr", "lr_multiplier", "samples_per_s"})
_KNOWN = _REQUIRED | _OPTIONAL | {"metrics"}
_INT = {int}
_FLOATISH = {float, int, type(None)}
#: Beyond this an int has no float value: pydantic rejects it.
_FLOAT_INT_LIMIT = 2**1023


def encode_step(seq: int, t: float, fields: dict[str, Any]) -> str | None:
    """The JSON line of ``Step(seq=seq, t=t, **fields)``; None when pydantic must validate."""
    if not _REQUIRED.issubset(fields) or not _KNOWN.issuperset(fields):
        return None
    get = fields.get
    # Step's field order. Written out, not looped: this runs for every step of every run.
    line = {
        "v": PROTOCOL_VERSION,
        "seq": seq,
        "t": t,
        "type": "step",
        "stage": fields["stage"],
        "epoch": fields["epoch"],
        "batch": fields["batch"],
        "global_step": fields["global_step"],
        "loss": fields["loss"],
        "loss_cum": get("loss_cum"),
        "metric": get("metric"),
        "metric_cum": get("metric_cum"),
        "lr": get("lr"),
        "lr_multiplier": get("lr_multiplier", 1.0),
        "samples_per_s": get("samples_per_s"),
        "metrics": get("metrics", {}),
    }
    metrics = line["metrics"]
    if type(metrics) is not dict:
        return None
    floats = [line[name] for name in _FLOAT_NAMES]
    floats += metrics.values()
    float_types = set(map(type, floats))
    ints = (line["stage"], line["epoch"], line["batch"], line["global_step"])
    if set(map(type, ints)) != _INT or not _FLOATISH.issuperset(float_types):
        return None
    if not 1 <= line["stage"] <= 3 or not all(type(key) is str for key in metrics):
        return None
    if int in float_types and not all(map(_fits_float, floats)):
        return None
    return to_json(line, inf_nan_mode="null").decode()


_FLOAT_NAMES = ("loss", "loss_cum", "metric", "metric_cum", "lr", "lr_multiplier", "samples_per_s")


def _fits_float(value: float | int | None) -> bool:
    return type(value) is not int or -_FLOAT_INT_LIMIT < value < _FLOAT_INT_LIMIT
