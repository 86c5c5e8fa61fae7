"""Stage 3 memory per position and HCPE reading speed: sparse policy targets vs the dense form.

    python bench/stage3_memory.py [--records 200000] [--games 400] [--repeats 3]

- ``hcpe``: an HCPE file of ``--records`` records written by ``write_hcpe`` (self-play games,
  seed 0, the last game cut). Each loader runs in a fresh child process, so its peak RSS
  (``ru_maxrss``) minus the RSS after imports is what loading costs:
  ``hcpe_arrays`` (sparse policy, chunked, vectorised) against ``dense_baseline``: the previous
  reader, one record at a time (``encode_position``) into a dense (N, 1496) float32 one-hot.
  ``records_per_s`` (wall) and ``records_per_cpu_s`` (the child's CPU time, steadier on a
  shared machine) are the best of ``--repeats`` runs of each, interleaved.
- ``host_bytes``: bytes per position of the loaded arrays (board, hand, policy, value), for
  the HCPE file and for ``stage3_arrays(--games)`` (self-play aggregated per position), against
  the dense size, which is computable: 1496 float32 policy + the same board/hand/value.
  The device copy (``TensorData``) holds the same arrays, so device bytes are these.
- ``batch_us``: one batch of 256 rows from ``TensorData.batch`` (gather + densify on the CPU)
  against indexing a dense policy tensor, same rows, same run.

Prints one JSON object per measurement and a summary line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cshogi
import numpy as np
import torch

from trainer.data import TensorData
from trainer.shogi.datasets import ShogiArrays, hcpe_arrays, stage3_arrays
from trainer.shogi.features import encode_position
from trainer.shogi.hcpe import HCPE_DTYPE
from trainer.shogi.labels import NUM_MOVE_LABELS, move_labels
from trainer.shogi.selfplay import play_games, value_for_mover

DENSE_POLICY_BYTES = NUM_MOVE_LABELS * 4


def write_records(path: Path, count: int) -> None:
    """``count`` HCPE records of seed 0's self-play games (``write_hcpe``'s format)."""
    chunks, total = [], 0
    for game in play_games(0):
        records = np.zeros(len(game.plies), dtype=HCPE_DTYPE)
        records["hcp"] = [ply.hcp for ply in game.plies]
        records["bestMove16"] = [cshogi.move16(ply.move) for ply in game.plies]
        records["gameResult"] = game.result
        chunks.append(records)
        total += len(records)
        if total >= count:
            break
    np.concatenate(chunks)[:count].tofile(path)


def dense_baseline(path: Path) -> ShogiArrays:
    """The reader before sparse targets: a Python loop per record, a dense one-hot policy."""
    board = cshogi.Board()
    boards, hands, moves, white, values = [], [], [], [], []
    for record in np.fromfile(path, dtype=HCPE_DTYPE):
        board.set_hcp(np.asarray(record["hcp"]))
        move = board.move_from_move16(int(record["bestMove16"]))
        assert board.is_legal(move)
        board_ids, hand = encode_position(board)
        boards.append(board_ids)
        hands.append(hand)
        moves.append(move)
        white.append(board.turn == cshogi.WHITE)
        values.append(value_for_mover(int(record["gameResult"]), board.turn))
    policy = np.zeros((len(boards), NUM_MOVE_LABELS), dtype=np.float32)
    policy[np.arange(len(boards)), move_labels(np.array(moves), np.array(white))] = 1.0
    return ShogiArrays(
        board=np.stack(boards),
        hand=np.stack(hands),
        targets={"policy": policy, "value": np.array(values, dtype=np.float32)},
    )


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child_load(loader: str, path: Path) -> None:
    """Run in a fresh process: load ``path`` and print seconds, peak RSS growth and bytes/row."""
    before = rss_bytes()
    start, cpu_start = time.perf_counter(), time.process_time()
    data = hcpe_arrays([path]) if loader == "hcpe_arrays" else dense_baseline(path)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result = {"seconds": seconds, "cpu_s": cpu, "peak_growth": peak - before, "bytes": nbytes(data)}
    print(json.dumps(result))


def run_child(loader: str, path: Path) -> dict:
    command = [sys.executable, __file__, "--child", loader, "--path", str(path)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(out.splitlines()[-1])


def nbytes(data: ShogiArrays) -> int:
    arrays = [data.board, data.hand, *data.targets.values()]
    return sum(array.nbytes for array in arrays)


def dense_bytes(data: ShogiArrays) -> int:
    """What ``data`` would take with a dense float32 policy in place of its sparse one."""
    return nbytes(data) - data.targets["policy"].nbytes + len(data) * DENSE_POLICY_BYTES


def hcpe_rows(records: int, repeats: int) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.hcpe"
        write_records(path, records)
        runs: dict[str, list[dict]] = {"hcpe_arrays": [], "dense_baseline": []}
        for _ in range(repeats):
            for loader, results in runs.items():
                results.append(run_child(loader, path))
    rows = []
    for loader, results in runs.items():
        peak = max(r["peak_growth"] for r in results)
        rows.append(
            {
                "measure": "hcpe",
                "loader": loader,
                "records": records,
                "records_per_s": round(records / min(r["seconds"] for r in results)),
                "records_per_cpu_s": round(records / min(r["cpu_s"] for r in results)),
                "peak_rss_mb": round(peak / 2**20, 1),
                "peak_rss_bytes_per_record": round(peak / records),
                "bytes_per_row": round(results[0]["bytes"] / records, 1),
            }
        )
    return rows


def host_row(source: str, data: ShogiArrays) -> dict:
    policy = data.targets["policy"]
    return {
        "measure": "host_bytes",
        "source": source,
        "rows": len(data),
        "max_pairs_per_row": policy.max_pairs,
        "policy_bytes_per_row": round(policy.nbytes / len(data), 1),
        "bytes_per_row": round(nbytes(data) / len(data), 1),
        "dense_bytes_per_row": round(dense_bytes(data) / len(data), 1),
        "ratio": round(dense_bytes(data) / nbytes(data), 1),
        "dense_gb_per_million_rows": round(dense_bytes(data) / len(data) * 1e6 / 1e9, 2),
        "gb_per_million_rows": round(nbytes(data) / len(data) * 1e6 / 1e9, 3),
    }


def batch_row(data: ShogiArrays, source: str, repeats: int = 200) -> dict:
    """Microseconds per 256-row batch: sparse gather + densify vs indexing a dense tensor."""
    device = torch.device("cpu")
    tensors = TensorData.from_arrays(data, device)
    dense = torch.from_numpy(data.targets["policy"].to_dense())
    batches = list(islice(torch.randperm(len(data)).split(256), repeats))
    timings = {}
    for name, fetch in (("sparse", tensors.targets["policy"].rows), ("dense", dense.__getitem__)):
        start = time.perf_counter()
        for idx in batches:
            fetch(idx)
        timings[name] = (time.perf_counter() - start) / len(batches) * 1e6
    return {
        "measure": "batch_us",
        "source": source,
        "batch": 256,
        "sparse_densify_us": round(timings["sparse"], 1),
        "dense_index_us": round(timings["dense"], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--games", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", choices=["hcpe_arrays", "dense_baseline"])
    parser.add_argument("--path", type=Path)
    args = parser.parse_args()
    if args.child:
        child_load(args.child, args.path)
        return
    torch.set_num_threads(1)
    rows = hcpe_rows(args.records, args.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "small.hcpe"
        write_records(path, 20_000)
        hcpe_data = hcpe_arrays([path])
    selfplay = stage3_arrays(args.games, 0, None)
    rows += [host_row("hcpe", hcpe_data), host_row(f"selfplay_{args.games}_games", selfplay)]
    rows += [batch_row(hcpe_data, "hcpe"), batch_row(selfplay, "selfplay")]
    for row in rows:
        print(json.dumps(row))
    new, old = rows[0], rows[1]
    print(
        f"HCPE {args.records} records: {new['records_per_s']} records/s vs "
        f"{old['records_per_s']} before ({new['records_per_s'] / old['records_per_s']:.1f}x wall, "
        f"{new['records_per_cpu_s'] / old['records_per_cpu_s']:.1f}x CPU); "
        f"peak RSS {new['peak_rss_mb']} MB vs {old['peak_rss_mb']} MB; "
        f"host bytes/position {rows[2]['bytes_per_row']} (HCPE), {rows[3]['bytes_per_row']} "
        f"(self-play) vs dense {rows[2]['dense_bytes_per_row']}; load {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
