"""``maou-tui report PATH``: the run's summary and its diagnostic findings, as text or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

NAME = "report"
HELP = (
    "Summarise a run (events.jsonl, maou log, TensorBoard event files or run directory) and "
    "diagnose its LR problems."
)

#: Exit status when a finding at or above ``--fail-on`` exists (for job scripts).
EXIT_FINDINGS = 3
#: Exit status for a missing or unreadable input.
EXIT_BAD_INPUT = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path",
        type=Path,
        help="events.jsonl, a maou train log, a TensorBoard event file or log dir, or a run dir",
    )
    parser.add_argument(
        "events",
        type=Path,
        nargs="?",
        help="the TensorBoard event files of the same run as PATH (a log): read as one run",
    )
    parser.add_argument("--format", choices=["text", "json"], default="text", help="output format")
    parser.add_argument(
        "--fail-on",
        choices=["warning", "critical"],
        default=None,
        help=f"exit {EXIT_FINDINGS} when a finding of this severity or worse exists",
    )


def _error(message: str) -> int:
    print(f"maou-tui report: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def format_finding(finding: Any) -> str:
    """One finding as two or three indented lines of text."""
    where = f"stage {finding.stage}" if finding.stage is not None else "run"
    if finding.epoch is not None:
        where += f", epoch {finding.epoch}"
    lines = [f"[{finding.severity.upper()}] {finding.kind} ({where}, step {finding.step})"]
    lines.append(f"    {finding.message}")
    advice = finding.advice
    action = advice.note
    key = _key_for(advice.action) if advice.action else None
    if key:
        action += f" [TUI key: {key}]"
    if action:
        lines.append(f"    -> {action}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from maou_tui.diagnose import SEVERITY_RANK, diagnose
    from maou_tui.ingest import load_store
    from maou_tui.ingest.summary import format_summary, summarize

    path: Path = args.path
    try:
        store = load_store(path, args.events)
    except OSError as exc:
        return _error(f"{path}: cannot read it ({exc.strerror}); check the path and permissions")
    except ValueError as exc:  # IngestError: already one line saying what to do
        return _error(str(exc))
    findings = diagnose(store)
    summary = summarize(store)
    if args.format == "json":
        out = {
            "source": str(path),
            "summary": summary,
            "findings": [f.report_dict() for f in findings],
        }
        print(json.dumps(out, indent=2, default=str))
    else:
        print(format_summary(summary))
        print()
        if findings:
            print(f"Findings ({len(findings)}):")
            print("\n".join(format_finding(f) for f in findings))
        else:
            print("Findings: none (no LR problem seen)")
    if args.fail_on is not None:
        floor = SEVERITY_RANK[args.fail_on]
        if any(SEVERITY_RANK[f.severity] >= floor for f in findings):
            return EXIT_FINDINGS
    return 0


def _key_for(action_id: str) -> str | None:
    from maou_tui.app.keys import key_for  # the app's key map (textual): only when needed

    return key_for(action_id)
