"""Diagnostics on runs of other trainers (HF Trainer, Lightning, Keras, a plain torch loop with
the SDK): precision and recall per kind and source, calibrate part and held-out part apart.

    python bench/diagnostics_frameworks.py ROOT [--held-out|--held-out-v3|-v4]  # JSON in bench/out/
    python bench/diagnostics_frameworks.py ROOT --native [--held-out|--held-out-v3|-v4]  # own files
    python bench/diagnostics_frameworks.py ROOT --export tests/diagnose/heldout5

ROOT holds the runs of ``bench/corpus/frameworks.py`` (generated in a bench environment). Each
run's labels come from ``bench/corpus/labels.py`` (written rules over its epoch series). Every
run is diagnosed from its events.jsonl offline, and replayed live one event at a time to
measure how many logged steps after its onset a NaN or divergence is first shown.
``--export`` writes the held-out part (``HELD_OUT_V5``) as gzipped events plus
``labels.json``: the default test suite scores it on every run (tests/diagnose/test_heldout.py).
"""

from __future__ import annotations

import gzip
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus.frameworks import (
    CALIBRATE_SEEDS,
    HELD_OUT_SEED,
    HELD_OUT_V2,
    HELD_OUT_V3,
    HELD_OUT_V4,
    HELD_OUT_V5,
)
from bench.corpus.labels import SCORED, allowed, labels, read_series
from bench.corpus.loading import chunks, read_events, store_of
from maou_tui.diagnose import Diagnoser, diagnose
from maou_tui.ingest import IngestError, load_store
from maou_tui.store import RunStore

#: Run-name endings of each part. The first held-out part (seed 2) was scored and read in
#: session 3, the second (HELD_OUT_V2) in session 4, the third (HELD_OUT_V3) and fourth
#: (HELD_OUT_V4) in session 5, so all are calibration now; the held-out part is the fifth
#: (HELD_OUT_V5). The third and fourth are kept apart as scored ones.
SEEDS = {
    "calibrate": tuple(f"seed{s}" for s in (*CALIBRATE_SEEDS, HELD_OUT_SEED))
    + tuple(f"_{task.name}_seed{seed}" for task, seed in HELD_OUT_V2),
    "held-out-v3": tuple(f"_{task.name}_seed{seed}" for task, seed in HELD_OUT_V3),
    "held-out-v4": tuple(f"_{task.name}_seed{seed}" for task, seed in HELD_OUT_V4),
    "held-out": tuple(f"_{task.name}_seed{seed}" for task, seed in HELD_OUT_V5),
}


def serious_kinds(path: Path) -> tuple[set[str], dict[str, int]]:
    """Kinds found at warning or above, and for nan/divergence the live delay in logged steps
    between the finding's onset and the point at which it first showed."""
    events = read_events(path)
    found = {f.kind for f in diagnose(store_of(events)) if f.severity != "info"}
    delays: dict[str, int] = {}
    store = RunStore()
    diagnoser = Diagnoser(store)
    for chunk in chunks(events, 1):
        store.apply_all(chunk)
        for f in diagnoser.update():
            if f.kind in ("nan", "divergence") and f.kind not in delays:
                steps = store.series("loss").steps
                delays[f.kind] = int(((steps > f.step) & (steps <= store.last_step)).sum())
    return found, delays


def score(root: Path) -> dict:
    table: dict = {}
    for part, suffix in SEEDS.items():
        counts: dict = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0})
        healthy_warnings = 0
        runs = []
        for run in sorted(p for p in root.iterdir() if p.name.endswith(suffix)):
            source = run.name.split("_")[0]
            truth = labels(read_series(run / "events.jsonl"))
            found, delays = serious_kinds(run / "events.jsonl")
            ok = allowed(truth)
            count_kinds(counts, truth, found, ok, source)
            if not truth:
                healthy_warnings += len(found & set(SCORED))
            runs.append(
                {"run": run.name, "labels": sorted(truth), "found": sorted(found), "delay": delays}
            )
        table[part] = {"counts": dict(counts), "healthy_warnings": healthy_warnings, "runs": runs}
    return table


def native_files(run: Path) -> list[tuple[str, Path]]:
    """What the framework wrote itself: its console output and its CSV logger's metrics."""
    found = [("console", run / "console.txt"), ("metrics.csv", run / "metrics.csv")]
    found += [("metrics.csv", p) for p in sorted(run.glob("lightning/*/metrics.csv"))]
    return [(kind, path) for kind, path in found if path.exists()]


