"""Append protocol events to ``events.jsonl`` cheaply and safely.

``emit`` numbers the event and queues it; a background timer serialises and writes the queue
every 100 ms, off the training thread (torch releases the GIL during its kernels, so this mostly
overlaps with compute).
Boundary events (stage/epoch ends, control, pause, ...) are written at once, so a reader sees
them promptly.
There is no fsync per step. A write error (a full disk) is logged once, the events of the
failed writes are dropped (never half a line), and writing resumes by itself when it works
again, with a ``warning`` event (kind ``events_lost``) saying which ``seq`` numbers are missing.
A file removed under us is given up on (logged once). Training goes on either way.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from maou_tui.protocol import EventBase, Step, TrainerWarning
from maou_tui.sdk.private_files import append_whole, open_private_append

log = logging.getLogger(__name__)

E = TypeVar("E", bound=EventBase)
#: An event queued by ``emit_later``: (seq, t, model class, fields).
_Deferred = tuple[int, float, type[EventBase], dict[str, Any]]

#: Event types after which the buffer is written immediately.
BOUNDARY_TYPES = frozenset(
    {
        "run_started",
        "stage_started",
        "epoch_end",
        "phase",
        "control",
        "paused",
        "resumed",
        "threshold_reached",
        "checkpoint_saved",
        "warning",
        "stage_completed",
        "run_finished",
        "lr_find_finished",
    }
)
FLUSH_INTERVAL_S = 0.1
#: How far back from the end of an existing file to look for the last ``seq``.
_TAIL_BYTES = 256 * 1024


@functools.cache
def _is_boundary(model: type[EventBase]) -> bool:
    """Cached: reading ``model_fields`` goes through pydantic's metaclass, slow in a hot loop."""
    return model.model_fields["type"].default in BOUNDARY_TYPES


def last_seq(path: Path) -> int | None:
    """The ``seq`` of the last complete event line in ``path`` (None for no events)."""
    if not path.is_file():
        return None
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - _TAIL_BYTES))
            tail = handle.read()
    except OSError:
        return None
    for line in reversed(tail.split(b"\n")):
        try:
            seq = json.loads(line).get("seq")
        except (ValueError, AttributeError):
            continue
        if isinstance(seq, int):
            return seq
    return None


