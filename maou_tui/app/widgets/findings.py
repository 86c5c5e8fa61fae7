"""The findings panel: each diagnosis with its evidence, the exact change, and the key for it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual.containers import VerticalScroll
from textual.markup import escape
from textual.widgets import Static

from maou_tui.app.keys import key_for
from maou_tui.app.widgets.repaint import show_text

if TYPE_CHECKING:  # the diagnose package is imported with the first finding, not at start-up
    from maou_tui.diagnose.models import Finding

#: Findings the panel shows, most severe and newest first. A long history can hold hundreds
#: (a 100 MB log: ~900); wrapping and drawing them all took tens of MB of Textual strips and a
#: screen layout at every diagnosis, while a user reads the top few.
SHOWN_FINDINGS = 30
SEVERITY_STYLES = {"info": "$primary", "warning": "$warning", "critical": "bold $error"}
SEVERITY_ICONS = {"info": "i", "warning": "!", "critical": "‼"}
#: How an advice's action is said after its key (``press [ halve LR``).
ACTION_WORDS = {
    "halve_lr": "halve LR",
    "double_lr": "double LR",
    "set_lr": "set LR",
    "set_threshold": "set threshold",
    "stop": "stop",
    "skip_stage": "skip stage",
}


def _number(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def format_finding(finding: Finding) -> str:
    """One finding as markup: severity + what, where, evidence, advice with option and key."""
    style = SEVERITY_STYLES.get(finding.severity, "")
    icon = SEVERITY_ICONS.get(finding.severity, "·")
    where = f"stage {finding.stage} " if finding.stage is not None else ""
    lines = [
        f"[{style}]{icon} {finding.kind}[/] [$foreground-muted]{where}step {finding.step}[/]",
        escape(finding.message),
    ]
    if finding.evidence:
        evidence = ", ".join(f"{k}={_number(v)}" for k, v in list(finding.evidence.items())[:4])
        lines.append(f"[$foreground-muted]{escape(evidence)}[/]")
    lines.append(format_advice(finding))
    return "\n".join(line for line in lines if line)


def format_advice(finding: Finding) -> str:
    advice = finding.advice
    parts = []
    if advice.option:
        value = "" if advice.suggested is None else f" {advice.suggested:.6g}"
        now = "" if advice.current is None else f" (now {advice.current:.6g})"
        parts.append(f"→ [b]{escape(advice.option)}{value}[/b]{now}")
    if advice.note:
        parts.append(escape(advice.note))
    key = key_for(advice.action) if advice.action else None
    if advice.action and key:
        words = ACTION_WORDS.get(advice.action, "")
        # escape() leaves a lone "[" (the halve-LR key) as is, which reads as a tag: quote it.
        key_markup = key.replace("[", "\\[")
        parts.append(f"press [b $accent]{key_markup}[/] {words}".rstrip())
    return " · ".join(parts)


def ordered(findings: Iterable[Finding]) -> list[Finding]:
    """Most severe first, then newest first."""
    from maou_tui.diagnose.models import SEVERITY_RANK

    return sorted(findings, key=lambda f: (-SEVERITY_RANK.get(f.severity, 0), -f.last_step))


class FindingsPanel(VerticalScroll):
    """A scrollable list of findings; empty runs say so."""

    def compose(self):
        yield Static("no findings yet", id="findings-body")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "findings"
        self.border_subtitle = "f: scroll"
        self._shown = ""

    def show(self, findings: Iterable[Finding]) -> None:
        """Show ``findings`` (the first ``SHOWN_FINDINGS`` in ``ordered``'s order); nothing is
        repainted when they are the ones shown."""
        items = ordered(findings)
        if items:
            markup = "\n\n".join(format_finding(f) for f in items[:SHOWN_FINDINGS])
            if len(items) > SHOWN_FINDINGS:
                more = len(items) - SHOWN_FINDINGS
                markup += f"\n\n[$foreground-muted]{more} more: maou-tui report lists them all[/]"
        else:
            markup = "[$foreground-muted]no LR problem seen[/]"  # diagnosed: as report says
        if markup == self._shown:
            return
        self._shown = markup
        self.border_title = f"findings ({len(items)})" if items else "findings"
        show_text(self.query_one("#findings-body", Static), markup)
