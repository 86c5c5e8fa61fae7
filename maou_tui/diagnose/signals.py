"""Pure numpy helpers the detectors share: block means and cumulative-mean inversion.

Detectors never look at single batches: per-batch loss is noisy, so points are grouped into
blocks (a span of steps, with a minimum number of points) and the detectors read the block means,
their spread and the LR in force. Blocks are appended as points arrive, so a live run and a whole
log give the same blocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Points a block should hold: with fewer, its spread (the noise level the oscillation test
#: compares with) means little. A maou log prints a point every 50 batches, so there the block
#: span grows to cover this many points.
MIN_POINTS_PER_BLOCK = 4

#: Blocks per epoch when steps_per_epoch is known: 16 gives a curve detailed enough to see an
#: oscillation within an epoch while each block still averages several batches.
BLOCKS_PER_EPOCH = 16

#: Block span in steps when the epoch length is unknown (a producer without StageStarted
#: details), and the bounds of the span otherwise.
DEFAULT_BLOCK_STEPS = 8
MIN_BLOCK_STEPS = 8
MAX_BLOCK_STEPS = 256

#: Points seen before the block span is fixed (their spacing tells a sparse log from events).
SPACING_SAMPLE = 8


def block_span(steps_per_epoch: int | None, spacing: float = 1.0) -> int:
    """Steps per block: a sixteenth of an epoch within bounds, and at least
    MIN_POINTS_PER_BLOCK points at the source's spacing."""
    if not steps_per_epoch or steps_per_epoch <= 0:
        span = DEFAULT_BLOCK_STEPS
    else:
        span = min(MAX_BLOCK_STEPS, max(MIN_BLOCK_STEPS, round(steps_per_epoch / BLOCKS_PER_EPOCH)))
    return int(max(span, round(MIN_POINTS_PER_BLOCK * max(spacing, 1.0))))


@dataclass
class Blocks:
    """Block summaries of one stage's per-batch loss, grown as points arrive.

    Block 0 is the stage's first point alone (the untrained model's loss).
    Block k covers global steps [origin + k·span, origin + (k+1)·span): fixed boundaries, so
    feeding the points in one call or in many gives the same blocks. A block is complete when a
    point past its end arrives (or at ``flush``). Non-finite values are counted, not averaged.
    """

    origin: int
    steps_per_epoch: int | None = None
    span: int = 0
    columns: dict[str, list] = field(
        default_factory=lambda: {
            k: [] for k in ("start", "end", "mean", "std", "max", "count", "epoch", "lr")
        }
    )
    first_nonfinite: int | None = None
    nonfinite_count: int = 0
    _pending: list[np.ndarray] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.columns["mean"])

    def add(
        self, steps: np.ndarray, values: np.ndarray, epochs: np.ndarray, lrs: np.ndarray
    ) -> int:
        """Feed points in step order; returns how many blocks were completed."""
        columns = (steps, values, epochs, lrs)
        bad = ~np.isfinite(values)
        if bad.any():
            self.nonfinite_count += int(bad.sum())
            if self.first_nonfinite is None:
                self.first_nonfinite = int(steps[bad][0])
            columns = tuple(column[~bad] for column in columns)
        chunk = np.empty((4, len(columns[0])))  # one copy, converted as it is written
        for row, column in zip(chunk, columns, strict=True):
            row[:] = column
        if not len(self) and not self._pending and chunk.shape[1]:
            # The first point is a block of its own: the loss of the untrained model, the
            # reference an explosion in the very first batches is measured against.
            self._close(chunk[:, :1], np.zeros(1))
            chunk = chunk[:, 1:]
        self._pending.append(chunk)
        pending = self._pending[0] if len(self._pending) == 1 else np.hstack(self._pending)
        if not self.span:
            if pending.shape[1] < SPACING_SAMPLE:
                self._pending = [pending]
                return 0
            spacing = float(np.median(np.diff(pending[0, :SPACING_SAMPLE])))
            self.span = block_span(self.steps_per_epoch, spacing)
        index = _block_index(pending[0], self.origin, self.span)
        if index.size and np.all(index[1:] >= index[:-1]):  # in step order: done is a prefix
            cut = int(np.searchsorted(index, index[-1]))
            self._pending = [pending[:, cut:]]
            return self._close(pending[:, :cut], index[:cut])
        done = index < index[-1] if index.size else index.astype(bool)
        self._pending = [pending[:, ~done]]
        return self._close(pending[:, done], index[done])

    def flush(self) -> int:
        """Close the partial block (the stage or the file ended); returns how many closed."""
        pending = np.concatenate(self._pending, axis=1) if self._pending else np.zeros((4, 0))
        self._pending = []
        if not pending.shape[1]:
            return 0
        span = self.span or block_span(self.steps_per_epoch)
        self.span = span
        return self._close(pending, _block_index(pending[0], self.origin, span))

    def _close(self, points: np.ndarray, index: np.ndarray) -> int:
        """Summarise each run of equal ``index`` as one block, all blocks at once (a 3M-point
        log has tens of thousands of blocks: numpy calls per block were most of its diagnosis)."""
        if not points.shape[1]:
            return 0
        starts = np.concatenate(([0], np.flatnonzero(np.diff(index)) + 1))
        counts = np.diff(np.append(starts, index.size))
        steps, values, epochs, lrs = points
        means = np.add.reduceat(values, starts) / counts
        deviations = values - np.repeat(means, counts)
        lr_known = np.isfinite(lrs)
        lr_counts = np.add.reduceat(lr_known.astype(np.int64), starts)
        lr_sums = np.add.reduceat(np.where(lr_known, lrs, 0.0), starts)
        ends = starts + counts - 1
        summary = {
            "start": steps[starts].astype(np.int64),
            "end": steps[ends].astype(np.int64),
            "mean": means,
            "std": np.sqrt(np.add.reduceat(deviations * deviations, starts) / counts),
            "max": np.maximum.reduceat(values, starts),
            "count": counts,
            "epoch": epochs[ends].astype(np.int64),
            "lr": np.divide(
                lr_sums, lr_counts, out=np.full(starts.size, np.nan), where=lr_counts > 0
            ),
        }
        for key, column in summary.items():
            self.columns[key].extend(column.tolist())
        return len(starts)

    def arrays(self) -> dict[str, np.ndarray]:
        """The completed blocks as numpy arrays."""
        ints = {"start", "end", "count", "epoch"}
        return {
            k: np.asarray(v, dtype=np.int64 if k in ints else np.float64)
            for k, v in self.columns.items()
        }


