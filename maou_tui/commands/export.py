"""``maou-tui export PATH``: every point of a run as CSV or JSON lines.

Columns ``stage,epoch,batch,step,name,value`` (empty where the source does not say; ``run``
first when PATH is a directory of runs), and ``wall_time`` last when the source gives one
(TensorBoard event files). With ``--averaging``, one row per series instead:
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
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from maou_tui.store import RunStore

NAME = "export"
HELP = (
    "Write every point of a run (log, events.jsonl, TensorBoard event files or run directory) "
    "as CSV or JSON lines."
)
COLUMNS = ("stage", "epoch", "batch", "step", "name", "value")
AVERAGING_COLUMNS = ("name", "points", "averaging", "basis", "evidence")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path", type=Path, help="maou log, events.jsonl, tfevents file, run dir or dir of runs"
    )
    parser.add_argument(
        "events",
        type=Path,
        nargs="?",
        help="the TensorBoard event files of the same run as PATH (a log): read as one run",
    )
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


def _wall_times(store: RunStore, name: str, n: int) -> list[float | None]:
    """The wall time of each point of a series, where every point has one."""
    walls = store.wall_times.get(name)
    if walls is None or len(walls) != n:
        return [None] * n
    return walls.values.tolist()


def _rows(store: RunStore, only: set[str] | None, with_wall: bool) -> Iterator[tuple[object, ...]]:
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
            _wall_times(store, name, len(s)),
            strict=True,
        )
        for stage, epoch, batch, step, value, wall in columns:
            row = (
                None if stage < 0 else stage,
                None if epoch < 0 else epoch,
                None if batch < 0 else batch,
                step,
                name,
                None if math.isnan(value) else float(value),
            )
            yield (*row, wall) if with_wall else row


def _unknown_series(only: set[str] | None, runs: Sequence[tuple[str | None, Any]]) -> str:
    """An error line naming each ``--name`` no run has (empty when all are known)."""
    known: set[str] = set()
    for _, store in runs:
        known.update(store.names())
    unknown = sorted((only or set()) - known)
    if not unknown:
        return ""
    return f"no series named {', '.join(unknown)}; the series are: {', '.join(sorted(known))}"


def _averaging_rows(store: RunStore, only: set[str] | None) -> Iterator[tuple[object, ...]]:
    for name in store.names():
        if only is None or name in only:
            series = store.series(name)
            found = series.averaging
            yield name, len(series), found.kind, found.basis, found.evidence


def _write(
    out: IO[str],
    fmt: str,
    runs: list[tuple[str | None, RunStore]],
    only: set[str] | None,
    averaging: bool = False,
) -> int:
    multi = len(runs) > 1 or runs[0][0] is not None
    with_wall = not averaging and any(store.wall_times for _run, store in runs)
    columns = AVERAGING_COLUMNS if averaging else COLUMNS
    header = (("run",) if multi else ()) + columns + (("wall_time",) if with_wall else ())
    count = 0
    writer = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
    if writer is not None:
        writer.writerow(header)
    for run, store in runs:
        rows = _averaging_rows(store, only) if averaging else _rows(store, only, with_wall)
        for row in rows:
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
    runs: list[tuple[str | None, RunStore]]
    try:
        if not path.exists():
            raise IngestError(
                f"{path}: no such file or directory; pass a log, events.jsonl or run dir"
            )
        source = open_source(path)
        if args.events is not None:
            source.close()
            runs = [(None, load_store(path, args.events))]
        elif isinstance(source, RunsDirectory):
            source.close()
            names = source.runs()
            if not names:
                raise IngestError(
                    f"{path}: no runs found (no events.jsonl, *.log or tfevents file); "
                    "pass a log, events.jsonl, TensorBoard log dir or run dir"
                )
            runs = [(str(p.name), load_store(p)) for p in names]
        else:
            source.close()
            runs = [(None, load_store(path))]
    except (IngestError, OSError) as exc:
        print(f"maou-tui export: {exc}", file=sys.stderr)
        return 2
    only = set(args.name) if args.name else None
    missing = _unknown_series(only, runs)
    if missing:
        print(f"maou-tui export: {missing}", file=sys.stderr)
        return 2
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
