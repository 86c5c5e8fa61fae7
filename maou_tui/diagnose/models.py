"""What a diagnosis produces: a ``Finding`` with its evidence and the ``Advice`` that fixes it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Severity = Literal["info", "warning", "critical"]

#: Severities in increasing order, for ``--fail-on`` and for sorting.
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}


#: Control actions advice can name; the app maps each to its key.
ActionId = Literal["halve_lr", "double_lr", "set_lr", "set_threshold", "stop", "skip_stage"]


class Advice(BaseModel):
    """What to change. LR values are CLI values (before sqrt batch scaling), not effective LRs."""

    option: str | None = None
    current: float | None = None
    suggested: float | None = None
    factor: float | None = None
    note: str = ""
    #: the app action that applies it: an id of the app's key map (``maou_tui/app/keys.py``)
    action: ActionId | None = None


class Finding(BaseModel):
    """One diagnosed problem. ``id`` is stable (kind, stage, onset) so a live update replaces it."""

    id: str
    kind: str
    severity: Severity
    stage: int | None = None
    epoch: int | None = None
    step: int
    message: str
    evidence: dict[str, float | int | str] = Field(default_factory=dict)
    advice: Advice = Field(default_factory=Advice)
    last_step: int

    def report_dict(self) -> dict[str, object]:
        """The shape ``maou-tui report --format json`` prints for one finding."""
        return {
            "kind": self.kind,
            "severity": self.severity,
            "stage": self.stage,
            "epoch": self.epoch,
            "step": self.step,
            "message": self.message,
            "evidence": dict(self.evidence),
            "advice": self.advice.model_dump(
                include={"option", "current", "suggested", "factor", "note"}
            ),
        }


def finding_id(kind: str, stage: int | None, onset: int) -> str:
    return f"{kind}:{stage if stage is not None else '-'}:{onset}"
