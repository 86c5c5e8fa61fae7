"""Other trainers' own console output, read by the log readers (no stages, no epoch events):
the whole log is one stage, its epochs are its validation losses. Runs of the seed-2 part
(calibration) of ``bench/corpus/frameworks.py``: a real HF Trainer and a real Keras fit."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from maou_tui.diagnose import diagnose
from maou_tui.ingest import load_store

RUNS = Path(__file__).parent / "heldout"


def serious(name: str, tmp_path: Path) -> dict[str, object]:
    path = tmp_path / f"{name}.console.txt"
    path.write_bytes(gzip.decompress((RUNS / f"{name}.console.txt.gz").read_bytes()))
    return {f.kind: f for f in diagnose(load_store(path)) if f.severity != "info"}


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("transformers_divergence_seed2", "divergence"),  # SGD 5: thrown to chance at once
        ("transformers_stagnation_seed2", "stagnation"),  # SGD 1e-5
        ("keras_overfitting_seed2", "overfitting"),  # 64 samples, 80 epochs
    ],
)
def test_problems_are_found_in_the_trainers_own_output(name, kind, tmp_path):
    found = serious(name, tmp_path)
    assert kind in found
    finding = found[kind]
    assert finding.stage is None  # the log has no stages: "run", never "stage -1"
    assert not finding.message.startswith("Stage")


@pytest.mark.parametrize("name", ["transformers_healthy_seed2", "keras_healthy_seed2"])
def test_healthy_runs_output_stays_quiet(name, tmp_path):
    assert serious(name, tmp_path) == {}


TRAINER_LOGS = Path(__file__).parents[1] / "ingest" / "trainer_logs"


@pytest.mark.parametrize(
    ("name", "framework"),
    [
        ("hf_trainer.log", "transformers"),
        ("lightning.log", "lightning"),
        ("lightning_metrics.csv", "lightning"),
        ("keras_verbose1.log", "keras"),
        ("keras_verbose2_keras_csvlogger.csv", "keras"),
        ("generic_python_logging.log", None),  # key=value lines: nobody in particular
        ("nanogpt.log", None),
    ],
)
def test_the_reader_says_which_framework_wrote_a_log(name, framework):
    """Files the real libraries wrote (tests/ingest/trainer_logs): the framework's own forms
    make a RunStarted naming it, for the advice; other forms name nobody."""
    store = load_store(TRAINER_LOGS / name)
    found = store.run.config.get("framework") if store.run is not None else None
    assert found == framework


def test_a_real_maou_log_names_no_other_framework():
    """maou's own tqdm bars and lines (the real capture) are maou's: no framework is claimed,
    so the advice keeps maou's options."""
    store = load_store(Path(__file__).parent / "corpus" / "maou_real_all_stages.typescript")
    assert store.run is None


def test_a_log_that_names_its_framework_does_not_claim_the_run_is_alive(tmp_path):
    """The first half of a real HF console (cut mid-training): the reader knows who wrote it,
    not whether the process still runs, so the status stays unknown (not "running")."""
    whole = (TRAINER_LOGS / "hf_trainer.log").read_bytes()
    cut = tmp_path / "hf_cut.log"
    cut.write_bytes(whole[: len(whole) // 2])
    store = load_store(cut)
    assert store.run is not None and store.run.config.get("framework") == "transformers"
    assert store.status == "unknown"
