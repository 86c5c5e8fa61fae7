"""Memory and speed of maou data files: streamed file by file vs loaded whole (``--no-streaming``).

    python bench/maou_streaming.py [--files 6] [--rows 20000] [--batch 1024]

Writes ``--files`` maou Stage 3 files (``transformed_chunkNNNN.feather``, maou's schema: dense
1496-float ``moveLabel`` and ``moveWinRate``, LZ4; rows are self-play positions repeated) with
pyarrow, then runs one training epoch's batches (no model) in a fresh child process per mode:
- ``streaming``: ``StreamingData`` (what maou-train does by default), 0 workers;
- ``in_memory``: every file read and held (``--no-streaming``), then the same batches.
Each child reports its peak RSS above the RSS after imports (``ru_maxrss``), rows per second
of the epoch (reading included) and per CPU second. Prints one JSON object per mode and the
ratio streaming / in_memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_files(directory: Path, files: int, rows: int) -> None:
    """Each file: one 4096-row table of self-play positions written again and again (the
    values repeat; sizes, schema and compression are maou's)."""
    import numpy as np
    import pyarrow.ipc as ipc

    from tests.maou_data.maou_format import preprocessing_table
    from trainer.shogi.datasets import stage3_arrays

    base = stage3_arrays(20, 0, directory / "cache")
    table = preprocessing_table(base.subset(np.arange(4096) % len(base)))
    options = ipc.IpcWriteOptions(compression="lz4")
    for i in range(files):
        path = directory / f"transformed_chunk{i:04d}.feather"
        with ipc.new_file(str(path), table.schema, options=options) as writer:
            for start in range(0, rows, 4096):
                writer.write_table(table.slice(0, min(4096, rows - start)))


def child(mode: str, directory: Path, batch: int) -> dict[str, float | str]:
    import torch

    from trainer.data import InMemoryData, TensorData
    from trainer.shogi.maou_files import FilePart, inspect_paths, read_parts
    from trainer.streaming import StreamingData

    cpu = torch.device("cpu")
    before = _rss_mb()
    start, cpu_start = time.perf_counter(), time.process_time()
    parts = [FilePart(f) for f in inspect_paths([directory], "--x", "preprocessing")]
    if mode == "streaming":
        data: StreamingData | InMemoryData = StreamingData(parts, "win-rate", batch, 0, 3, cpu)
    else:
        data = InMemoryData(TensorData.from_arrays(read_parts(parts, "win-rate"), cpu), batch, 0, 3)
    rows = sum(int(b["board"].shape[0]) for b in data.epoch_batches(1))
    wall, cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
    return {
        "mode": mode,
        "rows": rows,
        "peak_rss_mb_above_imports": round(_rss_mb() - before, 1),
        "rows_per_s": round(rows / wall),
        "rows_per_cpu_s": round(rows / cpu_s),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=6)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--child", choices=["streaming", "in_memory"])
    parser.add_argument("--dir", type=Path)
    args = parser.parse_args()
    if args.child:
        import pyarrow  # noqa: F401
        import torch  # noqa: F401 - imported before the baseline RSS is taken

        print(json.dumps(child(args.child, args.dir, args.batch)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        write_files(directory, args.files, args.rows)
        size = sum(p.stat().st_size for p in directory.glob("*.feather"))
        print(json.dumps({"files": args.files, "rows_per_file": args.rows, "bytes": size}))
        results = {}
        for mode in ("streaming", "in_memory"):
            out = subprocess.run(
                [sys.executable, __file__, "--child", mode, "--dir", tmp, "--batch",
                 str(args.batch)],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
            print(json.dumps(results[mode]))
        s, m = results["streaming"], results["in_memory"]
        print(
            json.dumps(
                {
                    "peak_rss_ratio_streaming_over_in_memory": round(
                        s["peak_rss_mb_above_imports"] / m["peak_rss_mb_above_imports"], 3
                    ),
                    "rows_per_cpu_s_ratio": round(s["rows_per_cpu_s"] / m["rows_per_cpu_s"], 3),
                }
            )
        )


if __name__ == "__main__":
    main()