def _block_index(steps: np.ndarray, origin: int, span: int) -> np.ndarray:
    """Each step's block number. The steps are whole numbers held as floats; integer division
    gives the same numbers ~8x faster than float floor division."""
    return (steps.astype(np.int64) - origin) // span


def batch_counts(batches: np.ndarray) -> np.ndarray:
    """Batches done since epoch start at each point (1 for the first batch).

    A producer may count batches from 0 or from 1; the smallest batch index of an epoch with a
    point at its start tells which (0 means zero-based).
    """
    counts = batches.astype(np.float64)
    zero_based = batches.size > 0 and int(batches.min()) == 0
    return counts + 1.0 if zero_based else counts


def per_batch_from_cumulative(
    batches: np.ndarray, epochs: np.ndarray, cumulative: np.ndarray
) -> np.ndarray:
    """Invert a running mean since epoch start into the mean of the batches since the last point.

    With points at batch counts t_prev < t of one epoch: b = (t·m_t − t_prev·m_prev)/(t − t_prev);
    with consecutive batches this is b_t = t·m_t − (t−1)·m_{t−1}. The first point of an epoch is
    the mean of its first t batches, m_t itself. Points whose batch count did not grow (a repeated
    line) give NaN.
    """
    t = batch_counts(batches)
    out = np.array(cumulative, dtype=np.float64)  # a copy
    if out.size < 2:
        return out
    dt = t[1:] - t[:-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        inverted = (t[1:] * cumulative[1:] - t[:-1] * cumulative[:-1]) / dt
    inverted[dt <= 0] = np.nan
    np.copyto(out[1:], inverted, where=epochs[1:] == epochs[:-1])
    return out


#: A series is cumulative when its bumpiness (second differences, which ignore a steady trend)
#: late in an epoch is at most this fraction of the bumpiness early in it: a running mean's
#: bumps shrink like 1/t (to a few percent by the end of an epoch), while per-batch noise stays
#: about the same size.
CUMULATIVE_SHRINK_RATIO = 0.25

#: Points an epoch needs before its change pattern says anything (a maou-format log of this
#: project's trainer prints ~12 per epoch).
CUMULATIVE_MIN_POINTS = 10


#: Inverting a series that is NOT a running mean multiplies its noise by t, so the inverted
#: values late in an epoch scatter many times more than early ones; inverting a real running
#: mean gives per-batch values of about constant scatter. Above this ratio: not cumulative.
CUMULATIVE_MAX_INVERTED_SPREAD_RATIO = 3.0


def _inverted_spread_ratio(batches: np.ndarray, epochs: np.ndarray, values: np.ndarray) -> float:
    inverted = per_batch_from_cumulative(batches, epochs, values)
    ratios = []
    for epoch in np.unique(epochs):
        v = inverted[(epochs == epoch) & np.isfinite(inverted)]
        if v.size < CUMULATIVE_MIN_POINTS:
            continue
        quarter = max(2, v.size // 4)
        early, late = float(np.std(v[:quarter])), float(np.std(v[-quarter:]))
        ratios.append(late / early if early > 0 else np.inf)
    return float(np.median(ratios)) if ratios else np.inf


def looks_cumulative(batches: np.ndarray, epochs: np.ndarray, values: np.ndarray) -> bool:
    """Whether a series behaves like a running mean since epoch start: its bumps shrink along
    the epoch (CUMULATIVE_SHRINK_RATIO) and inverting it gives plausible per-batch values
    (CUMULATIVE_MAX_INVERTED_SPREAD_RATIO). A wrong "yes" would turn noise into garbage, so
    both must hold."""
    if _inverted_spread_ratio(batches, epochs, values) > CUMULATIVE_MAX_INVERTED_SPREAD_RATIO:
        return False
    votes: list[bool] = []
    for epoch in np.unique(epochs):
        mask = (epochs == epoch) & np.isfinite(values)
        v = values[mask]
        if v.size < CUMULATIVE_MIN_POINTS:
            continue
        t = batch_counts(batches)[mask]
        steps = np.maximum(np.diff(t), 1.0)
        change = np.abs(np.diff(np.diff(v) / steps))
        quarter = max(1, change.size // 4)
        early = float(np.median(change[:quarter]))
        late = float(np.median(change[-quarter:]))
        if early <= 0:
            continue
        votes.append(late <= CUMULATIVE_SHRINK_RATIO * early)
    return bool(votes) and sum(votes) > len(votes) / 2


#: Points of the first epoch the decision reads: enough for both tests, few enough that a
#: log with long epochs is decided early. Live and offline read the same points.
CUMULATIVE_DECISION_POINTS = 40

#: A running mean since epoch start, read at the epoch's last batch, IS the epoch's mean loss
#: (maou prints both with 4 decimals: "Batch 35/35: Loss=0.9141" then "Epoch 1/6: Loss=0.9141"),
#: while a per-batch value there differs from the mean by the batch noise (percents). Equal
#: within this (print rounding, relative to the value, plus an absolute 1e-4) means cumulative.
#: This test decides where the shape tests cannot: a flat loss (a network stuck at the base
#: rate) whose running mean barely moves, so its bumps cannot be seen shrinking.
CUMULATIVE_END_MATCH_ABS = 1e-4
CUMULATIVE_END_MATCH_REL = 1e-3

#: Losses are not negative (cross entropy, BCE, MSE): inverting a series that was not a running
#: mean multiplies its noise by t and soon gives negative "per-batch" values. Below this
#: fraction of the series' median (room for print rounding), the series was per-batch.
CUMULATIVE_MIN_INVERTED_OF_MEDIAN = -0.05


@dataclass(frozen=True)
class EpochEndLoss:
    """The first epoch's reported mean loss and the global step it was reported at."""

    step: int
    loss: float


def decide_cumulative(
    batches: np.ndarray,
    epochs: np.ndarray,
    values: np.ndarray,
    final: bool = False,
    steps: np.ndarray | None = None,
    epoch_end: EpochEndLoss | None = None,
) -> bool | None:
    """Whether a stage's loss series is a running mean, judged on its first epoch only (its first
    CUMULATIVE_DECISION_POINTS points), so that a live tail and a whole file decide alike.
    None until that epoch has them or has ended (``final``: the stage ended). When the whole
    first epoch is in the window and its EpochEnd came at its last point, the two values decide
    (CUMULATIVE_END_MATCH_*); else the shape tests (``looks_cumulative``) do."""
    if values.size == 0:
        return None if not final else False
    first = epochs == epochs[0]
    ended = final or not first.all()
    n = int(first.sum())
    if n < CUMULATIVE_DECISION_POINTS and not ended:
        return None
    keep = np.flatnonzero(first)[:CUMULATIVE_DECISION_POINTS]
    b, e, v = batches[keep], epochs[keep], values[keep]
    if _inverts_negative(b, e, v):
        return False
    if n <= CUMULATIVE_DECISION_POINTS and steps is not None and epoch_end is not None:
        last = int(keep[-1])
        if int(steps[last]) == epoch_end.step and np.isfinite(values[last]):
            gap = abs(float(values[last]) - epoch_end.loss)
            return gap <= CUMULATIVE_END_MATCH_ABS + CUMULATIVE_END_MATCH_REL * abs(epoch_end.loss)
    return looks_cumulative(b, e, v)


def _inverts_negative(batches: np.ndarray, epochs: np.ndarray, values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    if finite.size < 2 or float(finite.min()) < 0:  # a series with negative values is no loss
        return False
    inverted = per_batch_from_cumulative(batches, epochs, values)
    inverted = inverted[np.isfinite(inverted)]
    floor = CUMULATIVE_MIN_INVERTED_OF_MEDIAN * float(np.median(finite))
    return bool(inverted.size) and float(inverted.min()) < floor
