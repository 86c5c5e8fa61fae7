"""The app's key map, in one place: the footer, the ``?`` help screen, the command palette and
the settings file's ``keymap`` (which names a binding's id) all read it. Diagnostics advice
names a binding's id (``halve_lr``); ``key_for`` gives its key.

``h``/``j``/``k``/``l`` and the arrows move: ``h``/``l`` to the panel on the left/right,
``j``/``k`` inside the focused list (past its end, to the panel below/above), ``g``/``G`` to a
list's top/bottom. So the LR keys are ``[`` (halve), ``]`` (double), ``=`` (set), and the LR
chart's scale is ``o``.
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

#: (binding, longer help text shown on the help screen and in the command palette)
KEY_MAP: list[tuple[Binding, str]] = [
    (Binding("p", "toggle_pause", "Pause", id="pause"), "Pause or resume training"),
    (
        Binding("left_square_bracket", "scale_lr(0.5)", "LR½", id="halve_lr"),
        "Halve the LR (multiplier × 0.5)",
    ),
    (
        Binding("right_square_bracket", "scale_lr(2.0)", "LR×2", id="double_lr"),
        "Double the LR (multiplier × 2)",
    ),
    (Binding("equals_sign", "set_lr", "Set LR", id="set_lr"), "Set the LR to a value (dialog)"),
    (Binding("t", "set_threshold", "Thresh", id="set_threshold"), "Set a stage threshold"),
    (Binding("c", "checkpoint", "Ckpt", id="checkpoint"), "Save a checkpoint now"),
    (Binding("s", "stop", "Stop", id="stop"), "Stop training (asks first)"),
    (Binding("n", "skip_stage", "Skip", id="skip_stage"), "Skip to the next stage (asks)"),
    (
        Binding("plus", "smoothing(1)", "Smooth+", id="smooth_up", show=False),
        "More smoothing of the loss curve (+)",
    ),
    (
        Binding("minus", "smoothing(-1)", "Smooth-", id="smooth_down", show=False),
        "Less smoothing of the loss curve (-)",
    ),
    (Binding("o", "toggle_log_lr", "LR log", id="log_lr", show=False), "LR chart log scale"),
    (Binding("z", "toggle_zoom", "Zoom", id="zoom"), "Zoom: current stage / whole run"),
    (
        Binding("f", "focus_findings", "Findings", id="findings", show=False),
        "Findings get the keys: ↑ ↓ PgUp PgDn scroll them",
    ),
    (
        Binding("r", "runs", "Runs", id="runs", show=False),  # 80 columns keep "? Help"
        "Runs: list, compare (overlay, config diff), switch",
    ),
    (Binding("T", "next_theme", "Theme", id="theme", show=False), "Next colour theme"),
    (Binding("L", "show_log", "Log", id="show_log"), "The whole log, full screen (L again or Esc)"),
    (Binding("question_mark", "help", "Help", id="help"), "This help screen (?)"),
    (Binding("q", "quit", "Quit", id="quit"), "Quit the viewer; training keeps running"),
]

#: Moving between panels and inside lists; the same on every screen.
NAV_KEYS: list[tuple[Binding, str]] = [
    (
        Binding("h,left", "focus_panel('left')", "←", id="panel_left", show=False),
        "The panel on the left (h or ←)",
    ),
    (
        Binding("l,right", "focus_panel('right')", "→", id="panel_right", show=False),
        "The panel on the right (l or →)",
    ),
    (
        Binding("j,down", "move('down')", "↓", id="down", show=False),
        "Down in a list (j or ↓); past its end, the panel below",
    ),
    (
        Binding("k,up", "move('up')", "↑", id="up", show=False),
        "Up in a list (k or ↑); past its top, the panel above",
    ),
    (Binding("g,home", "move('top')", "Top", id="top", show=False), "Top of a list (g)"),
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
}


def key_label(binding: Binding, keymap: dict[str, str] | None = None) -> str:
    """How a binding's keys are written for people: ``plus,equals_sign`` → ``+``,
    ``h,left`` → ``h ←``; ``keymap`` (the settings' overrides) wins over the default."""
    keys = (keymap or {}).get(binding.id or "", binding.key)
    names = [KEY_NAMES.get(key.strip(), key.strip()) for key in keys.split(",")]
    return " ".join(names)
