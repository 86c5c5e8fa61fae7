"""Modal dialogs: set the LR, set a stage threshold, confirm stop / skip stage.

Each dialog validates its input with Textual validators and dismisses with the parsed value
(or None / False when cancelled with Escape).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.validation import Number
from textual.widgets import Button, Input, Label, Select

from maou_tui.app.widgets.status import format_lr


def steady_input(**kwargs) -> Input:
    """An Input whose cursor does not blink: under a modal, every blink re-renders the whole
    dimmed screen behind it (hundreds of ms of CPU on a busy machine)."""
    field = Input(**kwargs)
    field.cursor_blink = False
    return field


class _Dialog(ModalScreen):
    """Escape cancels every dialog."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def action_cancel(self) -> None:
        self.dismiss(None)


class SetLrDialog(_Dialog):
    """Ask for a new LR (0 < v ≤ 1) for the current stage and show the multiplier it implies
    (the trainer resets the multiplier to 1 when the next stage starts)."""

    def __init__(self, current_lr: float | None, multiplier: float, stage: int | None) -> None:
        super().__init__()
        self.current_lr = current_lr
        self.multiplier = multiplier
        self.stage = stage

    def compose(self) -> ComposeResult:
        where = f"Stage {self.stage}" if self.stage else "this stage"
        with Vertical(classes="dialog"):
            yield Label(
                f"Set the LR of {where} (now {format_lr(self.current_lr)}, m "
                f"{self.multiplier:g}). The schedule keeps its shape; the next stage starts "
                "at its own LR."
            )
            yield steady_input(
                placeholder="e.g. 0.0002",
                validators=[Number(minimum=0, maximum=1)],
                id="lr-value",
            )
            yield Label("", id="lr-preview")
            with Horizontal(classes="buttons"):
                yield Button("Apply", variant="primary", id="apply")
                yield Button("Cancel", id="cancel")

    @on(Input.Changed, "#lr-value")
    def _preview(self, event: Input.Changed) -> None:
        self.query_one("#lr-preview", Label).update(self.preview(event.value))

    def preview(self, text: str) -> str:
        value = parse_lr(text)
        if value is None:
            return "[$error]enter a number > 0 and ≤ 1[/]"
        if not self.current_lr:
            return f"LR → {format_lr(value)}"
        new_m = self.multiplier * value / self.current_lr
        return f"LR → {format_lr(value)}  (multiplier {self.multiplier:g} → {new_m:.4g})"

    @on(Input.Submitted, "#lr-value")
    @on(Button.Pressed, "#apply")
    def _apply(self) -> None:
        value = parse_lr(self.query_one("#lr-value", Input).value)
        if value is None:
            self.notify("LR must be a number > 0 and ≤ 1", severity="error")
            return
        self.dismiss(value)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


def parse_lr(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0 < value <= 1 else None


@dataclass(frozen=True)
class ThresholdChoice:
    stage: int
    value: float
    action: str


class SetThresholdDialog(_Dialog):
    """Ask for a stage, a threshold in [0, 1] and what to do when it is reached."""

    def __init__(self, stage: int, current: float | None) -> None:
        super().__init__()
        self.stage = stage
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Set threshold: when the stage's metric reaches it, advance or stop")
            with Grid(classes="form"):
                yield Label("stage")
                yield Select(
                    [(f"Stage {n}", n) for n in (1, 2, 3)],
                    value=self.stage,
                    allow_blank=False,
                    id="th-stage",
                )
                yield Label("value")
                yield steady_input(
                    value="" if self.current is None else f"{self.current:g}",
                    placeholder="0.90",
                    validators=[Number(minimum=0, maximum=1)],
                    id="th-value",
                )
                yield Label("action")
                yield Select(
                    [("advance to the next stage", "advance"), ("stop the run", "stop")],
                    value="advance",
                    allow_blank=False,
                    id="th-action",
                )
            with Horizontal(classes="buttons"):
                yield Button("Apply", variant="primary", id="apply")
                yield Button("Cancel", id="cancel")

    @on(Input.Submitted, "#th-value")
    @on(Button.Pressed, "#apply")
    def _apply(self) -> None:
        text = self.query_one("#th-value", Input).value
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not 0 <= value <= 1:
            self.notify("threshold must be a number in [0, 1]", severity="error")
            return
        stage = int(str(self.query_one("#th-stage", Select).value))
        action = str(self.query_one("#th-action", Select).value)
        self.dismiss(ThresholdChoice(stage=stage, value=value, action=action))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


class ConfirmDialog(_Dialog):
    """Yes/no for an action that cannot be undone (stop, skip stage); ``y`` / ``n`` keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question)
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", variant="error", id="yes")
                yield Button("No (n)", variant="primary", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


#: What ``QuitWhilePausedDialog`` answers: resume first, quit leaving it paused, or stay.
QuitChoice = Literal["resume", "keep_paused"]


class QuitWhilePausedDialog(_Dialog):
    """Quitting does not resume a paused trainer: say so and offer to resume first."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "choose('resume')", "Resume and quit"),
        Binding("q", "choose('keep_paused')", "Quit, stay paused"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, step: int) -> None:
        super().__init__()
        self.step = step

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(
                f"Training is paused at step {self.step}. Quitting leaves it paused (it holds "
                "its memory and waits): resume it first?"
            )
            with Horizontal(classes="buttons"):
                yield Button("Resume & quit (r)", variant="primary", id="resume")
                yield Button("Stay paused (q)", id="keep_paused")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#resume", Button).focus()

    def action_choose(self, choice: QuitChoice) -> None:
        self.dismiss(choice)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None if event.button.id == "cancel" else event.button.id)
