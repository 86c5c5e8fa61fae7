"""A series' numpy columns and its decimation for drawing (``Series``, used by ``RunStore``).

Columns are as narrow as their values allow and grow without keeping old buffers resident;
decimation keeps the extremes of complete buckets between redraws. Figures: docs/ingest.md.
"""

from __future__ import annotations

import math
import mmap
from collections.abc import Sequence
from typing import Literal, NamedTuple

import numpy as np

from maou_tui.averaging import Averaging, AveragingKind, infer_averaging


class StepColumns(NamedTuple):
    """The position columns shared by every series a run of steps feeds."""

    steps: np.ndarray
    stages: np.ndarray
    epochs: np.ndarray
    batches: np.ndarray

    def where(self, keep: np.ndarray) -> StepColumns:
        return StepColumns(*(column[keep] for column in self))


#: Column attribute and its narrowest dtype. Integer columns widen to int64 the first time a
#: value does not fit (numpy's slice assignment would wrap it silently); values stay float64
#: because export and diagnostics print and compare them exactly. 19 bytes a point.
_COLUMNS = (
    ("_steps", np.int32),
    ("_values", np.float64),
    ("_stages", np.int8),
    ("_epochs", np.int16),
    ("_batches", np.int32),
)
_GROWTH = 1.5


#: Columns at least this big live in their own anonymous memory map (see ``_column``).
_MAPPED_BYTES = 1 << 20


def _column(capacity: int, dtype: type) -> np.ndarray:
    """An empty column. A big one is backed by its own ``mmap``, so the old buffer of a growth
    goes back to the system at once: from the C heap, freed buffers of a few MB stay resident
    between live ones (measured: +10 bytes a point at 10M points) and pages never written
    still cost nothing."""
    nbytes = capacity * np.dtype(dtype).itemsize
    if nbytes < _MAPPED_BYTES:
        return np.empty(capacity, dtype)
    return np.frombuffer(mmap.mmap(-1, nbytes), dtype)


