"""Log viewer benchmark (figures in docs/app.md and README): opening a 100 MB and a 1 GB log.

For each size and shape, in the same run, on the same generated log (``maou``: logger lines with
maou's prefix and tqdm bars redrawn with ``\\r``; ``dense``: short logger lines only):
- ours: ``LineIndex`` as the app drives it: time to the first screen (the first backward block
  indexed and the last 50 lines read and rendered by ``display_line``), and to the full index;
- toolong 1.5 (``pip install toolong`` in another venv: it pins textual 0.58, so it cannot share
  this one; pass its python with ``--toolong-python``): its ``LogFile.scan_line_breaks``, the
  loop its UI's scan worker runs: time to its first batch of line breaks (its first screen) and
  to the end of the scan.
Run: ``python -m bench.log_viewer --toolong-python PY [--sizes 100 1000]``.
Times are wall seconds, best of ``--repeat``; the file is in the page cache for both (written
just before, read once untimed). Files go to a temporary directory and are deleted afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from maou_tui.app.log_display import display_line
from maou_tui.ingest.line_index import LineIndex

SCREEN_LINES = 50
PREFIX = "2026-08-22T10:15:00+09:00 | INFO  | multi_stage_training.py | _run_stage | 501 | "

TOOLONG_SCAN = """
import json, sys, time, threading
from toolong.log_file import LogFile
log = LogFile(sys.argv[1])
started = time.perf_counter()
log.open(threading.Event())
first = None
lines = 0
for _position, breaks in log.scan_line_breaks():
    lines += len(breaks)
    if first is None and breaks:
        first = time.perf_counter() - started
print(json.dumps({"first_s": first, "full_s": time.perf_counter() - started, "breaks": lines}))
"""


def write_log(path: Path, megabytes: int, shape: str) -> None:
    """``maou``: logger lines and tqdm bars (each a line of ~40 ``\\r`` renders), maou's shapes;
    ``dense``: one ~100-byte logger line per batch (this project's train.log)."""
    chunk = []
    for batch in range(0, 2000, 40):
        if shape == "dense":
            chunk += [
                f"{PREFIX}Epoch 1 Batch {b}/2000: Loss=0.5{b:04d}\n"
                for b in range(batch, batch + 40)
            ]
            continue
        renders = "\r".join(
            f"Epoch 1: {b / 20:3.0f}%|####      | {b}/2000 [00:10<00:40, 36.0it/s, loss=0.5]"
            for b in range(batch, batch + 40)
        )
        chunk.append(renders + "\n")
        chunk.append(f"{PREFIX}Epoch 1 Batch {batch}/2000: Loss=0.5{batch:04d}, F1=50.00%\n")
    block = "".join(chunk).encode()
    with path.open("wb") as handle:
        for _ in range(megabytes * (1 << 20) // len(block) + 1):
            handle.write(block)


def ours(path: Path) -> dict[str, float]:
    started = time.perf_counter()
    index = LineIndex(path)
    index.grow_to(path.stat().st_size)
    while index.line_count < SCREEN_LINES and index.step():
        pass
    count = index.line_count
    for line in range(count - SCREEN_LINES, count):
        display_line(index.line_bytes(line), show_prefix=False, colours=True)
    first = time.perf_counter() - started
    while index.step():
        pass
    full = time.perf_counter() - started
    lines = index.line_count
    index.close()
    return {"first_s": first, "full_s": full, "lines": lines}


def toolong(python: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [python, "-c", TOOLONG_SCAN, str(path)], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def best(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: min(run[key] for run in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000], help="MB")
    parser.add_argument("--shapes", nargs="+", default=["maou", "dense"], choices=["maou", "dense"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--toolong-python", help="a python with toolong installed")
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="bench-log-viewer-") as tmp:
        for megabytes, shape in [(mb, shape) for mb in args.sizes for shape in args.shapes]:
            path = Path(tmp) / f"{shape}-{megabytes}mb.log"
            write_log(path, megabytes, shape)
            path.read_bytes()  # in the page cache for both readers
            mine = best([ours(path) for _ in range(args.repeat)])
            line = (
                f"{megabytes} MB {shape}, {int(mine['lines']):,} lines: ours first screen "
                f"{mine['first_s'] * 1000:.0f} ms, full index {mine['full_s']:.2f} s"
            )
            if args.toolong_python:
                peer = best([toolong(args.toolong_python, path) for _ in range(args.repeat)])
                line += (
                    f"; toolong first batch {peer['first_s'] * 1000:.0f} ms, full scan "
                    f"{peer['full_s']:.2f} s; ratios (toolong / ours) first "
                    f"{peer['first_s'] / mine['first_s']:.0f} x, full "
                    f"{peer['full_s'] / mine['full_s']:.1f} x"
                )
            print(line, flush=True)
            path.unlink()
    print(f"load average: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
