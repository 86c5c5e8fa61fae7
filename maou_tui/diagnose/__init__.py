"""Diagnostics: the LR guide's log diagnosis (seed 003 §ログからの診断) over a RunStore.

Plain Python + numpy. ``Diagnoser(store).update()`` runs live as points arrive (each finding
appears once, then is updated); ``diagnose(store)`` runs the same code over a whole run.
"""

from maou_tui.diagnose.diagnoser import Diagnoser, diagnose
from maou_tui.diagnose.models import SEVERITY_RANK, Advice, Finding, Severity

__all__ = ["SEVERITY_RANK", "Advice", "Diagnoser", "Finding", "Severity", "diagnose"]