def score_native(root: Path, part: str) -> dict:
    """The same labels scored on what each framework printed or logged itself, read by the
    log readers (``maou-tui report`` on the file): per kind, source and file."""
    counts: dict = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0})
    healthy_warnings: dict[str, int] = defaultdict(int)
    runs = []
    for run in sorted(p for p in root.iterdir() if p.name.endswith(SEEDS[part])):
        source = run.name.split("_")[0]
        truth = labels(read_series(run / "events.jsonl"))
        ok = allowed(truth)
        for file_kind, path in native_files(run):
            where = f"{source}/{file_kind}"
            try:  # as `maou-tui report FILE` reads it
                store = load_store(path)
            except IngestError as error:  # no training output in it: nothing can be found
                store, note = RunStore(), str(error)
            else:
                note = ""
            found = {f.kind for f in diagnose(store) if f.severity != "info"}
            count_kinds(counts, truth, found, ok, where)
            if not truth:
                healthy_warnings[where] += len(found & set(SCORED))
            runs.append(
                {
                    "run": f"{run.name} {file_kind}",
                    "labels": sorted(truth),
                    "found": sorted(found),
                    "points": len(store.series("loss")),
                    "note": note,
                }
            )
    return {"counts": dict(counts), "healthy_warnings": dict(healthy_warnings), "runs": runs}


def _pr(c: dict) -> str:
    p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else float("nan")
    r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else float("nan")
    return f"P {p:.2f} R {r:.2f} ({c['tp']}/{c['fp']}/{c['fn']})"


def export(root: Path, out: Path) -> None:
    """The held-out runs' events (gzipped) and their labels, for the default test suite."""
    out.mkdir(parents=True, exist_ok=True)
    table = {}
    for run in sorted(p for p in root.iterdir() if p.name.endswith(SEEDS["held-out"])):
        data = (run / "events.jsonl").read_bytes()
        (out / f"{run.name}.events.jsonl.gz").write_bytes(gzip.compress(data, mtime=0))
        # what the framework printed itself, for the issue-12 readers of console output
        natives = [run / "console.txt", run / "metrics.csv", *run.glob("lightning/*/metrics.csv")]
        for native in natives:
            if native.exists():
                text = native.read_bytes()
                (out / f"{run.name}.{native.name}.gz").write_bytes(gzip.compress(text, mtime=0))
        truth = labels(read_series(run / "events.jsonl"))
        table[run.name] = {"labels": sorted(truth), "allowed": sorted(allowed(truth))}
    (out / "labels.json").write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")


def count_kinds(counts: dict, truth: set, found: set, ok: set, group: str) -> None:
    """Count each scored kind as tp / fn / fp, overall and under ``kind@group``."""
    for kind in SCORED:
        for key in (kind, f"{kind}@{group}"):
            if kind in truth and kind in found:
                counts[key]["tp"] += 1
            elif kind in truth:
                counts[key]["fn"] += 1
            elif kind in found and kind not in ok:
                counts[key]["fp"] += 1


def main() -> None:
    root = Path(sys.argv[1])
    if "--export" in sys.argv:
        export(root, Path(sys.argv[sys.argv.index("--export") + 1]))
        return
    if "--native" in sys.argv:
        part = next(
            (
                name
                for name in ("held-out", "held-out-v3", "held-out-v4")
                if f"--{name}" in sys.argv
            ),
            "calibrate",
        )
        native = score_native(root, part)
        print(f"== {part}, native files: warnings on healthy runs {native['healthy_warnings']}")
        for key in sorted(native["counts"]):
            print(f"  {key:45s} {_pr(native['counts'][key])}")
        for run in native["runs"]:
            print(
                f"    {run['run']:55s} labels={run['labels']} found={run['found']} "
                f"loss points={run['points']} {run['note'][:70]}"
            )
        return
    table = score(root)
    # the held-out part is printed only when asked for: it is scored once, at the end
    shown = {name: data for name, data in table.items() if f"--{name}" in sys.argv}
    shown = shown or {"calibrate": table["calibrate"]}
    for part, data in shown.items():
        print(
            f"== {part}: {len(data['runs'])} runs, warnings on healthy runs: "
            f"{data['healthy_warnings']}"
        )
        for key in sorted(data["counts"]):
            print(f"  {key:40s} {_pr(data['counts'][key])}")
        for run in data["runs"]:
            print(
                f"    {run['run']:45s} labels={run['labels']} found={run['found']} "
                f"delay={run['delay']}"
            )
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "diagnostics_frameworks.json").write_text(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()
