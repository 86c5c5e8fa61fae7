"""The app's key map, in one place: the footer, the ``?`` help screen and the command palette
all read it. Diagnostics advice names a binding's id (``halve_lr``); ``key_for`` gives its key.
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
    (Binding("r", "switch_run", "Runs", id="switch_run", show=False), "Switch to another run"),
    (Binding("T", "next_theme", "Theme", id="theme", show=False), "Next colour theme"),
    (Binding("L", "show_log", "Log", id="show_log"), "The whole log, full screen (L again or Esc)"),
    (Binding("question_mark", "help", "Help", id="help"), "This help screen (?)"),
    (Binding("q", "quit", "Quit", id="quit"), "Quit the viewer; training keeps running"),
]

BINDINGS: list[BindingType] = [binding for binding, _ in KEY_MAP]

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


def key_for(action_id: str) -> str | None:
    """The key of the binding with this id (what advice's ``action`` names), as people write it."""
    binding = next((b for b, _ in KEY_MAP if b.id == action_id), None)
    return key_label(binding) if binding is not None else None


def key_label(binding: Binding) -> str:
    """How a key is written for people: ``plus,equals_sign`` → ``+``."""
    names = {
        "plus": "+",
        "equals_sign": "=",
        "minus": "-",
        "question_mark": "?",
        "slash": "/",
        "pagedown": "PgDn",
        "pageup": "PgUp",
    }
    first = binding.key.split(",")[0]
    return names.get(first, first)
