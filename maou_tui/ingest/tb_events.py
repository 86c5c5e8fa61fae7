"""TensorBoard ``Event`` records decoded into scalar points, restarts and hyperparameters.

The protobufs are TensorBoard's own (``tensorboard.compat.proto``, the ``tensorboard`` package
that every ``torch.utils.tensorboard.SummaryWriter`` needs anyway), decoded by protobuf's C
implementation (upb). Scalars come in the two forms writers use: ``simple_value`` (torch,
tensorboardX, TF1) and a rank-0 ``tensor`` (TF2/Keras, ``new_style`` torch). Histograms,
images, text and graphs are not scalars and are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tensorboard.compat.proto.event_pb2 import Event, SessionLog
from tensorboard.compat.proto.types_pb2 import (
    DT_BFLOAT16,
    DT_DOUBLE,
    DT_FLOAT,
    DT_HALF,
    DT_INT32,
    DT_INT64,
)
from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

_START = SessionLog.START
_FLOAT_TYPES = (DT_FLOAT, DT_HALF, DT_BFLOAT16)
#: dtypes of a packed ``tensor_content`` scalar. Not ``tensorboard.util.tensor_util``'s
#: ``make_ndarray``: importing it loads TensorBoard's TensorFlow stub (0.4-1.7 s measured).
_PACKED = {DT_FLOAT: "<f4", DT_DOUBLE: "<f8", DT_HALF: "<f2", DT_INT32: "<i4", DT_INT64: "<i8"}


@dataclass
class Decoded:
    """What a batch of records says, in file order, as columns: point i is (``tags[i]``,
    ``steps[i]``, ``walls[i]``, ``values[i]``). ``restarts`` are (index of the next point,
    step) of a ``SessionLog.START`` (what ``SummaryWriter(purge_step=N)`` writes): points from
    that step on are dropped."""

    tags: list[str] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    walls: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    restarts: list[tuple[int, int]] = field(default_factory=list)
    hparams: dict[str, Any] = field(default_factory=dict)
    undecodable: int = 0

    def add(self, tag: str, step: int, wall: float, value: float) -> None:
        self.tags.append(tag)
        self.steps.append(step)
        self.walls.append(wall)
        self.values.append(value)


def decode(records: list[bytes]) -> Decoded:
    """Decode ``records`` (bodies whose checksum held). A body protobuf cannot parse is
    counted in ``undecodable``. (The loop is the hot path of a backfill: about 2.8 us a
    record, half of it protobuf's parse; attribute reads are kept to the fewest.)"""
    out = Decoded()
    tags, steps, walls, values = out.tags, out.steps, out.walls, out.values
    parse = Event.FromString
    for body in records:
        try:
            event = parse(body)
        except Exception:  # protobuf's DecodeError, raised from C
            out.undecodable += 1
            continue
        summary_values = event.summary.value
        if summary_values:
            step, wall = event.step, event.wall_time
            for value in summary_values:
                if value.HasField("simple_value"):
                    tags.append(value.tag)
                    steps.append(step)
                    walls.append(wall)
                    values.append(value.simple_value)
                else:
                    _other_value(value, step, wall, out)
        elif event.HasField("session_log") and event.session_log.status == _START:
            out.restarts.append((len(tags), event.step))
    return out


def _other_value(value: Any, step: int, wall: float, out: Decoded) -> None:
    """A tensor scalar, or the hparams plugin's session start (the run's configuration)."""
    plugin = value.metadata.plugin_data.plugin_name
    if plugin == "hparams":
        out.hparams.update(_hparams(value.metadata.plugin_data.content))
        return
    if value.WhichOneof("value") != "tensor" or plugin not in ("", "scalars"):
        return
    number = _tensor_scalar(value.tensor)
    if number is not None:
        out.add(value.tag, step, wall, number)


def _tensor_scalar(tensor: Any) -> float | None:
    """The value of a rank-0 (or one-element) numeric tensor, else None."""
    if tensor.tensor_shape.dim and any(d.size != 1 for d in tensor.tensor_shape.dim):
        return None
    if tensor.dtype in _FLOAT_TYPES and tensor.float_val:
        return float(tensor.float_val[0])
    if tensor.dtype == DT_DOUBLE and tensor.double_val:
        return float(tensor.double_val[0])
    if tensor.int_val:
        return float(tensor.int_val[0])
    packed = _PACKED.get(tensor.dtype)
    if tensor.tensor_content and packed is not None:  # the packed form (TF2 writes this)
        array = np.frombuffer(tensor.tensor_content, packed)
        if array.size == 1:
            return float(array[0])
    return None


def _hparams(content: bytes) -> dict[str, Any]:
    """The hyperparameters of a ``session_start_info`` (``add_hparams``), as Python values."""
    data = HParamsPluginData.FromString(content)
    if not data.HasField("session_start_info"):
        return {}
    found: dict[str, Any] = {}
    for name, value in data.session_start_info.hparams.items():
        kind = value.WhichOneof("kind")
        if kind is not None and kind not in ("null_value", "struct_value", "list_value"):
            found[name] = getattr(value, kind)
    return found
