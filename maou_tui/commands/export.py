"""``maou-tui export PATH``: every point of a run as CSV or JSON lines.

Columns ``stage,epoch,batch,step,name,value`` (empty where the source does not say; ``run``
first when PATH is a directory of runs). With ``--averaging``, one row per series instead:
``name,points,averaging,basis,evidence`` (``Series.averaging``). Names are the store's series
names (see ``maou_tui/store.py`` and docs/ingest.md). Points are written series by series, in
step order.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path
from typing import IO

NAME = "export"
HELP = "Write every point of a run (log, events.jsonl or run directory) as CSV or JSON lines."
COLUMNS = ("stage", "epoch", "batch", "step", "name", "value")
AVERAGING_COLUMNS = ("name", "points", "averaging", "basis", "evidence")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, help="maou log, events.jsonl, run dir or dir of runs")
    parser.add_argument("--format", choices=("csv", "jsonl"), default="csv", help="default: csv")
    parser.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    parser.add_argument(
        "--name", action="append", metavar="SERIES", help="only these series (repeatable)"
    )
    parser.add_argument(
        "--averaging",
        action="store_true",
        help="instead of the points, one row per series: how its values were averaged "
        "(batch, running_mean, ema, unknown), on what basis, and the evidence",
    )


def _rows(store, only: set[str] | None):
    for name in store.names():
        if only is not None and name not in only:
            continue
        s = store.series(name)
        columns = zip(
            s.stages.tolist(),
            s.epochs.tolist(),
            s.batches.tolist(),
            s.steps.tolist(),
            s.values,
            strict=True,
        )
        for stage, epoch, batch, step, value in columns:
            yield (
                None if stage < 0 else stage,
                None if epoch < 0 else epoch,
                None if batch < 0 else batch,
                step,
                name,
                None if math.isnan(value) else float(value),
            )


def _averaging_rows(store, only: set[str] | None):
    for name in store.names():
        if only is None or name in only:
            s = store.series(name)
            found = s.averaging
            yield name, len(s), found.kind, found.basis, found.evidence


def _write(
    out: IO[str], fmt: str, runs: list[tuple[str | None, object]], only, averaging: bool = False
) -> int:
    multi = len(runs) > 1 or runs[0][0] is not None
    columns, rows = (AVERAGING_COLUMNS, _averaging_rows) if averaging else (COLUMNS, _rows)
    header = (("run",) if multi else ()) + columns
    count = 0
    writer = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
    if writer is not None:
        writer.writerow(header)
    for run, store in runs:
        for row in rows(store, only):
            full = ((run,) if multi else ()) + row
            if writer is not None:
                writer.writerow(["" if v is None else v for v in full])
            else:
                out.write(json.dumps(dict(zip(header, full, strict=True))) + "\n")
            count += 1
    return count


def run(args: argparse.Namespace) -> int:
    from maou_tui.ingest import IngestError, RunsDirectory, load_store, open_source

    path: Path = args.path
    try:
        if not path.exists():
            raise IngestError(
                f"{path}: no such file or directory; pass a log, events.jsonl or run dir"
            )
        source = open_source(path)
        if isinstance(source, RunsDirectory):
            source.close()
            names = source.runs()
            if not names:
                raise IngestError(f"{path}: no runs found (no events.jsonl, train.log or *.log)")
            runs = [(str(p.name), load_store(p)) for p in names]
        else:
            source.close()
            runs = [(None, load_store(path))]
    except (IngestError, OSError) as exc:
        print(f"maou-tui export: {exc}", file=sys.stderr)
        return 2
    only = set(args.name) if args.name else None
    try:
        if args.output is None:
            _write(sys.stdout, args.format, runs, only, args.averaging)
            return 0
        tmp = args.output.with_name(args.output.name + ".part")
        with open(tmp, "w", encoding="utf-8", newline="") as out:
            count = _write(out, args.format, runs, only, args.averaging)
        tmp.replace(args.output)
    except BrokenPipeError:  # e.g. piped into head: not an error
        sys.stderr.close()
        return 0
    except OSError as exc:
        print(f"maou-tui export: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"wrote {count} points to {args.output}", file=sys.stderr)
    return 0
