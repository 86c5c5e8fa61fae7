"""maou-tui export: every point with its stage/epoch/batch/step, CSV or JSON lines."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from maou_tui.cli import main
from tests.ingest.conftest import GOLDEN


def test_csv_export_of_a_maou_log_has_every_point(tmp_path: Path, capsys) -> None:
    out = tmp_path / "points.csv"
    assert main(["export", str(GOLDEN / "maou_stage12.log"), "-o", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert list(rows[0]) == ["stage", "epoch", "batch", "step", "name", "value"]
    loss = [
        (r["stage"], r["epoch"], r["batch"], r["step"], r["value"])
        for r in rows
        if r["name"] == "loss"
    ]
    assert loss[:3] == [
        ("1", "1", "1", "1", "0.6131"),
        ("1", "1", "51", "51", "0.31"),
        ("1", "1", "101", "101", "0.21"),
    ]
    assert ("2", "1", "101", "341", "") in loss  # the non-finite loss stays, empty
    names = {r["name"] for r in rows}
    assert {"accuracy_cum", "f1_cum", "train_loss", "train_accuracy", "train_f1", "lr"} <= names
    assert "wrote" in capsys.readouterr().err


def test_jsonl_export_of_stage3_keeps_maous_metric_names(capsys) -> None:
    assert main(["export", str(GOLDEN / "maou_stage3.log"), "--format", "jsonl"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    by_name = {(r["name"], r["epoch"]): r for r in rows}
    assert by_name[("policy_top5_accuracy", 1)]["value"] == 0.3
    assert by_name[("val_loss", 2)] == {
        "stage": 3,
        "epoch": 2,
        "batch": None,
        "step": 100,
        "name": "val_loss",
        "value": 4.3,
    }


def test_export_only_named_series_from_a_dir_of_runs(tmp_path: Path, capsys) -> None:
    for name in ("run-a", "run-b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "train.log").write_bytes((GOLDEN / "guide_lines.log").read_bytes())
    assert main(["export", str(tmp_path), "--name", "val_f1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "run,stage,epoch,batch,step,name,value"
    assert sorted(lines[1:]) == ["run-a,2,2,,1000,val_f1,0.82", "run-b,2,2,,1000,val_f1,0.82"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope.log"], "no such file or directory"),
        ([".", "-o", "/nonexistent-dir/x.csv"], "cannot write"),
    ],
)
def test_bad_input_is_one_line_naming_the_problem(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.log").write_bytes((GOLDEN / "guide_lines.log").read_bytes())
    assert main(["export", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
