"""The run on screen: everything that belongs to it, made new when the user switches runs.

The app keeps one ``RunSession``; a switch closes the old one's readers and control link and
builds another, so no field of the previous run survives by being forgotten in a reset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from maou_tui.app.control_link import ControlLink
from maou_tui.app.data import EventFeed, RunTarget
from maou_tui.app.widgets.status import StatusFacts
from maou_tui.layout import TRAINER_OUTPUT
from maou_tui.store import RunStore

if TYPE_CHECKING:
    from maou_tui.app.history import HistoryReader
    from maou_tui.diagnose import Diagnoser
    from maou_tui.ingest import Source
    from maou_tui.ingest.line_index import LineIndex
    from maou_tui.ingest.log_watch import LogGrowth


@dataclass
class RunSession:
    """Target, store, diagnoser, readers and control link of one run."""

    target: RunTarget
    link: ControlLink
    clock: Callable[[], float]
    #: the process ``run`` started (known before it writes trainer.pid); None after a switch
    trainer_pid: int | None = None
    store: RunStore = field(default_factory=RunStore)
    facts: StatusFacts = field(default_factory=StatusFacts)
    feed: EventFeed | None = None
    #: where the lines of the run's log start (built as the tailer reports the log's growth)
    log_index: LineIndex | None = None
    #: reads a big history in a thread worker until its store replaces the preview
    history: HistoryReader | None = None
    feed_error_shown: str | None = None
    finish_reported: bool = False
    history_drawn: bool = False
    _diagnoser: Diagnoser | None = None

    @property
    def diagnoser(self) -> Diagnoser:
        """The store's diagnoser, made on first use (its import is not needed for a frame)."""
        if self._diagnoser is None:
            from maou_tui.diagnose import Diagnoser

            self._diagnoser = Diagnoser(self.store, clock=self.clock)
        return self._diagnoser

    def start_readers(
        self,
        on_events: Callable[[], object],
        on_log: Callable[[LogGrowth], object],
        source: Source | None = None,
    ) -> None:
        """Start the run's one tailer: its events, and the growth of its log; with
        ``source`` (a history just read), from where that reader stopped."""
        from maou_tui.ingest.log_watch import LogWatch  # see EventFeed: not needed for a frame

        log_watch = None
        if self.target.log_path is not None:
            run_dir = self.target.run_dir
            fallback = run_dir / TRAINER_OUTPUT if run_dir is not None else None
            log_watch = LogWatch(self.target.log_path, fallback)
        self.feed = EventFeed(self.target.source, on_events, log_watch, on_log, reader=source)
        self.feed.start()

    def adopt_store(self, store: RunStore, diagnoser: Diagnoser | None = None) -> None:
        """Show ``store`` from now on (a history's preview, then the whole of it) with
        ``diagnoser`` (one that already read it), or a new one made on first use."""
        self.store = store
        self._diagnoser = diagnoser

    def stop_readers(self) -> None:
        if self.history is not None:
            self.history.stop()
        if self.feed is not None:
            self.feed.stop()
        if self.log_index is not None:
            self.log_index.close()
        self.feed = self.log_index = self.history = None

    def index_log(self, growth: LogGrowth) -> bool:
        """Take a growth of the log (on the UI thread): a new file gets a new index. True when
        an index scan must be started (``LineIndex.grow_to``)."""
        from maou_tui.ingest.line_index import LineIndex

        if growth.restarted or self.log_index is None:
            if self.log_index is not None:
                self.log_index.close()
            self.log_index = LineIndex(growth.path)
        return self.log_index.grow_to(growth.size)
