"""Monitor around plain torch loops: LR multiplier on top of any scheduler, pause, stop, and
control by an outside process speaking raw JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

import pytest

from maou_tui.sdk import Monitor
from tests.sdk.conftest import RawClient

torch = pytest.importorskip("torch")

ROOT = Path(__file__).parents[2]


def wait_until(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return False


def lr_probe():
    """One parameter with gradient 1 under plain SGD: each step moves it by exactly -lr."""
    weight = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = torch.optim.SGD([weight], lr=0.1)
    return weight, optimizer


def used_lr(weight, optimizer) -> float:
    before = weight.item()
    optimizer.zero_grad()
    weight.sum().backward()
    optimizer.step()
    return before - weight.item()


@pytest.mark.parametrize(
    "make_scheduler",
    [
        lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=30),  # chainable
        lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.5),
        lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 10)),
    ],
    ids=["cosine", "step", "warmup-lambda"],
)
def test_multiplier_rides_on_the_schedule_without_compounding(short_dir: Path, make_scheduler):
    weight, optimizer = lr_probe()
    scheduler = make_scheduler(optimizer)
    _, ref_optimizer = lr_probe()
    ref_scheduler = make_scheduler(ref_optimizer)
    mon = Monitor(short_dir / "run", optimizer, scheduler=scheduler, total_steps=30)
    client = RawClient(mon.run.socket_path)
    try:
        for step in range(1, 31):
            expected = ref_optimizer.param_groups[0]["lr"] * (0.5 if step > 10 else 1.0)
            assert used_lr(weight, optimizer) == pytest.approx(expected, rel=1e-9)
            scheduler.step()
            ref_optimizer.step()  # no gradients: changes nothing, keeps the scheduler's order
            ref_scheduler.step()
            if step == 10:
                client.send({"type": "scale_lr", "id": "half", "factor": 0.5})
                assert wait_until(lambda: mon.control.server.has_pending)
            assert mon.step(loss=1.0 / step, metric=0.1)
        assert client.read_reply()["step"] == 10
        assert optimizer.param_groups[0]["lr"] == pytest.approx(ref_optimizer.param_groups[0]["lr"])
    finally:
        client.close()
        mon.close()
    events = [json.loads(line) for line in mon.run.events_path.read_text().splitlines()]
    steps = [e for e in events if e["type"] == "step"]
    assert [e["global_step"] for e in steps] == list(range(1, 31))
    assert steps[9]["lr_multiplier"] == 1.0 and steps[10]["lr_multiplier"] == 0.5


def test_events_of_a_monitored_run(short_dir: Path):
    model = torch.nn.Linear(4, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    with Monitor(short_dir / "run", optimizer, metric_name="f1", batch_size=8) as mon:
        for index in range(5):
            loss = model(torch.randn(8, 4)).pow(2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            mon.step(loss=loss.item(), metric=0.5, epoch=1 + index // 3)
        mon.step(loss=float("nan"), epoch=2)
    lines = mon.run.events_path.read_text().splitlines()
    # The system sampler's first sample is taken at start; the others come every 5 s.
    system = [e for e in map(json.loads, lines) if e["type"] == "system"]
    assert system and system[0]["processes"][0]["pid"] == os.getpid()
    events = [e for e in map(json.loads, lines) if e["type"] != "system"]
    kinds = [e["type"] for e in events]
    assert kinds == ["run_started", "stage_started"] + ["step"] * 6 + ["run_finished"]
    assert events[1]["metric"] == "f1" and events[1]["base_lr"] == 1e-3
    assert events[2]["samples_per_s"] > 0 and events[2]["lr"] == 1e-3
    assert events[-2]["loss"] is None
    steps = [(e["epoch"], e["batch"], e["global_step"]) for e in events if e["type"] == "step"]
    assert steps == [(1, 1, 1), (1, 2, 2), (1, 3, 3), (2, 1, 4), (2, 2, 5), (2, 3, 6)]
    assert events[-1] == {**events[-1], "status": "completed", "step": 6}
    assert not mon.run.socket_path.exists()


def test_tensors_for_loss_and_metric_are_recorded_as_their_values(short_dir: Path):
    model = torch.nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    inputs, labels = torch.randn(8, 4), torch.tensor([0, 1] * 4)
    with Monitor(short_dir / "run", optimizer, control=False) as mon:
        logits = model(inputs)
        loss = torch.nn.functional.cross_entropy(logits, labels)
        loss.backward()
        accuracy = (logits.argmax(1) == labels).float().mean()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no "requires_grad ... to a scalar" warning
            mon.step(loss=loss, metric=accuracy)
            mon.step(loss=loss, metric=None, metrics={"top5": 1.0})
    events = map(json.loads, mon.run.events_path.read_text().splitlines())
    steps = [e for e in events if e["type"] == "step"]
    assert steps[0]["loss"] == pytest.approx(loss.item()) and steps[0]["metric"] == accuracy.item()
    assert steps[1]["loss"] == pytest.approx(loss.item()) and steps[1]["metric"] is None
    assert steps[1]["metrics"] == {"top5": 1.0}


def test_stages_and_checkpoints_are_refused_unless_supported(short_dir: Path):
    _, optimizer = lr_probe()
    saved: list[int] = []

    def save(step: int) -> str:
        saved.append(step)
        return f"ckpt-{step}.pt"

    with Monitor(short_dir / "a", optimizer) as plain, RawClient(plain.run.socket_path) as c:
        assert "no stages" in c.ask({"type": "skip_stage", "id": "k"})["error"]
        assert "checkpoint_fn" in c.ask({"type": "checkpoint", "id": "c"})["error"]
    with Monitor(short_dir / "b", optimizer, checkpoint_fn=save) as mon:
        client = RawClient(mon.run.socket_path)
        client.send({"type": "checkpoint", "id": "c"})
        assert wait_until(lambda: mon.control.server.has_pending)
        mon.step(loss=1.0)
        assert client.read_reply()["ok"] and saved == [1]
        assert client.ask({"type": "status", "id": "s"})["state"]["last_checkpoint"] == "ckpt-1.pt"
        client.close()


EXTERNAL_CLIENT = textwrap.dedent(
    """
    import json, socket, sys, time
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(sys.argv[1])
    reader = sock.makefile("rb")
    def ask(**request):
        sock.sendall(json.dumps(request).encode() + b"\\n")
        reply = json.loads(reader.readline())
        print(request["type"], reply["ok"], reply["status"], reply["step"],
              reply["state"]["paused"], reply["state"]["lr_multiplier"], flush=True)
        return reply
    while ask(type="status", id="s0")["step"] < 5:
        time.sleep(0.02)
    paused_at = ask(type="pause", id="p")["step"]
    time.sleep(0.3)
    assert ask(type="status", id="s1")["step"] == paused_at
    ask(type="resume", id="r")
    ask(type="scale_lr", id="h", factor=0.5)
    ask(type="set_lr", id="v", value=0.0125)
    ask(type="stop", id="x")
    """
)


def test_an_outside_process_controls_a_plain_torch_loop(short_dir: Path):
    """Done-when of the issue: raw JSON over the socket drives a loop that uses the SDK."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    inputs, labels = torch.randn(512, 16), torch.randint(0, 4, (512,))
    mon = Monitor(short_dir / "run", optimizer, metric_name="accuracy", batch_size=64)
    outsider = subprocess.Popen(
        [sys.executable, "-c", EXTERNAL_CLIENT, str(mon.run.socket_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd="/",
    )
    threading.Timer(60, outsider.kill).start()
    steps = 0
    try:
        while steps < 100_000:
            batch = torch.randint(0, 512, (64,))
            logits = model(inputs[batch])
            loss = torch.nn.functional.cross_entropy(logits, labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            accuracy = (logits.argmax(1) == labels[batch]).float().mean().item()
            steps += 1
            if not mon.step(loss=loss.item(), metric=accuracy):
                break
            time.sleep(0.002)
    finally:
        mon.close()
    out, err = outsider.communicate(timeout=30)
    assert outsider.returncode == 0, err
    lines = [line.split() for line in out.splitlines()]
    by_type = {fields[0]: fields for fields in lines}
    assert by_type["pause"][1:3] == ["True", "applied"] and by_type["pause"][4] == "True"
    assert by_type["resume"][4] == "False"
    assert float(by_type["scale_lr"][5]) == 0.5
    assert float(by_type["set_lr"][5]) == pytest.approx(0.25)
    assert by_type["stop"][1:3] == ["True", "applied"]
    assert mon.should_stop and steps == int(by_type["stop"][3])
    events = [json.loads(line) for line in mon.run.events_path.read_text().splitlines()]
    assert [e["command"] for e in events if e["type"] == "control"] == [
        "pause",
        "resume",
        "scale_lr",
        "set_lr",
        "stop",
    ]
    assert events[-1]["type"] == "run_finished" and events[-1]["status"] == "stopped"
    assert mon.control.paused_seconds_total >= 0.3
    assert optimizer.param_groups[0]["lr"] == 0.05  # the schedule's own value is left intact


def test_sdk_imports_neither_torch_nor_textual():
    code = (
        "import sys, maou_tui.sdk, maou_tui.control\n"
        "print(sorted(m for m in ('torch', 'textual', 'plotext') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=30,
        check=True,
    )
    assert result.stdout.strip() == "[]"