class EventWriter:
    """Thread-safe, buffered JSONL writer that numbers events (``seq``) and stamps them (``t``)."""

    def __init__(self, path: str | os.PathLike[str], flush_interval: float = FLUSH_INTERVAL_S):
        self.path = Path(path)
        previous = last_seq(self.path)
        self._next_seq = 0 if previous is None else previous + 1
        self._fd = open_private_append(self.path)
        self._lock = threading.Lock()  # guards the queue and the numbering (held briefly)
        self._write_lock = threading.Lock()  # one writer at a time, batches in order
        self._pending: list[EventBase | _Deferred] = []
        self._reported_invalid = False
        self._failed = False  # the file was removed: given up for good
        self._gap: _Gap | None = None  # events lost to failed writes, not yet marked
        self._open = True
        self._closed = threading.Event()
        self._flusher = threading.Thread(
            target=self._flush_periodically,
            args=(flush_interval,),
            name="maou-event-flusher",
            daemon=True,
        )
        self._flusher.start()

    @property
    def failed(self) -> bool:
        """True once the file was removed under us; later events are dropped."""
        return self._failed

    @property
    def losing(self) -> bool:
        """True while writes fail (a full disk): events are dropped until one succeeds."""
        return self._gap is not None

    def emit(self, event: E) -> E:
        """Number, stamp and queue one event; returns it with ``seq`` and ``t`` filled in.

        The event may be serialised later: do not change it after emitting it.
        """
        with self._lock:
            if not self._open:
                raise RuntimeError(f"EventWriter for {self.path} is closed")
            # Straight into __dict__: pydantic's __setattr__ costs more than the rest of emit.
            event.__dict__["seq"] = self._next_seq
            event.__dict__["t"] = time.time()
            self._next_seq += 1
            if not self._failed:
                self._pending.append(event)
        if event.type in BOUNDARY_TYPES:
            self.flush()
        return event

    def emit_later(
        self, model: type[EventBase], fields: dict[str, Any], t: float | None = None
    ) -> int:
        """Queue an event given as its model class and fields; it is built when written.

        For per-step events of a hot loop: validating a model right after a forward/backward
        pass (cold CPU caches) costs several times what it costs in the timer's batch.
        ``t`` is the event's time (default: now), for a caller that read the clock already.
        Returns the event's ``seq``. Fields that do not validate drop the event (logged once).
        """
        stamp = time.time() if t is None else t
        with self._lock:
            if not self._open:  # a plain flag: Event.is_set() is a Python call on the hot path
                raise RuntimeError(f"EventWriter for {self.path} is closed")
            seq = self._next_seq
            self._next_seq = seq + 1
            if not self._failed:
                self._pending.append((seq, stamp, model, fields))
        if model is not Step and _is_boundary(model):
            self.flush()
        return seq

    def flush(self) -> None:
        """Write everything emitted so far (no fsync)."""
        with self._write_lock:
            with self._lock:
                batch, self._pending = self._pending, []
            self._write(batch)

    def close(self) -> None:
        """Write what is queued and close the file; safe to call twice."""
        with self._lock:
            if self._closed.is_set():
                return
            self._open = False
            self._closed.set()
        self._flusher.join()
        self.flush()
        with self._write_lock:
            with contextlib.suppress(OSError):
                os.fsync(self._fd)
            os.close(self._fd)

    def _flush_periodically(self, interval: float) -> None:
        while not self._closed.wait(interval):
            if self._pending:
                self.flush()

    def _write(self, batch: list[EventBase | _Deferred]) -> None:
        """Serialise and append a batch (and a gap marker after a loss); holds the write lock."""
        if not batch or self._failed:
            return
        text = "".join(line + "\n" for line in map(self._serialise, batch) if line is not None)
        if self._append(text, [_seq_of(entry) for entry in batch]) and self._gap is not None:
            gap, self._gap = self._gap, None
            marker = self._gap_marker(gap)
            if self._append(marker.model_dump_json() + "\n", [marker.seq]):
                log.warning("writing events to %s again; %s", self.path, gap.describe())
            elif self._gap is not None:  # the marker was lost too: it joins a new gap
                self._gap.merge(gap)

    def _append(self, text: str, seqs: list[int]) -> bool:
        """Append whole lines; on failure note the lost ``seqs``. True when written."""
        try:
            if os.fstat(self._fd).st_nlink == 0:
                raise FileNotFoundError(f"{self.path} was removed")
            append_whole(self._fd, text.encode("utf-8"))
        except FileNotFoundError as exc:
            self._give_up(exc)
            return False
        except OSError as exc:
            self._lose(seqs, exc)
            return False
        return True

    def _serialise(self, entry: EventBase | _Deferred) -> str | None:
        if isinstance(entry, EventBase):
            return entry.model_dump_json()
        seq, stamp, model, fields = entry
        try:
            return model(seq=seq, t=stamp, **fields).model_dump_json()
        except (ValidationError, TypeError) as exc:
            if not self._reported_invalid:
                self._reported_invalid = True
                log.error("dropped an invalid %s event (seq %d): %s", model.__name__, seq, exc)
            return None

    def _give_up(self, exc: OSError) -> None:
        self._failed = True
        log.error(
            "cannot write events to %s (%s); training continues without recording events",
            self.path,
            exc,
        )

    def _lose(self, seqs: list[int], exc: OSError) -> None:
        """Count the events of a failed write into the gap; report only a gap's first failure."""
        if self._gap is None:
            self._gap = _Gap(first=min(seqs), last=max(seqs), count=0, error=str(exc))
            log.error(
                "cannot write events to %s (%s); events are dropped until writing works again, "
                "then the gap is marked; training continues",
                self.path,
                exc,
            )
        self._gap.last = max(self._gap.last, *seqs)
        self._gap.count += len(seqs)

    def _gap_marker(self, gap: _Gap) -> TrainerWarning:
        """The ``warning`` event that records a gap, numbered after everything queued so far."""
        with self._lock:
            seq = self._next_seq
            self._next_seq += 1
        return TrainerWarning(seq=seq, t=time.time(), kind="events_lost", message=gap.describe())


@dataclass
class _Gap:
    """Events dropped by failed writes: their ``seq`` range and count, and the first error."""

    first: int
    last: int
    count: int
    error: str

    def describe(self) -> str:
        return f"{self.count} events (seq {self.first}..{self.last}) were lost: {self.error}"

    def merge(self, earlier: _Gap) -> None:
        self.first, self.count = earlier.first, self.count + earlier.count
        self.last, self.error = max(self.last, earlier.last), earlier.error


def _seq_of(entry: EventBase | _Deferred) -> int:
    return entry.seq if isinstance(entry, EventBase) else entry[0]
