"""The hook's event writer: its per-step ``step`` events formatted from numbers, not a model.

Every optimizer step of a hooked program is a ``step`` event. Validating and dumping a pydantic
``Step`` costs ~12 µs warm, more in the writer thread next to the program's training: at
millisecond steps, a large part of what the hook costs. The hook's step fields are numbers it
made itself (``global_step`` an int; ``loss``, ``lr``, ``lr_multiplier`` floats or None), so
the writer thread formats them into the line ``Step`` would write (non-finite floats as
``null``, as pydantic writes them); a test checks the lines against the model. Every other
event goes through the model as in ``EventWriter``.
"""

from __future__ import annotations

import math
from typing import Any

from maou_tui.protocol import EventBase, Step
from maou_tui.sdk import EventWriter

#: The line of a ``step`` event with the hook's fields (the others take their defaults).
STEP_LINE = (
    '{"v":1,"seq":%d,"t":%s,"type":"step","stage":%d,"epoch":%d,"batch":%d,"global_step":%d,'
    '"loss":%s,"lr":%s,"lr_multiplier":%s}'
)
_FORMATTED = frozenset({"stage", "epoch", "batch", "global_step", "loss", "lr", "lr_multiplier"})


class HookEventWriter(EventWriter):
    """``EventWriter`` that formats the hook's own ``step`` events (see the module)."""

    def _serialise(self, entry: Any) -> str | None:
        if not isinstance(entry, EventBase):
            seq, stamp, model, fields = entry
            if model is Step and fields.keys() == _FORMATTED:
                return STEP_LINE % (
                    seq,
                    _number(stamp),
                    fields["stage"],
                    fields["epoch"],
                    fields["batch"],
                    fields["global_step"],
                    _number(fields["loss"]),
                    _number(fields["lr"]),
                    _number(fields["lr_multiplier"]),
                )
        return super()._serialise(entry)


def _number(value: float | None) -> str:
    if value is None:
        return "null"
    number = float(value)
    return repr(number) if math.isfinite(number) else "null"
