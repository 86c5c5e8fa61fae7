"""The app's key map, in one place: the footer, the ``?`` help screen, the command palette and
the settings file's ``keymap`` (which names a binding's id) all read it. Diagnostics advice
names a binding's id (``halve_lr``); ``key_for`` gives its key.

The arrows move to the panel on the left/right (``h``/``l`` stay the LR keys: a vim user's
reflex must never halve or set an LR); ``j``/``k`` and the arrows move inside the focused list
(past its end, to the panel below/above), ``Home``/``G``/``End`` to a list's top/bottom.
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

#: (binding, longer help text shown on the help screen and in the command palette)
KEY_MAP: list[tuple[Binding, str]] = [
    (Binding("p", "toggle_pause", "Pause", id="pause"), "Pause or resume training"),
    (Binding("h", "scale_lr(0.5)", "LR½", id="halve_lr"), "Halve the LR (multiplier × 0.5)"),
    (Binding("u", "scale_lr(2.0)", "LR×2", id="double_lr"), "Double the LR (multiplier × 2)"),
    (Binding("l", "set_lr", "Set LR", id="set_lr"), "Set the LR to a value (dialog)"),
    (Binding("t", "set_threshold", "Thresh", id="set_threshold"), "Set a stage threshold"),
    (Binding("c", "checkpoint", "Ckpt", id="checkpoint"), "Save a checkpoint now"),
    (Binding("s", "stop", "Stop", id="stop"), "Stop training (asks first)"),
    (Binding("n", "skip_stage", "Skip", id="skip_stage"), "Skip to the next stage (asks)"),
    # ? and q right after the controls: the footer is cut at the right edge (80 columns), and
    # what it cuts should be the view keys below, not help and quit.
    (Binding("question_mark", "help", "Help", id="help"), "This help screen (?)"),
    (Binding("q", "quit", "Quit", id="quit"), "Quit the viewer; training keeps running"),
    (
        Binding("plus,equals_sign", "smoothing(1)", "Smooth+", id="smooth_up", show=False),
        "More smoothing of the loss curve (+)",
    ),
    (
        Binding("minus", "smoothing(-1)", "Smooth-", id="smooth_down", show=False),
        "Less smoothing of the loss curve (-)",
    ),
    (Binding("g", "toggle_log_lr", "LR log", id="log_lr", show=False), "LR chart log scale"),
    (Binding("z", "toggle_zoom", "Zoom", id="zoom"), "Zoom: current stage / whole run"),
    (
        Binding("f", "focus_findings", "Findings", id="findings", show=False),
        "Findings get the keys: ↑ ↓ PgUp PgDn scroll them",
    ),
    (
        Binding("y", "toggle_system", "Sys", id="system"),
        "System panel: CPU and memory per rank, GPU utilisation, memory, temperature, power",
    ),
    (
        Binding("r", "runs", "Runs", id="runs", show=False),
        "Runs: list, compare (overlay, config diff), switch",
    ),
    (Binding("T", "next_theme", "Theme", id="theme", show=False), "Next colour theme"),
    (Binding("L", "show_log", "Log", id="show_log"), "The whole log, full screen (L again or Esc)"),
    # The chart keys come last.
    (
        Binding("m", "pick_series", "Series", id="pick_series"),
        "Choose the series of the chart pages (type to filter: val_*, *accuracy)",
    ),
    (
        Binding("right_square_bracket", "page(1)", "Page", id="next_page"),
        "Next chart page (page 1: loss / metric / LR; then the chosen series)",
    ),
    (
        Binding("left_square_bracket", "page(-1)", "Page back", id="prev_page", show=False),
        "Previous chart page",
    ),
    (
        Binding("full_stop", "cursor(1)", "Cursor→", id="cursor_right", show=False),
        "Cursor one column right: the readout shows step, epoch, LR and every value there",
    ),
    (
        Binding("comma", "cursor(-1)", "Cursor←", id="cursor_left", show=False),
        "Cursor one column left (the first press puts it at the right edge)",
    ),
    (
        Binding("i", "zoom_x(0.5)", "Zoom in", id="zoom_in", show=False),
        "x zoom in, around the cursor (or the newest step); the mouse wheel too",
    ),
    (Binding("o", "zoom_x(2.0)", "Zoom out", id="zoom_out", show=False), "x zoom out"),
    (
        Binding("less_than_sign", "pan(-1)", "Pan←", id="pan_left", show=False),
        "Pan left by a quarter of the chart",
    ),
    (
        Binding("greater_than_sign", "pan(1)", "Pan→", id="pan_right", show=False),
        "Pan right by a quarter of the chart",
    ),
    (
        Binding("escape", "follow", "Follow", id="follow", show=False),
        "Follow the tail again: no cursor, no zoom (the default)",
    ),
    (Binding("x", "toggle_x_unit", "x: epoch", id="x_unit", show=False), "x axis: step / epoch"),
]

#: Moving between panels and inside lists; the same on every screen.
NAV_KEYS: list[tuple[Binding, str]] = [
    (
        Binding("left", "focus_panel('left')", "←", id="panel_left", show=False),
        "The panel on the left (←)",
    ),
    (
        Binding("right", "focus_panel('right')", "→", id="panel_right", show=False),
        "The panel on the right (→)",
    ),
    (
        Binding("j,down", "move('down')", "↓", id="down", show=False),
        "Down in a list (j or ↓); past its end, the panel below",
    ),
    (
        Binding("k,up", "move('up')", "↑", id="up", show=False),
        "Up in a list (k or ↑); past its top, the panel above",
    ),
    (Binding("home", "move('top')", "Top", id="top", show=False), "Top of a list (Home)"),
    (Binding("G,end", "move('bottom')", "End", id="bottom", show=False), "End of a list (G)"),
]

#: The run list of the runs screen.
RUN_LIST_KEYS: list[tuple[Binding, str]] = [
    (
        Binding("space", "toggle_selected", "Select", id="runs_select"),
        "Select / unselect the run under the cursor for the overlay",
    ),
    (Binding("enter", "show_run", "Show", id="runs_show"), "Show this run on the main screen"),
]

#: The overlay chart of the runs screen: its reading cursor.
OVERLAY_KEYS: list[tuple[Binding, str]] = [
    (
        Binding("comma", "move_cursor(-1)", "◂", id="overlay_back", show=False),
        "Overlay cursor back (,); b jumps ten times as far",
    ),
    (
        Binding("full_stop", "move_cursor(1)", "▸", id="overlay_on", show=False),
        "Overlay cursor on (.); w jumps ten times as far",
    ),
    (
        Binding("b", "move_cursor(-10)", "◂◂", id="overlay_back_far", show=False),
        "Overlay cursor back ten times as far (b, as vim's word back)",
    ),
    (
        Binding("w", "move_cursor(10)", "▸▸", id="overlay_on_far", show=False),
        "Overlay cursor on ten times as far (w, as vim's word on)",
    ),
    (
        Binding("e", "follow_end", "End", id="overlay_end", show=False),
        "Overlay cursor back to the runs' end (follow)",
    ),
]

#: The runs screen (``r``): its own keys, plus NAV_KEYS.
RUNS_KEYS: list[tuple[Binding, str]] = [
    (
        Binding("m", "next_series(1)", "Series", id="runs_series_next"),
        "Overlay the next series (M: the previous one)",
    ),
    (
        Binding("M", "next_series(-1)", "Series-", id="runs_series_prev", show=False),
        "Overlay the previous series",
    ),
    (
        Binding("x", "toggle_align", "Step/epoch", id="runs_align"),
        "Align the runs by global step or by epoch",
    ),
    (Binding("R", "reload", "Reload", id="runs_reload", show=False), "Read the runs again"),
    (Binding("escape,q,r", "close", "Back", id="runs_close"), "Back to the main screen"),
]

BINDINGS: list[BindingType] = [binding for binding, _ in KEY_MAP + NAV_KEYS]
RUNS_BINDINGS: list[BindingType] = [binding for binding, _ in RUNS_KEYS + NAV_KEYS]
RUN_LIST_BINDINGS: list[BindingType] = [binding for binding, _ in RUN_LIST_KEYS]
OVERLAY_BINDINGS: list[BindingType] = [binding for binding, _ in OVERLAY_KEYS]

#: The log viewer's keys, active while it has focus (the full-screen log, ``L``).
LOG_KEY_MAP: list[tuple[Binding, str]] = [
    (Binding("j,down", "scroll_down", "Down", show=False), "Log: one line down"),
    (Binding("k,up", "scroll_up", "Up", show=False), "Log: one line up (stops following)"),
    (Binding("pagedown", "page_down", "PgDn", show=False), "Log: one page down"),
    (Binding("pageup", "page_up", "PgUp", show=False), "Log: one page up (stops following)"),
    (Binding("left", "scroll_left", "Left", show=False), "Log: scroll left"),
    (Binding("right", "scroll_right", "Right", show=False), "Log: scroll right"),
    (Binding("g,home", "scroll_home", "Top", show=False), "Log: first line (g)"),
    (Binding("G,end", "follow", "End", show=False), "Log: last line, follow (G)"),
    (Binding("F", "follow", "Follow", id="log_follow"), "Log: follow the end again (F)"),
    (Binding("slash", "search", "Search", id="log_search"), "Log: search (/ then text, Enter)"),
    (Binding("n", "next_match", "Next", id="log_next"), "Log: next match (n)"),
    (Binding("N", "previous_match", "Prev", id="log_previous"), "Log: previous match (N)"),
    (
        Binding("P", "toggle_prefix", "Prefix", id="log_prefix"),
        "Log: show or fold the prefix columns (time, level, file) (P)",
    ),
    (
        Binding("A", "toggle_colours", "ANSI", id="log_colours", show=False),
        "Log: keep or strip the log's ANSI colours (A)",
    ),
]

LOG_BINDINGS: list[BindingType] = [binding for binding, _ in LOG_KEY_MAP]

#: Every binding id a settings file's ``keymap`` may name.
BINDING_IDS: frozenset[str] = frozenset(
    b.id
    for b, _ in KEY_MAP + NAV_KEYS + RUN_LIST_KEYS + OVERLAY_KEYS + RUNS_KEYS + LOG_KEY_MAP
    if b.id is not None
)


def key_for(action_id: str) -> str | None:
    """The key of the binding with this id (what advice's ``action`` names), as people write it."""
    binding = next((b for b, _ in KEY_MAP if b.id == action_id), None)
    return key_label(binding) if binding is not None else None


KEY_NAMES = {
    "plus": "+",
    "equals_sign": "=",
    "minus": "-",
    "question_mark": "?",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "left": "←",
    "right": "→",
    "up": "↑",
    "down": "↓",
    "comma": ",",
    "full_stop": ".",
    "space": "space",
    "slash": "/",
    "pagedown": "PgDn",
    "pageup": "PgUp",
    "less_than_sign": "<",
    "greater_than_sign": ">",
    "escape": "Esc",
    "home": "Home",
    "end": "End",
}


def key_label(binding: Binding, keymap: dict[str, str] | None = None) -> str:
    """How a binding's keys are written for people: ``plus,equals_sign`` → ``+``,
    ``h,left`` → ``h ←``; ``keymap`` (the settings' overrides) wins over the default."""
    keys = (keymap or {}).get(binding.id or "", binding.key)
    names = [KEY_NAMES.get(key.strip(), key.strip()) for key in keys.split(",")]
    return " ".join(names)