class Series:
    """One named series: columns step, value (float64, NaN allowed), stage/epoch/batch (-1 where
    unknown), in the narrowest integer types that hold them (``_COLUMNS``). Appends go to a
    small Python list first and are moved into the numpy columns in bulk (on read, or every
    ``_FLUSH_AT`` points): a per-point numpy item assignment costs about ten times a list
    append. ``extend``'s column chunks wait likewise and are written in one go (a backfill
    brings thousands of ~50-point chunks, and each write checks every column's range).
    Capacity grows by half, so appending is O(1) and the copy on growth stays small;
    capacity not yet written is never touched, so it takes no resident memory."""

    __slots__ = (
        "_averaging",
        "_batches",
        "_buckets",
        "_chunked",
        "_chunks",
        "_epochs",
        "_n",
        "_pending",
        "_stages",
        "_steps",
        "_values",
        "declared_averaging",
        "name",
    )
    _FLUSH_AT = 4096
    # the columns, set through ``_COLUMNS`` in ``__init__``, ``_fit`` and ``_grow``
    _steps: np.ndarray
    _values: np.ndarray
    _stages: np.ndarray
    _epochs: np.ndarray
    _batches: np.ndarray

    def __init__(self, name: str, capacity: int = 256) -> None:
        self.name = name
        #: How each printed value was averaged when a reader knows it from the format (a
        #: producer that says so); None lets ``averaging`` infer it from the data.
        self.declared_averaging: AveragingKind | None = None
        self._n = 0
        self._pending: list[tuple[int, float, int, int, int]] = []
        self._chunks: list[tuple[StepColumns, np.ndarray]] = []  # before every pending point
        self._chunked = 0
        self._buckets: dict[int, BucketExtremes] = {}
        self._averaging: tuple[int, Averaging] | None = None  # (points it was inferred on, it)
        for attr, dtype in _COLUMNS:
            setattr(self, attr, np.empty(capacity, dtype))

    def __len__(self) -> int:
        return self._n + self._chunked + len(self._pending)

    def __repr__(self) -> str:
        return f"Series({self.name!r}, {len(self)} points)"

    @property
    def steps(self) -> np.ndarray:
        self._flush()
        return self._steps[: self._n]

    @property
    def values(self) -> np.ndarray:
        self._flush()
        return self._values[: self._n]

    @property
    def stages(self) -> np.ndarray:
        self._flush()
        return self._stages[: self._n]

    @property
    def epochs(self) -> np.ndarray:
        self._flush()
        return self._epochs[: self._n]

    @property
    def batches(self) -> np.ndarray:
        self._flush()
        return self._batches[: self._n]

    def _flush(self) -> None:
        if self._chunks:
            chunks, self._chunks, self._chunked = self._chunks, [], 0
            columns = [np.concatenate(parts) for parts in zip(*(c for c, _ in chunks), strict=True)]
            values = np.concatenate([v for _, v in chunks])
            self._write(columns[0], values, *columns[1:])
        if self._pending:
            pending, self._pending = self._pending, []
            self._write(*zip(*pending, strict=True))

    def _write(
        self,
        steps: Sequence[int] | np.ndarray,
        values: Sequence[float] | np.ndarray,
        stages: Sequence[int] | np.ndarray,
        epochs: Sequence[int] | np.ndarray,
        batches: Sequence[int] | np.ndarray,
    ) -> None:
        """Columns of equal length (sequences or arrays) after the points held."""
        n, m = self._n, len(values)
        if n + m > len(self._steps):
            self._grow(n + m)
        for (attr, _dtype), column in zip(
            _COLUMNS, (steps, values, stages, epochs, batches), strict=True
        ):
            if attr == "_values":
                self._values[n : n + m] = column
                continue
            incoming = np.asarray(column, np.int64)
            self._fit(attr, incoming)
            getattr(self, attr)[n : n + m] = incoming
        self._n = n + m

    def _fit(self, attr: str, incoming: np.ndarray) -> None:
        """Widen an integer column to int64 when ``incoming`` holds a value it cannot."""
        column = getattr(self, attr)
        info = np.iinfo(column.dtype)
        if incoming.size and (incoming.min() < info.min or incoming.max() > info.max):
            wide = _column(len(column), np.int64)
            wide[: self._n] = column[: self._n]
            setattr(self, attr, wide)

    def _grow(self, needed: int) -> None:
        """One column at a time, so the copy spike is one column's worth."""
        capacity = max(needed, int(_GROWTH * len(self._steps)))
        for attr, _dtype in _COLUMNS:
            old = getattr(self, attr)
            new = _column(capacity, old.dtype)
            new[: self._n] = old[: self._n]
            setattr(self, attr, new)
            del old, new

    def append(
        self, step: int, value: float, stage: int = -1, epoch: int = -1, batch: int = -1
    ) -> None:
        pending = self._pending
        pending.append((step, math.nan if value is None else value, stage, epoch, batch))
        if len(pending) >= self._FLUSH_AT:
            self._flush()

    def extend(self, columns: StepColumns, values: np.ndarray) -> None:
        """Append many points at once (``columns`` and ``values`` of equal length)."""
        if self._pending:
            self._flush()
        self._chunks.append((columns, values))
        self._chunked += len(values)
        if self._chunked >= self._FLUSH_AT * 16:
            self._flush()

    @property
    def averaging(self) -> Averaging:
        """How the values were averaged (this batch's, running mean since epoch start, EMA),
        inferred from the data (``maou_tui.averaging``); recomputed when points were added."""
        if self.declared_averaging is not None:
            return Averaging(self.declared_averaging, "format", "declared by its reader")
        n = len(self)
        if self._averaging is None or self._averaging[0] != n:
            found = infer_averaging(self.name, self.epochs, self.batches, self.values)
            self._averaging = (n, found)
        return self._averaging[1]

    def purge_from(self, step: int) -> int:
        """Drop every point at ``step`` or later (TensorBoard's purge: a run resumed from an
        earlier checkpoint logs those steps again); returns how many were dropped."""
        keep = step_index(self.steps, step, "left")
        dropped = self._n - keep
        if dropped:
            self._n = keep
            self._buckets.clear()  # their picks may point at dropped points
        return dropped

    def last(self) -> tuple[int, float] | None:
        if self._pending:
            step, value = self._pending[-1][:2]
            return int(step), float(value)
        if self._chunks:
            columns, values = self._chunks[-1]
            return int(columns.steps[-1]), float(values[-1])
        if self._n == 0:
            return None
        return int(self._steps[self._n - 1]), float(self._values[self._n - 1])

    def decimate(self, x_min: float, x_max: float, width: int) -> tuple[np.ndarray, np.ndarray]:
        """Points to draw ``[x_min, x_max]`` on ``width`` columns: each bucket's min and max (in
        step order) plus the last point. Buckets are ``stride`` steps wide, stride a power of two
        aligned to step 0, so points already drawn stay put as data is appended, and the
        extremes of complete buckets are kept between calls: a redraw costs O(width + points
        since the last one), not O(points)."""
        steps, values = self.steps, self.values
        lo, hi = step_index(steps, x_min, "left"), step_index(steps, x_max, "right")
        if hi - lo <= 2 * max(width, 1):
            return steps[lo:hi].astype(np.float64), values[lo:hi].copy()
        stride = _bucket_stride(x_max - x_min, width)
        cache = self._buckets.get(stride)
        if cache is None:
            if len(self._buckets) >= _CACHED_STRIDES:
                self._buckets.pop(next(iter(self._buckets)))
            cache = self._buckets[stride] = BucketExtremes(stride)
        keep = cache.picks(steps, values, lo, hi)
        return steps[keep].astype(np.float64), values[keep]


