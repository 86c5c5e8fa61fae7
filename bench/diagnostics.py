"""Diagnostics accuracy on a labelled corpus of real runs: precision, recall, detection delay.

    python bench/diagnostics.py generate [trainer|digits]   # real runs into bench/corpus/runs
    python bench/diagnostics.py evaluate   # diagnose each run in both formats, print the table
    python bench/diagnostics.py speed      # cost of live updates on a 200k-step run

Corpus (generated, not checked in): this project's trainer with induced LR problems
(``bench/corpus/trainer_runs.py``) and torch classifiers on scikit-learn's digits
(``bench/corpus/digits.py``). Each run is read twice, from events.jsonl and from the maou-format
train.log, and replayed live: events are applied in chunks and ``Diagnoser.update()`` is called
after each, as the app does, so the delay is the live one.

Scoring, per run and format: a kind in ``expect`` that is found is a true positive, one not found
a false negative; a warning/critical kind found that is in neither ``expect`` nor ``allow`` is a
false positive. ``epoch_boundary_reset`` is scored against ground truth computed from the run's
own per-batch values (events.jsonl has both the running mean and the per-batch value).
Runs marked ``tuned=False`` (another seed/architecture/model) were never looked at while the
thresholds were set; they are reported apart.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from bench.corpus.loading import chunks, read_events, store_of
from maou_tui.diagnose import Diagnoser
from maou_tui.diagnose.detectors.cumulative import (
    RESET_MAX_PER_BATCH_SHARE,
    RESET_MIN_JUMP_ABS,
    RESET_MIN_JUMP_REL,
)
from maou_tui.store import RunStore

ROOT = Path(__file__).resolve().parent / "corpus" / "runs"
FORMATS = ("events.jsonl", "train.log")
#: Events per live chunk: about what the app's tailer hands over at 4 redraws a second.
LIVE_CHUNK = 25
#: Kinds a run may show whatever was induced: a throughput collapse is real on a shared 2-core
#: machine (other jobs), not an LR problem and not induced, so it is neither right nor wrong here.
ALWAYS_ALLOWED = {"throughput_collapse", "stall"}


def specs() -> list:
    from bench.corpus.digits import DIGITS_RUNS
    from bench.corpus.trainer_runs import TRAINER_RUNS

    return [*TRAINER_RUNS, *DIGITS_RUNS]


def generate(parts: tuple[str, ...] = ("trainer", "digits")) -> None:
    """Generate the corpus, or only its ``trainer`` (minutes a run) or ``digits`` (seconds)
    part; ``evaluate`` then scores the runs that exist."""
    from bench.corpus import digits, trainer_runs

    ROOT.mkdir(parents=True, exist_ok=True)
    if "trainer" in parts:
        for spec in trainer_runs.TRAINER_RUNS:
            print("trainer", spec.name, trainer_runs.generate(spec, ROOT), flush=True)
    if "digits" in parts:
        for spec in digits.DIGITS_RUNS:
            print("digits", spec.name, digits.generate(spec, ROOT), flush=True)


def replay(path: Path) -> tuple[list, list, int]:
    """Live replay: findings as the app would show them, and the offline ones for comparison."""
    events = read_events(path)
    store = RunStore()
    diagnoser = Diagnoser(store)
    for chunk in chunks(events, LIVE_CHUNK):
        store.apply_all(chunk)
        diagnoser.update()
    diagnoser.finish()
    offline = Diagnoser(store_of(events))
    offline.finish()
    return diagnoser.findings, offline.findings, len(events)


def reset_truth(path: Path, fmt: str) -> bool:
    """Ground truth from events.jsonl's per-batch values: does a running mean since epoch start,
    as the source shows it, jump at an epoch start while the per-batch values do not?
    events.jsonl shows a running mean only where it has ``<name>_cum``; a maou-format log always
    prints the metric as one, and the loss as one when the producer had ``loss_cum`` (this
    project's trainer); the running mean is computed here from the per-batch values."""
    store = store_of(read_events(path))
    names = set(store.names())
    for name in sorted(names):
        if name.endswith("_cum") or name.startswith(("train_", "val_")) or name in _NOT_METRICS:
            continue
        if fmt == "events.jsonl" and f"{name}_cum" not in names:
            continue
        if _resets(store.series(name), RESET_MIN_JUMP_ABS, relative=False):
            return True
    return "loss_cum" in names and _resets(store.series("loss"), RESET_MIN_JUMP_REL, relative=True)


def _resets(per: object, limit: float, relative: bool) -> bool:
    e, v = per.epochs, per.values
    cum = np.empty_like(v)
    for epoch in np.unique(e):
        mask = e == epoch
        cum[mask] = np.cumsum(v[mask]) / np.arange(1, mask.sum() + 1)
    for i in np.flatnonzero(e[1:] != e[:-1]) + 1:
        jump = cum[i] - cum[i - 1]
        change = np.nanmean(v[i : i + 8]) - np.nanmean(v[max(0, i - 8) : i])
        needed = limit * abs(cum[i - 1]) if relative else limit
        if abs(jump) >= needed and abs(change) <= RESET_MAX_PER_BATCH_SHARE * abs(jump):
            return True
    return False


_NOT_METRICS = {"loss", "lr", "lr_multiplier", "samples_per_s"}


def evaluate() -> dict:
    table: dict[str, dict[str, dict[str, int]]] = {
        "tuned": defaultdict(lambda: defaultdict(int)),
        "untuned": defaultdict(lambda: defaultdict(int)),
    }
    delays: dict[str, list[int]] = defaultdict(list)
    rows, healthy_warnings, live_mismatch = [], 0, 0
    for spec in specs():
        run = ROOT / spec.name
        if not (run / "events.jsonl").exists():
            print(
                f"missing {spec.name}: run `python bench/diagnostics.py generate`", file=sys.stderr
            )
            continue
        group = table["tuned" if spec.tuned else "untuned"]
        for fmt in FORMATS:
            if not (run / fmt).exists():
                continue
            live, offline, n_events = replay(run / fmt)
            truth_reset = reset_truth(run / "events.jsonl", fmt)
            if {f.id for f in live} != {f.id for f in offline}:
                live_mismatch += 1
                print(f"live/offline differ: {spec.name} {fmt}", file=sys.stderr)
            found = {f.kind: f for f in live}
            serious = {k for k, f in found.items() if f.severity != "info"}
            expect = set(spec.expect)
            allowed = expect | set(spec.allow) | ALWAYS_ALLOWED
            for kind in expect:
                group[kind]["tp" if kind in found else "fn"] += 1
            for kind in serious - allowed:
                group[kind]["fp"] += 1
            if truth_reset:
                group["epoch_boundary_reset"][
                    "tp" if "epoch_boundary_reset" in found else "fn"
                ] += 1
            elif "epoch_boundary_reset" in found:
                group["epoch_boundary_reset"]["fp"] += 1
            if not expect and not set(spec.allow) - {"epoch_boundary_reset"}:  # a healthy run
                healthy_warnings += len(serious - ALWAYS_ALLOWED)
            for f in live:
                if f.kind in expect and "detected_at_step" in f.evidence:
                    delays[f.kind].append(int(f.evidence["detected_at_step"]) - f.step)
            rows.append(
                {
                    "run": spec.name,
                    "format": fmt,
                    "tuned": spec.tuned,
                    "expect": sorted(expect),
                    "found": sorted(found),
                    "missed": sorted(expect - set(found)),
                    "unexpected": sorted(serious - allowed),
                    "events": n_events,
                }
            )
    return {
        "rows": rows,
        "scores": {g: {k: dict(v) for k, v in t.items()} for g, t in table.items()},
        "delays": {k: v for k, v in delays.items()},
        "healthy_warnings": healthy_warnings,
        "live_offline_mismatches": live_mismatch,
    }


def _pr(counts: dict[str, int]) -> tuple[str, str]:
    tp, fp, fn = counts.get("tp", 0), counts.get("fp", 0), counts.get("fn", 0)
    p = f"{tp / (tp + fp):.2f}" if tp + fp else "-"
    r = f"{tp / (tp + fn):.2f}" if tp + fn else "-"
    return p, r


def print_report(result: dict) -> None:
    for row in result["rows"]:
        flag = "" if not row["missed"] and not row["unexpected"] else "  <--"
        print(
            f"{row['run']:<26} {row['format']:<13} expect={','.join(row['expect']) or '-':<22} "
            f"found={','.join(row['found']) or '-'}{flag}"
        )
    for group, scores in result["scores"].items():
        print(f"\n{group} runs: kind, precision, recall (tp/fp/fn), median delay in steps")
        for kind in sorted(scores):
            p, r = _pr(scores[kind])
            c = scores[kind]
            d = result["delays"].get(kind, [])
            med = f"{int(np.median(d))}" if d else "-"
            print(
                f"  {kind:<22} P={p:<5} R={r:<5} ({c.get('tp', 0)}/{c.get('fp', 0)}/"
                f"{c.get('fn', 0)}) delay={med}"
            )
    print(f"\nwarnings/criticals on healthy runs: {result['healthy_warnings']}")
    print(f"runs where live and offline findings differ: {result['live_offline_mismatches']}")


def speed(steps: int = 200_000, per_epoch: int = 1000, chunk: int = 250) -> None:
    """Cost of live updates on a long run, against the cost of storing the same events.

    A synthetic stream (decaying loss with noise, running-mean metric) of ``steps`` steps is fed
    ``chunk`` steps at a time (a fast trainer at 4 redraws a second); the baseline is
    ``RunStore.apply`` of the same events, which the app pays anyway.
    """
    import time

    from maou_tui.diagnose import diagnose
    from maou_tui.protocol import EpochEnd, StageStarted, Step

    rng = np.random.default_rng(0)
    t = np.arange(steps)
    loss = (0.05 + 0.65 * np.exp(-5 * t / steps)) * (1 + 0.05 * rng.standard_normal(steps))
    events = [StageStarted(stage=2, name="LEGAL_MOVES", metric="f1", steps_per_epoch=per_epoch)]
    for i in range(steps):
        epoch, batch = i // per_epoch + 1, i % per_epoch + 1
        events.append(
            Step(
                stage=2,
                epoch=epoch,
                batch=batch,
                global_step=i + 1,
                loss=float(loss[i]),
                metric=0.5,
                metric_cum=0.5,
                lr=1e-3,
            )
        )
        if batch == per_epoch:
            events.append(EpochEnd(stage=2, epoch=epoch, global_step=i + 1, train_loss=0.1))
    store, diagnoser = RunStore(), None
    apply_s = update_s = 0.0
    worst = 0.0
    diagnoser = Diagnoser(store)
    for lo in range(0, len(events), chunk):
        t0 = time.perf_counter()
        store.apply_all(events[lo : lo + chunk])
        t1 = time.perf_counter()
        diagnoser.update()
        t2 = time.perf_counter()
        apply_s += t1 - t0
        update_s += t2 - t1
        worst = max(worst, t2 - t1)
    t0 = time.perf_counter()
    diagnose(store)
    offline = time.perf_counter() - t0
    calls = -(-len(events) // chunk)
    print(
        f"{steps} steps, {calls} updates: update {1000 * update_s / calls:.2f} ms mean, "
        f"{1000 * worst:.1f} ms worst; RunStore.apply of the same chunk "
        f"{1000 * apply_s / calls:.2f} ms (update/apply = {update_s / apply_s:.2f}); "
        f"offline diagnose of the whole run {offline:.2f} s"
    )


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "evaluate"
    if command == "generate":
        generate(tuple(sys.argv[2:]) or ("trainer", "digits"))
        return
    if command == "speed":
        speed()
        return
    result = evaluate()
    print_report(result)
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "diagnostics.json").write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
