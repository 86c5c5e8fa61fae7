"""``MaouApp``: shows one run (live or finished, ours or a foreign log) and steers it.

Data path: reader threads buffer events → a coalescing message → the UI thread applies them to
one ``RunStore`` in bounded slices → a timer redraws at most ~8 times a second when the store's
version changed. Control keys run the control client in async workers; quitting never stops
training.

Start-up: only what the first frame draws is imported with this module (textual, plotext, the
store); the diagnoser, the control client, the event readers, dialogs and the run picker are
imported on first use, and the readers start after the first frame (issue 5: first frame <= 1 s).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from textual import on
from textual.app import App

from maou_tui.app import panel_nav, view_memory
from maou_tui.app.chart_choice import (
    ChartChoices,
    RunKind,
    load_chart_choices,
    save_chart_choice,
)
from maou_tui.app.chart_view import ChartView, move_cursor, pan, zoom
from maou_tui.app.commands import MaouCommands
from maou_tui.app.control_link import ControlLink
from maou_tui.app.data import RunTarget, resolve_target
from maou_tui.app.keys import BINDING_IDS, BINDINGS
from maou_tui.app.messages import (
    EventsPending,
    HistoryPreview,
    HistoryProgressed,
    HistoryRead,
    LogGrown,
    LogIndexed,
)
from maou_tui.app.run_kind import impossible, stop_label, stop_question
from maou_tui.app.screens.main import MainScreen
from maou_tui.app.session import RunSession
from maou_tui.app.smoothing import step_level
from maou_tui.app.themes import DEFAULT_THEME, load_themes
from maou_tui.app.widgets.chart_grid import page_count
from maou_tui.app.widgets.charts import Y_AXIS_COLUMNS, RunChart
from maou_tui.app.widgets.log_viewer import LogViewer
from maou_tui.app.widgets.status import StatusFacts, last_value
from maou_tui.launch import died_before_start
from maou_tui.layout import LOG_FILE
from maou_tui.processes import last_line, last_output_line, pid_alive, read_pid
from maou_tui.settings import LoadedSettings, load_settings
from maou_tui.store import RunStore

if TYPE_CHECKING:
    from maou_tui.app.dialogs import ThresholdChoice
    from maou_tui.app.history import HistoryProgress
    from maou_tui.diagnose import Diagnoser
    from maou_tui.ingest import Source
    from maou_tui.ingest.line_index import LineIndex

Mode = Literal["run", "attach", "watch"]
REDRAW_INTERVAL_S = 0.125
#: While data streams in, the status panel (and the log pane with it) repaints at most this
#: often (issue 20: the app's CPU while tailing is mostly Textual repainting). Tailing 1,000
#: lines/s, bench/app_scale.py tail: 13.8-14.7 % of a core at 0.25 s, 9.2-11.0 % at 0.5 s.
#: A change after a quiet spell still shows at the next tick.
STATUS_INTERVAL_S = 0.5
#: plotext rebuilds a chart in tens of ms: charts redraw at most this often, and never more
#: often than CHART_LOAD_FACTOR times their last build time (charts take <= 1/20 of a CPU).
CHART_INTERVAL_S = 1.0
CHART_LOAD_FACTOR = 20.0
DIAGNOSE_INTERVAL_S = 1.0
#: How often the trainer's process is checked; while it lives, the diagnoser also looks this
#: often when no data came (a stall is the absence of new steps).
LIVENESS_INTERVAL_S = 2.0
#: The status panel's progress line until the history reader reports.
HISTORY_STARTED = "reading history: 0 %"
#: Events applied per UI-thread slice; the rest waits for the next slice (history backfill).
APPLY_SLICE = 2000


class MaouApp(App):
    """The maou-tui terminal app; see the module docstring."""

    CSS_PATH = "app.tcss"
    TITLE = "maou-tui"
    BINDINGS = BINDINGS
    COMMANDS = App.COMMANDS | {MaouCommands}

    def __init__(
        self,
        target: Path,
        *,
        mode: Mode,
        theme: str | None = None,
        runs_root: Path | None = None,
        trainer_pid: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``trainer_pid``: the process ``run`` started (known before it writes trainer.pid);
        ``clock``: the diagnoser's time source (stall findings), replaceable in tests.
        The settings file (``maou_tui.settings``) gives the keymap and the view to open with;
        a run shown before opens with the view it was left in (``view_memory``)."""
        super().__init__()
        self.mode = mode
        self.clock = clock
        self.settings: LoadedSettings = load_settings(binding_ids=BINDING_IDS)
        self.requested_theme = theme or self.settings.settings.theme or DEFAULT_THEME
        self.runs_root = runs_root
        self.session = self._new_session(resolve_target(Path(target)), trainer_pid)
        self.view = self._opening_view()
        self.chart_choices = ChartChoices()
        self.theme_names: list[str] = []
        self._drawn_version = -1
        self._view_dirty = True
        self._diagnosed_at = 0.0
        self._diagnosed_version = -1
        self._status_version = -1
        self._status_at = 0.0
        self._log_shown_at = 0.0
        self._log_catch_up = False
        #: The log grew since the main screen's pane last showed it.
        self._log_pane_stale = False
        #: ``_log_index_state`` when the main screen's log pane was last refreshed.
        self._log_shown: tuple[int, int, bool] | None = None
        self._charts_at = 0.0
        self._history_note = ""

    # ------------------------------------------------------------------ start and stop

    def on_mount(self) -> None:
        self.set_keymap(self.settings.settings.keymap)
        for problem in self.settings.problems:
            self.notify(problem, title="settings", severity="warning", timeout=12)
        self._load_themes()
        self.chart_choices, error = load_chart_choices()
        if error is not None:
            self.notify(error, title="settings", severity="warning", timeout=8)
        self.theme_changed_signal.subscribe(self, self._on_theme_changed)
        self.call_after_refresh(self._start_readers)
        self.call_after_refresh(self._note_control_state)
        self.set_interval(REDRAW_INTERVAL_S, self._redraw_if_changed)
        if self.mode != "watch" or self.target.run_dir is not None:
            self.set_interval(LIVENESS_INTERVAL_S, self._check_trainer_alive)

    async def on_unmount(self) -> None:
        self._stop_readers()
        await self.link.close()

    def _new_session(self, target: RunTarget, trainer_pid: int | None) -> RunSession:
        link = ControlLink(target.run_dir, self.notify, watch=self.mode == "watch")
        return RunSession(target, link, self.clock, trainer_pid)

    def _start_readers(self) -> None:
        from maou_tui.app.history import progressive_file

        big = progressive_file(self.target)
        if big is None:
            self._start_feed()
        else:
            self._read_history(big)

    def _start_feed(self, source: Source | None = None) -> None:
        """The run's tailer; with ``source`` (a history just read), from where it stopped."""
        session = self.session
        session.start_readers(
            lambda: self.post_message(EventsPending()),
            lambda growth: self.post_message(LogGrown(growth, session)),
            source,
        )

    def _read_history(self, path: Path) -> None:
        """A big file: its tail first, the whole of it behind, in a thread worker (see
        ``history``); the messages it posts are dropped once another run is on screen."""
        from maou_tui.app.history import HistoryReader

        def preview(store: RunStore, note: str) -> None:
            self.post_message(HistoryPreview(reader, store, note))

        def progress(line: HistoryProgress) -> None:
            self.post_message(HistoryProgressed(reader, line.line()))

        def whole(store: RunStore, diagnoser: Diagnoser, source: Source) -> None:
            self.post_message(HistoryRead(reader, store, diagnoser, source))

        reader = HistoryReader(path, preview, progress, whole, self.clock)
        self.session.history = reader
        self.facts.history = HISTORY_STARTED
        self.run_worker(reader.run, thread=True, group="history", exit_on_error=False)

    def _stop_readers(self) -> None:
        self.session.stop_readers()

    # The run on screen's parts, as the rest of the app reads them.
    @property
    def target(self) -> RunTarget:
        return self.session.target

    @property
    def store(self) -> RunStore:
        return self.session.store

    @property
    def facts(self) -> StatusFacts:
        return self.session.facts

    @property
    def link(self) -> ControlLink:
        return self.session.link

    @property
    def trainer_pid(self) -> int | None:
        return self.session.trainer_pid

    def get_default_screen(self) -> MainScreen:
        self.main = MainScreen(self.store, self.target.label)
        return self.main

    @property
    def diagnoser(self) -> Diagnoser:
        """The store's diagnoser, made on first use (see the module docstring)."""
        return self.session.diagnoser

    @property
    def drawn_version(self) -> int:
        """The store version last drawn on screen (-1 before the first frame)."""
        return self._drawn_version

    @property
    def up_to_date(self) -> bool:
        """True when every event read so far is applied, diagnosed and on screen, and the log
        pane shows the whole log read so far."""
        if self.session.feed is None:
            return False  # not reading yet (or any more)
        version = self.store.version
        log = self.session.log_index
        return (
            self.session.feed.pending == 0
            and self._drawn_version == self._diagnosed_version == version
            and (log is None or (log.complete and not self._log_pane_stale))
        )

    # ------------------------------------------------------------------ themes

    def _load_themes(self) -> None:
        catalogue = load_themes()
        for theme in catalogue.themes.values():
            self.register_theme(theme)
        self.theme_names = list(catalogue.themes)
        for error in catalogue.errors:
            self.notify(error, title="theme skipped", severity="warning", timeout=8)
        self.action_theme(self.requested_theme)

    def action_theme(self, name: str) -> None:
        """Switch to theme ``name``; an unknown one falls back to the default, with a note."""
        if name not in self.available_themes:
            known = ", ".join(self.theme_names)
            self.notify(
                f"unknown theme {name!r}; using {DEFAULT_THEME!r}. Themes: {known}",
                severity="warning",
                timeout=8,
            )
            name = DEFAULT_THEME
        self.theme = name
        self._view_dirty = True

    def _on_theme_changed(self, _theme: object) -> None:
        self._view_dirty = True  # chart line colours come from the theme: replot

    def action_next_theme(self) -> None:
        names = self.theme_names or sorted(self.available_themes)
        index = names.index(self.theme) + 1 if self.theme in names else 0
        self.action_theme(names[index % len(names)])
        self.notify(f"theme: {self.theme}", timeout=2)

    # ------------------------------------------------------------------ data

    @on(EventsPending)
    def _apply_pending(self) -> None:
        if self.session.feed is None:
            return
        self.store.apply_all(self.session.feed.drain(APPLY_SLICE))
        self.store.note_skipped_lines(self.session.feed.skipped_lines)
        if self.session.feed.pending:  # a long history: yield to the UI, then continue
            self.call_later(self.post_message, EventsPending())
        elif not self.session.history_drawn:
            # The whole history is in: draw the curves now rather than at the chart pace,
            # so `attach` never shows a replayed status above empty charts.
            self.session.history_drawn = self._view_dirty = True

    @on(HistoryPreview)
    def _show_history_preview(self, message: HistoryPreview) -> None:
        if message.reader is not self.session.history:
            return  # another run is on screen
        self._show_store(message.store)
        self._history_note = message.note
        self._show_history_line(HISTORY_STARTED)
        self._redraw_if_changed()  # now, not at the next tick: then the history read goes on
        self.call_after_refresh(message.reader.preview_drawn)

    @on(HistoryProgressed)
    def _show_history_progress(self, message: HistoryProgressed) -> None:
        if message.reader is self.session.history:
            self._show_history_line(message.line)

    def _show_history_line(self, progress: str) -> None:
        """The status panel's progress line (and how x is counted meanwhile), next tick."""
        note = self._history_note
        self.facts.history = f"{progress} · {note}" if note else progress
        self._status_version = -1

    @on(HistoryRead)
    def _show_whole_history(self, message: HistoryRead) -> None:
        if message.reader is not self.session.history:
            message.source.close()
            return
        self.session.history = None
        self.facts.history = self._history_note = ""
        self._show_store(message.store, message.diagnoser)
        self._start_feed(message.source)

    def _show_store(self, store: RunStore, diagnoser: Diagnoser | None = None) -> None:
        """Chart ``store`` (a preview, then the whole history) in place of the one shown,
        with the ``diagnoser`` that read it (None: a new one)."""
        self.session.adopt_store(store, diagnoser)
        self.main.show_store(store)
        self._diagnosed_version = -1
        self._view_dirty = True

    @on(LogGrown)
    def _index_log(self, message: LogGrown) -> None:
        if message.session is not self.session:
            return  # the run before a switch
        self._log_pane_stale = True
        new_file = message.growth.restarted or self.session.log_index is None
        if self.session.index_log(message.growth):
            index = self.session.log_index
            assert index is not None
            self.run_worker(
                partial(self._scan_log, index), thread=True, group="log-index", exit_on_error=False
            )
        if new_file:
            for viewer in self._log_viewers(all_screens=True):
                viewer.show(self.session.log_index, message.growth.path.name)

    def _scan_log(self, index: LineIndex) -> None:
        """On a worker thread: index the log block by block, telling the viewers as it grows."""
        while index.step():
            self.post_message(LogIndexed())
        self.post_message(LogIndexed())

    @on(LogIndexed)
    def _note_log_indexed(self) -> None:
        # The main screen's pane is shown by the redraw tick, in the same repaint as the status
        # panel; a full-screen log (the top screen's viewers) is paced here on its own.
        self._log_pane_stale = self._log_pane_stale or self._log_index_state() != self._log_shown
        if not self._main_visible():
            self._show_log_lines()

    def _show_log_lines(self) -> None:
        # Under a dialog the viewers wait (see _redraw_if_changed): each change under a modal
        # re-renders the whole dimmed background. While the log streams in, they size
        # themselves at most every STATUS_INTERVAL_S; a timer catches up with what waited.
        wait = self._log_shown_at + STATUS_INTERVAL_S - time.monotonic()
        if wait > 0:
            if not self._log_catch_up:
                self._log_catch_up = True
                self.set_timer(wait, self._show_log_lines)
            return
        self._log_shown_at, self._log_catch_up = time.monotonic(), False
        for viewer in self._log_viewers():
            viewer.refresh_index()

    def _log_index_state(self) -> tuple[int, int, bool] | None:
        """What the log pane would show: lines, lines prepended, whether the index is whole."""
        index = self.session.log_index
        return None if index is None else (*index.snapshot(), index.complete)

    def _log_viewers(self, *, all_screens: bool = False) -> list[LogViewer]:
        """The log viewers of the screen on top (or of every screen)."""
        screens = self.screen_stack if all_screens else self.screen_stack[-1:]
        return [viewer for screen in screens for viewer in screen.query(LogViewer)]

    def action_show_log(self) -> None:
        """``L``: the whole log, full screen; ``L`` again goes back."""
        from maou_tui.app.screens.log import LogScreen

        if isinstance(self.screen, LogScreen):
            self.screen.dismiss()
            return
        name = self.session.log_index.path.name if self.session.log_index else LOG_FILE
        self.push_screen(LogScreen(self.session.log_index, name))

    def _show_feed_error(self) -> None:
        """Say once what stopped the event feed (else the charts would freeze in silence)."""
        error = self.session.feed.error if self.session.feed is not None else None
        if error is not None and error != self.session.feed_error_shown:
            self.session.feed_error_shown = error
            self.notify(f"reading {self.target.source.name}: {error}", severity="error")

    def _redraw_if_changed(self) -> None:
        """Status at most every STATUS_INTERVAL_S when data changed; charts (the costly
        part) at the pace of ``_chart_interval``. Nothing while a dialog covers the screen:
        each change under a modal re-renders the whole dimmed background."""
        if not self._main_visible():
            return
        self._show_feed_error()
        now = time.monotonic()
        version = self.store.version
        if version != self._diagnosed_version and now - self._diagnosed_at >= DIAGNOSE_INTERVAL_S:
            if self.diagnoser.update():
                # New findings: redraw even when the data they come from is already drawn
                # (a diagnosis waits DIAGNOSE_INTERVAL_S; the charts may have gone first).
                self._view_dirty = True
            self._diagnosed_version, self._diagnosed_at = version, now
        # While data streams in, each panel repaints at its own bounded pace (the first
        # change after a quiet spell shows at the next tick); nothing repaints without one.
        # The status panel and the log pane share one pace and one tick: one screen update
        # for both (each update costs the compositor a pass, whatever it repaints).
        panes_due = now - self._status_at >= STATUS_INTERVAL_S
        status_due = panes_due and version != self._status_version
        if panes_due and self._log_pane_stale:
            self._log_pane_stale, self._log_shown = False, self._log_index_state()
            self._log_shown_at = self._status_at = now
            for viewer in self._log_viewers():
                viewer.refresh_index()
        charts_due = self._view_dirty or (
            version != self._drawn_version and self._charts_may_redraw(now)
        )
        if not (status_due or charts_due):
            return
        self.main.redraw(
            self.view, self.diagnoser.findings, self.facts, charts=charts_due, chosen=self.chosen
        )
        self._status_version, self._status_at = version, now
        if charts_due:
            self._drawn_version, self._view_dirty, self._charts_at = version, False, now
        self._report_finish()

    def _main_visible(self) -> bool:
        """The main screen is on top (not under a dialog, and the app is not closing)."""
        stack = self.screen_stack
        return bool(stack) and stack[-1] is self.main

    def _charts_may_redraw(self, now: float) -> bool:
        """The charts' pace (``_chart_interval``) allows a redraw at ``now``; its floor is
        checked first, so most ticks do not ask the screen for its charts."""
        waited = now - self._charts_at
        return waited >= CHART_INTERVAL_S and waited >= self._chart_interval()

    def _chart_interval(self) -> float:
        build_s = sum(chart.render_seconds for chart in self.main.charts)
        return max(CHART_INTERVAL_S, CHART_LOAD_FACTOR * build_s)

    def _report_finish(self) -> None:
        finished = self.store.finished
        if finished is None or self.session.finish_reported:
            return
        self.session.finish_reported = True
        if finished.status == "failed":
            self.notify(
                f"training failed: {finished.reason or 'see train.log'}",
                severity="error",
                timeout=15,
            )
        else:
            step = finished.step or self.store.last_step
            self.notify(f"training {finished.status} at step {step}")

    def _note_control_state(self) -> None:
        self.facts.control = "read-only" if self.link.unavailable_reason() else ""

    def _check_trainer_alive(self) -> None:
        """Every LIVENESS_INTERVAL_S: the control state; while the trainer lives, a diagnosis
        even without new data (stalls); when it died without run_finished, the failure."""
        self._note_control_state()
        run_dir = self.target.run_dir
        if run_dir is None or self.store.finished is not None or self.facts.process_gone:
            return
        if not self.target.reads_events:
            return  # a text log may not say how a run ended: a dead pid proves nothing there
        # The pid ``run`` started first: a resumed run's trainer.pid may be the old trainer's.
        pid = self.trainer_pid or read_pid(run_dir)
        if pid is None:
            # `attach` of a run whose trainer failed before writing its pid: its reason is
            # in trainer.out.
            if self.store.run is None and died_before_start(run_dir):
                self._report_trainer_gone(None, run_dir)
            return
        if pid_alive(pid):
            self._diagnose_quiet_run()
            return
        if self.session.feed is not None and self.session.feed.pending:
            return  # its last events are still being applied
        self._report_trainer_gone(pid, run_dir)

    def _diagnose_quiet_run(self) -> None:
        """The redraw tick diagnoses only when data came; a stall is the absence of data."""
        if self.store.version != self._diagnosed_version:
            return  # new data: the redraw tick diagnoses it
        if self.diagnoser.update():
            self._view_dirty = True  # a new finding: its panel line and chart mark

    def _report_trainer_gone(self, pid: int | None, run_dir: Path) -> None:
        # trainer.out ends with the traceback or error of a trainer we started; the log's last
        # line is all there is for a trainer started elsewhere (read from the file: the pane
        # can be a repaint behind it).
        log = self.session.log_index
        printed = last_line(log.path) if log is not None else ""
        reason = last_output_line(run_dir) or printed or "no output"
        self.facts.process_gone = True
        self.facts.failure = reason
        self._view_dirty = True
        self.notify(
            f"the trainer{'' if pid is None else f' (pid {pid})'} exited without finishing "
            f"the run: {reason}",
            severity="error",
            timeout=15,
        )

    # ------------------------------------------------------------------ view keys

    def _opening_view(self) -> ChartView:
        """The view this run was left in, else the settings file's."""
        remembered = view_memory.recall(self._view_key())
        if remembered is not None:
            return ChartView(
                zoom_stage=remembered.zoom_stage,
                smoothing=remembered.smoothing,
                log_lr=remembered.log_lr,
            )
        settings = self.settings.settings
        return ChartView(
            zoom_stage=settings.zoom == "stage",
            smoothing=settings.smoothing,
            log_lr=settings.log_lr,
        )

    def _view_key(self) -> Path:
        return self.target.run_dir or self.target.source

    def _view_changed(self) -> None:
        self._view_dirty = True
        view = self.view
        remembered = view_memory.RememberedView(
            smoothing=view.smoothing, zoom_stage=view.zoom_stage, log_lr=view.log_lr
        )
        view_memory.remember(self._view_key(), remembered)

    def action_smoothing(self, direction: int) -> None:
        self.view.smoothing = step_level(self.view.smoothing, direction)
        self._view_changed()
        self.notify(f"smoothing {self.view.smoothing:g}", timeout=1.5)

    def action_toggle_log_lr(self) -> None:
        self.view.log_lr = not self.view.log_lr
        self._view_changed()

    def action_toggle_zoom(self) -> None:
        self.view.zoom_stage = not self.view.zoom_stage
        self.view.follow()
        self._view_changed()
        zoom = "current stage" if self.view.zoom_stage else "whole run"
        self.notify(f"zoom: {zoom}", timeout=1.5)

    # ------------------------------------------------------------------ chart keys

    @property
    def run_kind(self) -> RunKind:
        """Whose output this is: our trainer's events, a maou-format log, or anything else."""
        if self.target.reads_events:
            return "trainer"
        return "maou_log" if self.store.stages else "other"

    @property
    def chosen(self) -> list[str] | None:
        """The series this kind of run shows on its chart pages (None: the default)."""
        choice: list[str] | None = getattr(self.chart_choices, self.run_kind)
        return choice

    def action_pick_series(self) -> None:
        from maou_tui.app.screens.series_picker import SeriesPicker

        picker = SeriesPicker(self.store.names(), self.main.chart_series(self.chosen))
        self.push_screen(picker, self._show_series)

    def _show_series(self, names: list[str] | None) -> None:
        if names is None:
            return
        kind = self.run_kind
        self.chart_choices = self.chart_choices.model_copy(update={kind: names})
        error = save_chart_choice(kind, names)
        if error is not None:
            self.notify(error, title="settings", severity="warning", timeout=8)
        self.view.page = 1 if names else 0
        self._view_dirty = True
        pages = page_count(names) - 1
        self.notify(f"{len(names)} series on {pages} page(s) after the overview ([ ])", timeout=3)

    def action_page(self, direction: int) -> None:
        last = page_count(self.main.chart_series(self.chosen)) - 1
        self.view.page = max(0, min(last, self.view.page + direction))
        self._view_dirty = True

    def action_cursor(self, columns: int) -> None:
        plot_columns = max(
            (chart.size.width - Y_AXIS_COLUMNS for chart in self.main.charts), default=1
        )
        move_cursor(self.store, self.view, columns, plot_columns)
        self._view_dirty = True

    def action_pan(self, direction: int) -> None:
        pan(self.store, self.view, direction)
        self._view_dirty = True

    def action_zoom_x(self, factor: float) -> None:
        zoom(self.store, self.view, factor)
        self._view_dirty = True

    @on(RunChart.Zoom)
    def _wheel_zoom(self, event: RunChart.Zoom) -> None:
        zoom(self.store, self.view, event.factor, event.step)
        self._view_dirty = True

    def action_follow(self) -> None:
        if not self.view.following:
            self.view.follow()
            self._view_dirty = True
            self.notify("following the tail", timeout=1.5)

    def action_toggle_x_unit(self) -> None:
        from maou_tui.x_axis import EpochAxis

        if self.view.x_unit == "step" and EpochAxis.of(self.store) is None:
            self.notify("no epoch/batch columns in this run: x stays the step", severity="warning")
            return
        self.view.x_unit = "epoch" if self.view.x_unit == "step" else "step"
        self._view_dirty = True
        self.notify(f"x: {self.view.x_unit}", timeout=1.5)

    def action_toggle_system(self) -> None:
        self.main.toggle_system()

    def action_focus_panel(self, direction: panel_nav.Direction) -> None:
        panel_nav.focus_panel(self.screen, direction)

    def action_move(self, where: panel_nav.Where) -> None:
        panel_nav.move(self.screen, where)

    def action_focus_findings(self) -> None:
        """Give the findings panel the keys: the arrows and PgUp/PgDn scroll it."""
        from maou_tui.app.widgets.findings import FindingsPanel

        self.main.query_one(FindingsPanel).focus()

    def action_help(self) -> None:
        from maou_tui.app.help import HelpScreen

        self.push_screen(HelpScreen(self.settings.settings.keymap))

    def action_runs(self) -> None:
        """The runs screen: the list, the overlay of selected runs, their config differences."""
        from maou_tui.app.screens.runs import RunsScreen
        from maou_tui.ingest import find_runs, is_run_dir

        root = self.runs_root or (self.target.run_dir.parent if self.target.run_dir else None)
        if root is not None and is_run_dir(root):  # `watch RUN_DIR`: its siblings are the runs
            root = root.parent
        runs = find_runs(root) if root is not None and root.is_dir() else []
        if not runs:
            self.notify("no other runs found (pass --runs-root DIR)", severity="warning")
            return
        self.push_screen(RunsScreen(runs, self.target.run_dir), self._switch_to)

    async def _switch_to(self, run_dir: Path | None) -> None:
        if run_dir is None or run_dir.resolve() == self._view_key().resolve():
            return
        self._stop_readers()
        await self.link.close()
        self.session = self._new_session(resolve_target(run_dir), None)
        self.view = self._opening_view()
        self.main.set_store(self.store, self.target.label)
        self._start_readers()
        self._note_control_state()
        self._view_dirty = True
        self.notify(f"showing {self.target.label}", timeout=2)

    # ------------------------------------------------------------------ quitting

    async def action_quit(self) -> None:
        """Quit the viewer. Training goes on as it is: a paused trainer stays paused, so the
        user is asked first whether to resume it."""
        state = self.link.state
        paused = self.store.paused or (state is not None and state.paused)
        if not paused or self.link.unavailable_reason() is not None:
            self.exit()
            return
        from maou_tui.app.dialogs import QuitChoice, QuitWhilePausedDialog

        def answer(choice: QuitChoice | None) -> None:
            if choice == "resume":
                self.run_worker(self._resume_then_exit(), group="control", exit_on_error=False)
            elif choice == "keep_paused":
                self.exit()

        self.push_screen(QuitWhilePausedDialog(self.store.last_step), answer)

    async def _resume_then_exit(self) -> None:
        if await self.link.send("resume", "resume"):
            self.exit()

    # ------------------------------------------------------------------ control keys

    def _control(self, command: str, what: str, **fields: object) -> None:
        if self._refuse_control():
            return
        self.run_worker(
            self.link.send(command, what, **fields), group="control", exit_on_error=False
        )

    def action_toggle_pause(self) -> None:
        if self._refuse_control():
            return
        self.run_worker(self.link.toggle_pause(), group="control", exit_on_error=False)

    def action_scale_lr(self, factor: float) -> None:
        self._control("scale_lr", f"LR ×{factor:g}", factor=factor)

    def action_checkpoint(self) -> None:
        if not self._impossible("checkpoint"):
            self._control("checkpoint", "checkpoint")

    def action_set_lr(self) -> None:
        from maou_tui.app.dialogs import SetLrDialog

        if self._refuse_control():
            return

        def apply(value: float | None) -> None:
            if value is not None:
                self._control("set_lr", f"LR → {value:g}", value=value)

        multiplier = last_value(self.store, "lr_multiplier") or 1.0
        dialog = SetLrDialog(last_value(self.store, "lr"), multiplier, self.store.current_stage)
        self.push_screen(dialog, apply)

    def action_set_threshold(self) -> None:
        from maou_tui.app.dialogs import SetThresholdDialog

        if self._refuse_control() or self._impossible("set_threshold"):
            return

        def apply(choice: ThresholdChoice | None) -> None:
            if choice is not None:
                what = f"threshold stage {choice.stage} {choice.value:g} ({choice.action})"
                fields = {"stage": choice.stage, "value": choice.value, "action": choice.action}
                self._control("set_threshold", what, **fields)

        stage = self.store.current_stage or 1
        current = self.store.thresholds_in_force.get(stage)
        self.push_screen(SetThresholdDialog(stage, current.value if current else None), apply)

    def action_stop(self) -> None:
        run = self.store.run
        self._confirm(stop_question(run), "stop", stop_label(run))

    def action_skip_stage(self) -> None:
        if self._impossible("skip_stage"):
            return
        stage = self.store.current_stage
        question = f"Skip the rest of Stage {stage or '?'} and start the next one?"
        self._confirm(question, "skip_stage", "skip stage")

    def _confirm(self, question: str, command: str, what: str) -> None:
        from maou_tui.app.dialogs import ConfirmDialog

        if self._refuse_control():
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self._control(command, what)

        self.push_screen(ConfirmDialog(question), answer)

    def _impossible(self, command: str) -> bool:
        """Say why ``command`` cannot work on this run (a hooked program), without sending it."""
        reason = impossible(self.store.run, command)
        if reason is not None:
            self.notify(reason, severity="warning", timeout=8)
        return reason is not None

    def _refuse_control(self) -> bool:
        reason = self.link.unavailable_reason()
        if reason is not None:
            self.notify(reason, severity="warning")
        return reason is not None
