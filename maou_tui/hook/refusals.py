"""What the process hook cannot do from outside a program's code, in the words its reply uses.

Plain strings, no imports: the hook's control (``steering``) refuses these commands with them,
and the app says them before sending anything for a run of ``maou-tui run -- CMD``.
"""

from __future__ import annotations

REFUSED = {
    "checkpoint": "not possible from outside the program: maou-tui only hooks its optimizer "
    "steps; use the program's own checkpointing (stop saves where the program saves on Ctrl-C)",
    "set_threshold": "not possible from outside the program: the hook does not see its "
    "metrics; watch the charts and send stop",
    "skip_stage": "not possible from outside the program: the hook does not know its stages; "
    "send stop",
}

#: What ``stop`` does to a hooked program (the confirmation and the reply's notification).
STOP_EFFECT = (
    "at its next optimizer step the program gets Ctrl-C (SIGINT) and ends the way it does on "
    "Ctrl-C; maou-tui saves nothing itself (the program saves only where its own Ctrl-C "
    "handling does, as HF Trainer and Lightning do)"
)
