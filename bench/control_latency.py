"""Control-channel latency against a loop doing ~100 steps/s.

Measures, over a real Unix socket served by the SDK:
- request -> reply: ``status`` (answered by the server thread, never waits for the loop);
- request -> applied: ``scale_lr`` (queued, applied by the loop at its next step boundary,
  then answered), once with a raw blocking socket and once with the app's asyncio client.

    python bench/control_latency.py [--rate 100] [--requests 200] [--json]

The loop sleeps 1/rate s per step (a stand-in for the forward/backward pass) and writes a step
event every step, as the trainer does. Expect request->applied around half a step period.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from maou_tui.control import ControlClient
from maou_tui.protocol import Step
from maou_tui.sdk import ControlServer, EventWriter, LoopControl, RunDir

SCHEDULE_LR = 1e-3


class PacedLoop:
    """A loop at ``rate`` steps/s that emits a step event and polls control every step."""

    def __init__(self, run_dir: Path, rate: float) -> None:
        self.run = RunDir.create(run_dir)
        self.events = EventWriter(self.run.events_path)
        self.server = ControlServer(self.run.socket_path, rate_per_s=1000, burst=1000).start()
        self.control = LoopControl(self.server, self.events)
        self.period = 1.0 / rate
        self.steps = 0
        self.started = time.perf_counter()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        next_step = time.perf_counter()
        while not self._done.is_set():
            self.steps += 1
            lr = self.control.lr_multiplier * SCHEDULE_LR
            self.events.emit(
                Step(stage=1, epoch=1, batch=self.steps, global_step=self.steps, loss=1.0, lr=lr)
            )
            self.control.update_state(stage=1, epoch=1, batch=self.steps, step=self.steps, lr=lr)
            self.control.poll(self.steps, schedule_lr=SCHEDULE_LR)
            next_step += self.period
            time.sleep(max(0.0, next_step - time.perf_counter()))

    def close(self) -> float:
        """Stop; returns the achieved steps/s."""
        self._done.set()
        self._thread.join()
        self.control.close()
        self.events.close()
        self.run.close()
        return self.steps / (time.perf_counter() - self.started)


def raw_round_trips(path: Path, payloads: list[dict]) -> list[float]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(path))
    reader = sock.makefile("rb")
    times = []
    for index, payload in enumerate(payloads):
        line = json.dumps({**payload, "id": f"r{index}"}).encode() + b"\n"
        started = time.perf_counter()
        sock.sendall(line)
        reply = json.loads(reader.readline())
        times.append(time.perf_counter() - started)
        assert reply["ok"], reply
        time.sleep(0.003)  # do not phase-lock with the loop
    sock.close()
    return times


async def client_round_trips(path: Path, payloads: list[dict]) -> list[float]:
    times = []
    async with ControlClient(path, timeout=5) as client:
        for payload in payloads:
            fields = {k: v for k, v in payload.items() if k != "type"}
            started = time.perf_counter()
            reply = await client.request(payload["type"], **fields)
            times.append(time.perf_counter() - started)
            assert reply.ok, reply
            await asyncio.sleep(0.003)
    return times


def summary(name: str, times: list[float]) -> dict:
    ms = sorted(t * 1000 for t in times)
    return {
        "case": name,
        "n": len(ms),
        "p50_ms": statistics.median(ms),
        "p95_ms": ms[min(len(ms) - 1, int(0.95 * len(ms)))],
        "max_ms": ms[-1],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="loop steps per second")
    parser.add_argument("--requests", type=int, default=200, help="requests per case")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()

    status = [{"type": "status"}] * args.requests
    scale = [{"type": "scale_lr", "factor": f} for f in (0.5, 2.0) * (args.requests // 2)]
    with tempfile.TemporaryDirectory(prefix="bench-ctl-") as tmp:
        loop = PacedLoop(Path(tmp) / "run", args.rate)
        rows = [
            summary(
                "status  request->reply   (raw socket)",
                raw_round_trips(loop.run.socket_path, status),
            ),
            summary(
                "scale_lr request->applied (raw socket)",
                raw_round_trips(loop.run.socket_path, scale),
            ),
            summary(
                "status  request->reply   (ControlClient)",
                asyncio.run(client_round_trips(loop.run.socket_path, status)),
            ),
            summary(
                "scale_lr request->applied (ControlClient)",
                asyncio.run(client_round_trips(loop.run.socket_path, scale)),
            ),
        ]
        steps_per_s = loop.close()
    result = {
        "loop_steps_per_s": round(steps_per_s, 1),
        "step_period_ms": 1000 / args.rate,
        "rows": rows,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"loop: {steps_per_s:.0f} steps/s (target {args.rate:g}); step period "
        f"{1000 / args.rate:.1f} ms"
    )
    print(f"{'case':44s} {'n':>5s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s}")
    for row in rows:
        print(
            f"{row['case']:44s} {row['n']:5d} {row['p50_ms']:8.2f} {row['p95_ms']:8.2f} "
            f"{row['max_ms']:8.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
