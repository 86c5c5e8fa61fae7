"""Committed labelled parts (tests/diagnose/heldout*/: gzipped events and ``labels.json``) scored
per kind and source, with the live delay of every NaN and divergence measured from an onset
the detectors do not decide.

    python bench/diagnostics_parts.py tests/diagnose/heldout4 [tests/diagnose/heldout3 ...]

The onset of a run's blow-up is the label rules' own (``bench/corpus/labels.py``): its first
logged train loss that is not finite (NaN) or at least 2 ln C (divergence's step clause). Runs
labelled divergence by an epoch clause only have no such step and are not timed. The delay is
how many logged loss points after that onset the finding first shows when the events are
replayed one at a time (0: at the onset's own point); its claimed onset is printed beside.
Live and offline findings are compared on every run: the kinds shown at warning or above, and
each NaN and divergence finding by its id (kind, stage, onset step).
"""

from __future__ import annotations

import gzip
import json
import math
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus.labels import SCORED, allowed
from bench.corpus.loading import chunks, read_events
from bench.diagnostics_frameworks import count_kinds
from maou_tui.diagnose import Diagnoser, diagnose
from maou_tui.protocol import RunStarted, Step
from maou_tui.store import RunStore

TIMED = ("nan", "divergence")


def label_onsets(events: list[Any]) -> dict[str, int]:
    """The step of the first non-finite train loss and of the first one >= 2 ln C."""
    classes = 10
    onsets: dict[str, int] = {}
    for event in events:
        if isinstance(event, RunStarted):
            classes = int(event.config.get("classes") or 10)
        if not isinstance(event, Step):
            continue
        loss = event.loss
        if loss is None or not math.isfinite(loss):
            onsets.setdefault("nan", event.global_step)
        elif loss >= 2 * math.log(classes):
            onsets.setdefault("divergence", event.global_step)
    return onsets


def replay(events: list[Any]) -> tuple[list[Any], dict[str, tuple[int, int]]]:
    """Live findings, and per timed kind (step shown at, the finding's claimed onset)."""
    store = RunStore()
    diagnoser = Diagnoser(store)
    shown: dict[str, tuple[int, int]] = {}
    for chunk in chunks(events, 1):
        store.apply_all(chunk)
        for f in diagnoser.update():
            if f.kind in TIMED and f.kind not in shown:
                shown[f.kind] = (store.last_step, f.step)
    diagnoser.finish()
    return diagnoser.findings, shown


def score_run(path: Path) -> dict[str, Any]:
    events = read_events(path)
    store = RunStore()
    store.apply_all(events)
    offline = diagnose(store)
    live, shown = replay(events)
    steps = store.series("loss").steps
    delays = {}
    for kind, onset in label_onsets(events).items():
        if kind in shown:
            at, claimed = shown[kind]
            delays[kind] = {
                "onset": onset,
                "claimed": claimed,
                "delay": int(((steps > onset) & (steps <= at)).sum()),
            }
    return {
        "found": sorted({f.kind for f in offline if f.severity != "info"}),
        "live_differs": sorted(_shown(live) ^ _shown(offline)),
        "delays": delays,
    }


def _shown(findings: list[Any]) -> set[str]:
    """What a user compares: the kinds at warning or above, and each NaN/divergence by id."""
    kinds = {f.kind for f in findings if f.severity != "info"}
    return kinds | {f.id for f in findings if f.kind in TIMED}


def score_part(folder: Path) -> dict[str, Any]:
    table = json.loads((folder / "labels.json").read_text())
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0})
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, row in sorted(table.items()):
            path = Path(tmp) / f"{name}.events.jsonl"
            path.write_bytes(gzip.decompress((folder / f"{name}.events.jsonl.gz").read_bytes()))
            result = score_run(path)
            truth = set(row["labels"])
            ok = allowed(truth)  # the companion list as it stands, not as exported
            found = set(result["found"])
            count_kinds(counts, truth, found, ok, name.split("_")[0])
            runs[name] = {"labels": sorted(truth), **result}
    return {"counts": dict(counts), "runs": runs}


def _pr(c: dict[str, int]) -> str:
    p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else float("nan")
    r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else float("nan")
    return f"P {p:.2f} R {r:.2f} ({c['tp']}/{c['fp']}/{c['fn']})"


def main() -> None:
    for folder in map(Path, sys.argv[1:]):
        data = score_part(folder)
        runs = data["runs"]
        healthy = [n for n, r in runs.items() if not r["labels"] and set(r["found"]) & set(SCORED)]
        print(f"== {folder.name}: {len(runs)} runs; healthy runs warned: {len(healthy)} {healthy}")
        for key in sorted(data["counts"]):
            print(f"  {key:40s} {_pr(data['counts'][key])}")
        late = {
            n: r["delays"]
            for n, r in runs.items()
            if any(d["delay"] > 1 for d in r["delays"].values())
        }
        timed = sum(len(r["delays"]) for r in runs.values())
        print(f"  timed onsets: {timed}; later than 1 logged step: {late}")
        differ = {n: r["live_differs"] for n, r in runs.items() if r["live_differs"]}
        print(f"  live != offline: {differ}")
        for name, r in runs.items():
            ok = allowed(set(r["labels"]))
            wrong = (set(r["found"]) - ok) & set(SCORED)
            missed = set(r["labels"]) - set(r["found"])
            if wrong or missed:
                print(f"    {name:45s} labels={r['labels']} found={r['found']}")


if __name__ == "__main__":
    main()
