"""Stage 3 policy targets stored sparsely: per row, the (label, weight) pairs that are not zero.

A dense (N, 1496) float32 target costs 6 KB per position (6 GB for a 1M-record HCPE file),
yet an HCPE row has one non-zero label and an aggregated self-play row a handful. CSR keeps
``indptr`` (N + 1 offsets), ``labels`` and ``weights`` (one entry per pair): about 14 bytes
per HCPE row. ``scipy.sparse`` would add a dependency for three arrays and a row gather;
the trainer's device copy (``trainer/data.py``) densifies one batch at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trainer.shogi.labels import NUM_MOVE_LABELS


@dataclass(frozen=True, eq=False)
class SparsePolicy:
    """Rows of (label, weight) pairs in CSR form; row ``i`` is ``indptr[i]:indptr[i + 1]``.

    ``indptr`` (N + 1,) int64, ``labels`` (nnz,) int16 in [0, 1496), ``weights`` (nnz,) float32.
    Indexing with an index array or a boolean mask gives the rows as a new SparsePolicy.
    """

    indptr: np.ndarray
    labels: np.ndarray
    weights: np.ndarray

    def __post_init__(self) -> None:
        pairs = len(self.labels)
        if self.indptr[0] != 0 or self.indptr[-1] != pairs or len(self.weights) != pairs:
            raise ValueError("SparsePolicy indptr does not match its labels and weights")

    @classmethod
    def one_hot(cls, labels: np.ndarray) -> SparsePolicy:
        """One pair per row, weight 1: the target of an HCPE record's ``bestMove16``."""
        return cls(
            indptr=np.arange(len(labels) + 1, dtype=np.int64),
            labels=np.asarray(labels, dtype=np.int16),
            weights=np.ones(len(labels), dtype=np.float32),
        )

    @classmethod
    def from_visits(cls, num_rows: int, rows: np.ndarray, labels: np.ndarray) -> SparsePolicy:
        """Per row, how often each label was played, as frequencies summing to 1.

        Weights are float32 ``count / row_total``, bit for bit what normalising a dense
        float32 count matrix gives.
        """
        keys = np.unique(np.asarray(rows, np.int64) * NUM_MOVE_LABELS + labels, return_counts=True)
        pair_rows, pair_labels = np.divmod(keys[0], NUM_MOVE_LABELS)
        counts = keys[1].astype(np.float32)
        row_totals = np.bincount(pair_rows, weights=keys[1], minlength=num_rows)
        indptr = np.zeros(num_rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(pair_rows, minlength=num_rows), out=indptr[1:])
        return cls(
            indptr=indptr,
            labels=pair_labels.astype(np.int16),
            weights=counts / row_totals[pair_rows].astype(np.float32),
        )

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def __getitem__(self, idx: np.ndarray) -> SparsePolicy:
        rows = np.arange(len(self))[idx]
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        counts = ends - starts
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        # Entry k of the new rows comes from starts[row] + (k - indptr[row]).
        pairs = np.repeat(starts - indptr[:-1], counts) + np.arange(indptr[-1])
        return SparsePolicy(indptr, self.labels[pairs], self.weights[pairs])

    @property
    def max_pairs(self) -> int:
        """The most pairs any row has (the width a batch gather needs)."""
        return int(np.diff(self.indptr).max(initial=0))

    @property
    def nbytes(self) -> int:
        return self.indptr.nbytes + self.labels.nbytes + self.weights.nbytes

    def to_dense(self) -> np.ndarray:
        """(N, 1496) float32; for tests and small data only (6 KB per row)."""
        dense = np.zeros((len(self), NUM_MOVE_LABELS), dtype=np.float32)
        dense[np.repeat(np.arange(len(self)), np.diff(self.indptr)), self.labels] = self.weights
        return dense
