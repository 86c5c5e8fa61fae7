"""Global steps for a log that has none.

Rule (the same as the trainer's ``global_step``: training batches completed in the whole run,
counted from 1): batch ``n`` of an epoch is ``offset + n``, where ``offset`` is the sum of the
lengths of every epoch before it, in this stage and in all earlier stages. An epoch's length is
learned from the ``n/total`` of its tqdm bar or the ``B/N`` of the guide's batch lines; failing
those, from the stage's ``Streaming Training: N batches`` or scheduler lines
(``total_steps / max_epochs``), then the stage's previous epoch; never less than the largest
batch seen in it; else it counts 1
(a log with only epoch lines then has one step per epoch). An epoch's end is at
``offset + length``.
"""

from __future__ import annotations


class EpochClock:
    """Tracks the open epoch of the current stage and the steps completed before it."""

    def __init__(self) -> None:
        self.offset = 0  # steps completed before the open epoch
        self.epoch = 0  # number of the open (or last closed) epoch in this stage; 0 = none yet
        self.is_open = False
        self.length: int | None = None  # length of the open epoch, when the log says it
        self.max_batch = 0
        self.stage_epoch_length: int | None = None  # from stage-level lines
        self.last_length: int | None = None  # of the last closed epoch of this stage

    def new_stage(self) -> None:
        self.close()
        self.epoch = 0
        self.stage_epoch_length = None
        self.last_length = None

    def open(self, epoch: int | None = None, length: int | None = None) -> None:
        """Start an epoch (``epoch`` None: the next one), closing the open one first."""
        self.close()
        self.epoch = self.epoch + 1 if epoch is None else epoch
        self.is_open = True
        self.length = length
        self.max_batch = 0

    def ensure(self, epoch: int, length: int | None = None) -> None:
        """Make ``epoch`` the open epoch unless it already is."""
        if not (self.is_open and self.epoch == epoch):
            self.open(epoch, length)
        elif length is not None and self.length is None:
            self.length = length

    def learn_length(self, length: int) -> None:
        """The open epoch's length, as a bar's ``n/total`` or a batch line's ``B/N`` says it;
        the first such says it."""
        if self.length is None:
            self.length = length

    def see_batches(self, largest: int) -> None:
        """Batches up to ``largest`` of the open epoch were read (in bulk)."""
        if largest > self.max_batch:
            self.max_batch = largest

    def close(self) -> int:
        """End the open epoch (if any); return the global step at its end."""
        if self.is_open:
            guess = self.length or self.stage_epoch_length or self.last_length or 0
            length = max(guess, self.max_batch)  # never shorter than its largest batch
            self.last_length = length or None
            self.offset += length or 1
            self.is_open = False
        return self.offset

    def end_of(self, epoch: int) -> int:
        """Global step at the end of ``epoch`` of this stage, closing it if it is open."""
        if epoch != self.epoch:
            self.ensure(epoch)
        return self.close()

    def step_of(self, batch: int) -> int:
        if batch > self.max_batch:
            self.max_batch = batch
        return self.offset + batch
