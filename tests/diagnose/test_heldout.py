"""Generalisation: the diagnostics on runs of four other trainers that no rule was tuned on.

``heldout5/`` is the held-out part: real runs of Hugging Face Trainer, Lightning, Keras (torch
backend) and a plain torch loop recorded by the SDK (``bench/corpus/frameworks.py``,
``HELD_OUT_V5``): a small CNN on scikit-learn's digits (seed 9), a 4-class synthetic task under
a SiLU MLP (seed 10) and a CNN with two SiLU layers (seed 11), with one of the guide's LR
problems induced or none. It was generated and committed with its labels (commit 83ba639) before
any detector changed in the session that made it, and scored once at its end (a799165). The
earlier parts were scored and read in the sessions that made them and are calibration, slow
regression checks: ``heldout4/`` (session 5: 5-class synthetic task seed 7, three-layer digits
MLP seed 8), ``heldout3/`` (session 5: Gaussian quantiles under a tanh MLP seed 5, digits under
a GELU MLP seed 6), ``heldout2/`` (session 4: synthetic 8-class task seed 3, two-layer digits
MLP seed 4) and ``heldout/`` (session 3: one-layer digits MLP, seed 2). ``labels.json`` holds
each run's labels from written rules over its epoch series (``bench/corpus/labels.py``) and the
findings those labels make acceptable (the companion list of session 6, recomputed for the
older parts with their labels unchanged). The framework's own console output and CSV metrics
are kept beside the events.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from maou_tui.diagnose import diagnose
from maou_tui.ingest import FileSource
from maou_tui.store import RunStore

HERE = Path(__file__).parent
SCORED = ("divergence", "nan", "stagnation", "oscillation", "overfitting", "warmup_lr_too_high")
TARGET = 0.9


class Part:
    """One labelled part: where it lives, its per-kind (precision, recall) floors where they
    are below the target, and the healthy runs allowed a warning."""

    def __init__(
        self,
        folder: str,
        floors: dict[str, tuple[float, float]],
        healthy_with_warnings: set[str],
    ) -> None:
        self.folder = HERE / folder
        self.floors = floors
        self.healthy_with_warnings = healthy_with_warnings


PARTS = {
    # Scored once, at a799165 (docs/diagnostics.md has the figures); floors where it fell short
    # of the target, so nothing gets worse unnoticed: divergence 47/6/0, oscillation 4/5/3,
    # overfitting 11/3/3, stagnation 12/2/0, warmup 5/4/1. Healthy runs with a warning: SGD-0.2
    # CNN runs (divergence, oscillation), warmup runs the rules call healthy, an HF 96-sample
    # CNN run found overfitting, a Keras RMSprop-0.01 CNN run found oscillation (read after
    # scoring; no label changed).
    "held-out": Part(
        "heldout5",
        {
            "divergence": (0.88, TARGET),
            "oscillation": (0.44, 0.57),
            "overfitting": (0.78, 0.78),
            "stagnation": (0.85, TARGET),
            "warmup_lr_too_high": (0.55, 0.83),
        },
        {
            "keras_healthy_sgd_cnn_seed9",
            "keras_oscillation_cnn_seed9",
            "lightning_healthy_sgd_cnn_seed9",
            "lightning_warmup_lr_too_high_cnn_seed9",
            "torch_warmup_lr_too_high_cnn_seed9",
            "torch_warmup_lr_too_high_synth4_seed10",
            "transformers_overfitting_cnn_seed9",
        },
    ),
    # Session 5's fourth part, calibration since: scored once at 5e8940a (divergence 26/8/0,
    # oscillation 5/5/0, overfitting 3/7/0, stagnation 11/3/2, warmup 6/2/0, 10 healthy runs
    # warned); floors at the figures of session 6's code and companion list.
    "v4": Part(
        "heldout4",
        {
            "divergence": (0.86, TARGET),
            "oscillation": (0.50, TARGET),
            "overfitting": (0.37, TARGET),
            "stagnation": (0.78, 0.84),
        },
        {
            "keras_overfitting_synth5_seed7",
            "lightning_oscillation_synth5_seed7",
            "lightning_overfitting_synth5_seed7",
            "torch_oscillation_deep3_seed8",
            "torch_oscillation_synth5_seed7",
            "torch_overfitting_deep3_seed8",
            "torch_overfitting_synth5_seed7",
            "transformers_overfitting_synth5_seed7",
        },
    ),
    # Session 5's first held-out part, scored once at 0f0a352: oscillation 2/3/1 and
    # overfitting 5/1/1; calibration since. Healthy runs with a warning: Adam 0.03 runs whose
    # validation accuracy dropped 2 points fewer than 3 times (found oscillation, overfitting or
    # a divergence) and 48-sample quant6 runs that never learned (found oscillation).
    "v3": Part(
        "heldout3",
        {"oscillation": (0.40, 0.66), "overfitting": (0.83, 0.83)},
        {
            "keras_oscillation_quant6_seed5",
            "keras_overfitting_quant6_seed5",
            "torch_oscillation_quant6_seed5",
            "torch_overfitting_quant6_seed5",
            "transformers_oscillation_gelu_seed6",
            "transformers_oscillation_quant6_seed5",
        },
    ),
    # Calibration (session 4's held-out part).
    "v2": Part(
        "heldout2",
        {
            "oscillation": (0.33, TARGET),
            "overfitting": (0.54, TARGET),
            "warmup_lr_too_high": (TARGET, 0.87),
        },
        {
            "keras_oscillation_deep_seed4",
            "keras_oscillation_synth8_seed3",
            "lightning_oscillation_deep_seed4",
            "lightning_overfitting_deep_seed4",
            "torch_oscillation_deep_seed4",
            "torch_oscillation_synth8_seed3",
            "torch_overfitting_deep_seed4",
            "transformers_oscillation_deep_seed4",
        },
    ),
    # Seed 2, calibration: one HF warmup run the rules label oscillation only (validation
    # accuracy 0.868 -> 0.819 in the warmup, 0.1 short of their warmup clause) is found as
    # divergence and warmup_lr_too_high, not as oscillation.
    "seed2": Part(
        "heldout",
        {
            "warmup_lr_too_high": (0.75, TARGET),
            "oscillation": (TARGET, 0.5),
        },
        set(),
    ),
}


def events_of(gz: Path, tmp_path: Path) -> list:
    """Every event of a gzipped committed log, read as the app's tailer reads it."""
    path = tmp_path / gz.name.removesuffix(".gz")
    path.write_bytes(gzip.decompress(gz.read_bytes()))
    source = FileSource(path)
    try:
        events = []
        while batch := source.read_new():
            events += batch
        return events + source.finish()
    finally:
        source.close()