#: Strides whose bucket extremes a series keeps (whole run, zoomed stage, one spare).
_CACHED_STRIDES = 3
#: Points one pass of the bucket computation takes at most (bounds its temporaries).
_CHUNK = 1 << 18


class BucketExtremes:
    """The min/max picks of the complete buckets of one stride, extended as data arrives.

    A bucket is complete once a later step exists (steps only grow); its picks never change
    then, so only new points are ever scanned. Hand-written: no library decimates
    incrementally, and a full pass at 1M points cost ~35 ms a redraw."""

    def __init__(self, stride: int) -> None:
        self.stride = stride
        self._divisor = np.int64(stride)  # an int64 scalar: bucket numbers never wrap
        self._reset()

    def _reset(self) -> None:
        self._picks = np.empty(0, np.int64)  # point indices, sorted
        self._bucket_of = np.empty(0, np.int64)  # the bucket of each pick
        self._end = 0  # points before this index are in complete buckets already picked

    def picks(self, steps: np.ndarray, values: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """Indices to draw of ``steps[lo:hi]``: what one pass over that range would pick. The
        range's first bucket may be cut by ``lo`` and its last one is cut or still open: those
        two are picked afresh, the buckets between come from the cache."""
        self._extend(steps, values)
        stride, divisor = self.stride, self._divisor
        first, last = int(steps[lo]) // stride, int(steps[hi - 1]) // stride
        left_end = min(step_index(steps, (first + 1) * stride, "left"), hi)
        right_start = step_index(steps, last * stride, "left")
        right_start = max(left_end, min(right_start, self._end))
        between = np.searchsorted(self._bucket_of, [first + 1, last], "left")
        return np.unique(
            np.concatenate(
                (
                    _extremes(steps[lo:left_end] // divisor, values[lo:left_end]) + lo,
                    self._picks[between[0] : between[1]],
                    _extremes(steps[right_start:hi] // divisor, values[right_start:hi])
                    + right_start,
                    [hi - 1],
                )
            )
        )

    def _extend(self, steps: np.ndarray, values: np.ndarray) -> None:
        stride, n = self.stride, len(steps)
        if self._end and self._end < n and steps[self._end] < steps[self._end - 1]:
            self._reset()  # a step went back: start over rather than pick wrongly
        complete = step_index(steps, (int(steps[-1]) // stride) * stride, "left")
        new = [self._picks]
        start = self._end
        while start < complete:
            stop = min(start + _CHUNK, complete)
            if stop < complete:  # end the pass on a bucket boundary
                stop = step_index(steps, (int(steps[stop]) // stride) * stride, "left")
                if stop <= start:
                    stop = step_index(steps, (int(steps[start]) // stride + 1) * stride, "left")
            new.append(_extremes(steps[start:stop] // self._divisor, values[start:stop]) + start)
            start = stop
        if len(new) > 1:
            self._picks = np.concatenate(new)
            self._bucket_of = steps[self._picks].astype(np.int64) // stride
        self._end = max(self._end, complete)


def step_index(steps: np.ndarray, x: float, side: Literal["left", "right"]) -> int:
    """``np.searchsorted(steps, x, side)`` for an integer column and any number ``x``, in
    O(log n): a float or out-of-range ``x`` would make numpy convert the whole column first."""
    if not math.isfinite(x):
        return 0 if x < 0 else len(steps)
    target = math.ceil(x) if side == "left" else math.floor(x)
    info = np.iinfo(steps.dtype)
    if target < info.min:
        return 0
    if target > info.max:
        return len(steps)
    return int(np.searchsorted(steps, steps.dtype.type(target), side))


def _bucket_stride(span: float, width: int) -> int:
    """Smallest power of two >= span / width (at least 1)."""
    per_column = max(span / max(width, 1), 1.0)
    return 1 << math.ceil(math.log2(per_column))


def _extremes(bucket: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Indices of each bucket's first minimum and first maximum, sorted. NaN is ignored (a
    bucket of only NaN keeps its first point so a gap stays visible)."""
    if not len(values):
        return np.empty(0, np.int64)
    starts = np.concatenate(([0], np.flatnonzero(np.diff(bucket)) + 1))
    counts = np.diff(np.append(starts, len(values)))
    seg = np.repeat(np.arange(len(starts)), counts)
    with np.errstate(invalid="ignore"):
        lows = np.fmin.reduceat(values, starts)[seg]
        highs = np.fmax.reduceat(values, starts)[seg]
    picks = [starts[np.isnan(lows[starts])]]
    for extreme in (lows, highs):
        hits = np.flatnonzero(values == extreme)
        _, first = np.unique(seg[hits], return_index=True)
        picks.append(hits[first])
    return np.unique(np.concatenate(picks)).astype(np.int64)