def _serious_kinds(gz: Path, tmp_path: Path) -> set[str]:
    store = RunStore()
    store.apply_all(events_of(gz, tmp_path))
    return {f.kind for f in diagnose(store) if f.severity != "info"}


Scored = list[tuple[str, set[str], set[str], set[str]]]


def _score(part: Part, tmp: Path) -> Scored:
    table = json.loads((part.folder / "labels.json").read_text())
    return [
        (
            name,
            set(row["labels"]),
            set(row["allowed"]),
            _serious_kinds(part.folder / f"{name}.events.jsonl.gz", tmp),
        )
        for name, row in sorted(table.items())
    ]


@pytest.fixture(
    scope="module",
    params=[
        "held-out",
        pytest.param("v4", marks=pytest.mark.slow),
        pytest.param("v3", marks=pytest.mark.slow),
        pytest.param("v2", marks=pytest.mark.slow),
        pytest.param("seed2", marks=pytest.mark.slow),
    ],
)
def scored(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    part = PARTS[request.param]
    return part, _score(part, tmp_path_factory.mktemp(request.param))


def test_the_part_spans_sources_and_kinds(scored):
    _, runs = scored
    sources = {name.split("_")[0] for name, *_ in runs}
    assert sources >= {"transformers", "lightning", "keras", "torch"}
    assert sum(1 for _, truth, _, _ in runs if not truth) >= 4  # healthy runs


@pytest.mark.parametrize("kind", SCORED)
def test_precision_and_recall_per_kind(scored, kind):
    part, runs = scored
    tp = sum(1 for _, truth, _, found in runs if kind in truth and kind in found)
    fn = [name for name, truth, _, found in runs if kind in truth and kind not in found]
    fp = [name for name, _, ok, found in runs if kind in found and kind not in ok]
    precision_floor, recall_floor = part.floors.get(kind, (TARGET, TARGET))
    if tp + len(fn):
        assert tp / (tp + len(fn)) >= recall_floor, f"{kind}: missed in {fn}"
    if tp + len(fp):
        assert tp / (tp + len(fp)) >= precision_floor, f"{kind}: false alarms on {fp}"


def test_healthy_runs_stay_quiet(scored):
    part, runs = scored
    noisy = {name for name, truth, _, found in runs if not truth and found}
    assert noisy <= part.healthy_with_warnings
