"""Real runs of this project's trainer with induced LR problems, for the diagnostics corpus.

Each run is ``python -m trainer`` on the tiny preset (real cshogi data, real training) with one
thing changed; its run directory keeps both formats: events.jsonl and the maou-format train.log.
Labels say what a reader of the LR guide would call the run, decided from how it was induced
(``expect``: must be found; ``allow``: acceptable companions, e.g. nan after a divergence).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

STAGE1 = ["--stage", "1", "--num-threads", "1"]
STAGE2 = ["--stage", "2", "--num-threads", "1"]
#: Stage 3 alone (fresh backbone), 3 epochs of 64 steps: about a minute a run on one core.
STAGE3 = ["--stage", "3", "--num-threads", "1", "--epoch", "3"]
#: What a too-high Stage 3 LR may show besides the value collapse it was induced for.
HIGH_LR_COMPANIONS = {"divergence", "nan", "oscillation", "stagnation", "warmup_lr_too_high"}


@dataclass(frozen=True)
class RunSpec:
    name: str
    args: list[str]
    expect: set[str]
    allow: set[str] = field(default_factory=set)
    tuned: bool = True
    """False for runs kept out of rule tuning (another seed/architecture), reported apart."""


def _seeded(seed: int) -> list[str]:
    return [*STAGE3, "--seed", str(seed)]


#: Stage 3 runs for ``value_collapse``, labelled from the data (docs/diagnostics.md): a collapse is
#: a value head whose validation predictions spread by < 0.1 (``value_std``) with a Brier score at
#: the labels' variance (~0.237 here: a constant answer). AdamW at LR 0.1-0.3 (maou's report: a
#: high LR) and a value loss weight of 0 or 0.01 (the head is not trained) collapse on every seed
#: tried; the default LR 0.001 and 0.003 learn (Brier 0.03-0.14 and spread 0.33-0.45 by epoch 1).
STAGE3_RUNS: tuple[RunSpec, ...] = (
    RunSpec("s3_healthy", _seeded(0), set()),
    RunSpec("s3_healthy_lr003", [*_seeded(0), "--learning-ratio", "0.003"], set()),
    RunSpec(
        "s3_value_collapse_lr03",
        [*_seeded(0), "--learning-ratio", "0.3"],
        {"value_collapse"},
        HIGH_LR_COMPANIONS,
    ),
    RunSpec(
        "s3_value_collapse_lr01",
        [*_seeded(0), "--learning-ratio", "0.1"],
        {"value_collapse"},
        HIGH_LR_COMPANIONS,
    ),
    RunSpec("s3_value_untrained", [*_seeded(0), "--value-loss-ratio", "0"], {"value_collapse"}),
    RunSpec("s3_value_ratio_001", [*_seeded(0), "--value-loss-ratio", "0.01"], {"value_collapse"}),
    # Scored only at the end, never looked at while the rule was set.
    RunSpec("s3_healthy_seed1", _seeded(1), set(), tuned=False),
    RunSpec("s3_healthy_seed2", _seeded(2), set(), tuned=False),
    RunSpec(
        "s3_healthy_lr003_seed3", [*_seeded(3), "--learning-ratio", "0.003"], set(), tuned=False
    ),
    RunSpec(
        "s3_value_collapse_lr03_seed1",
        [*_seeded(1), "--learning-ratio", "0.3"],
        {"value_collapse"},
        HIGH_LR_COMPANIONS,
        tuned=False,
    ),
    # Meant to collapse; its value head was uninformative for two epochs (Brier 0.258, 0.249:
    # a constant answer's) but not bunched (spread 0.15, 0.20, 0.18; confident right answers
    # 52% in epoch 2), and learned in epoch 3 (Brier 0.206): labelled by what it shows, no
    # collapse by the definition above; the finding is allowed (docs/diagnostics.md gives the
    # score under the old label too).
    RunSpec(
        "s3_value_collapse_lr02_seed2",
        [*_seeded(2), "--learning-ratio", "0.2"],
        set(),
        HIGH_LR_COMPANIONS | {"value_collapse"},
        tuned=False,
    ),
    # Added after the runs above were scored (a second untuned batch).
    RunSpec("s3_healthy_seed7", _seeded(7), set(), tuned=False),
    RunSpec(
        "s3_healthy_lr003_seed8", [*_seeded(8), "--learning-ratio", "0.003"], set(), tuned=False
    ),
    RunSpec(
        "s3_value_collapse_lr02_seed4",
        [*_seeded(4), "--learning-ratio", "0.2"],
        {"value_collapse"},
        HIGH_LR_COMPANIONS,
        tuned=False,
    ),
    RunSpec(
        "s3_value_collapse_lr03_seed5",
        [*_seeded(5), "--learning-ratio", "0.3"],
        {"value_collapse"},
        HIGH_LR_COMPANIONS,
        tuned=False,
    ),
    RunSpec(
        "s3_value_ratio_001_seed6",
        [*_seeded(6), "--value-loss-ratio", "0.01"],
        {"value_collapse"},
        tuned=False,
    ),
    RunSpec(
        "s3_value_untrained_seed3",
        [*_seeded(3), "--value-loss-ratio", "0"],
        {"value_collapse"},
        tuned=False,
    ),
)

TRAINER_RUNS: tuple[RunSpec, ...] = (
    RunSpec("s1_healthy", [*STAGE1, "--stage1-max-epochs", "30"], set(), {"epoch_boundary_reset"}),
    RunSpec(
        "s1_lr_far_high",
        [*STAGE1, "--stage1-learning-rate", "0.3", "--stage1-max-epochs", "6"],
        {"divergence"},
        {"nan", "oscillation", "fail_fast_risk", "stagnation"},
    ),
    RunSpec(
        "s1_lr_far_low",
        [*STAGE1, "--stage1-learning-rate", "0.000001", "--stage1-max-epochs", "6"],
        {"stagnation"},
        {"fail_fast_risk"},
    ),
    RunSpec(
        "s1_warmup_peak_high",
        [
            *STAGE1,
            "--stage12-lr-scheduler",
            "Warmup+CosineDecay",
            "--stage1-learning-rate",
            "0.05",
            "--stage1-max-epochs",
            "6",
        ],
        {"warmup_lr_too_high"},
        {"divergence", "nan", "fail_fast_risk", "stagnation", "oscillation"},
    ),
    # Meant as "too high constant LR -> oscillation" (AdamW 0.02, twice the top of the guide's
    # range); its epoch losses fall every epoch (0.416 0.325 0.309 0.293 0.258 0.239) and its
    # block means scatter as much as the healthy run's: no oscillation, no guide LR symptom, just
    # an accuracy held at the 90.2% base rate. Relabelled by what it shows in the issue-6
    # follow-up (docs/diagnostics.md gives the score under the old label too).
    RunSpec(
        "s1_high_constant_lr",
        [*STAGE1, "--stage1-learning-rate", "0.02", "--stage1-max-epochs", "6"],
        set(),
        {"fail_fast_risk", "stagnation"},
    ),
    # Meant to overfit, but within 14 epochs the validation loss only levelled off (0.050 ->
    # 0.049-0.053, never 5% above its best for 2 epochs): labelled by what it shows, a Stage 2
    # that cannot reach its 99.9% threshold.
    RunSpec(
        "s2_small_overfit",
        [
            *STAGE2,
            "--stage2-positions",
            "600",
            "--stage2-test-ratio",
            "0.3",
            "--stage2-batch-size",
            "16",
            "--stage2-max-epochs",
            "14",
            "--stage2-threshold",
            "0.999",
        ],
        set(),
        {"fail_fast_risk", "stagnation"},
    ),
    # Meant as a healthy run of another architecture; the MLP-Mixer stayed at the base rate
    # (accuracy 90.2%, loss ~0.32) for all 21 epochs it ran before the 900 s limit on the
    # shared machine: labelled by what it shows, a stagnating stage that cannot reach 99%.
    # (maou's 0.99 is given explicitly: the tiny Mixer's own threshold is 0.90.)
    RunSpec(
        "s1_healthy_mixer_seed7",
        [
            *STAGE1,
            "--model-architecture",
            "mlp-mixer",
            "--seed",
            "7",
            "--stage1-threshold",
            "0.99",
            "--stage1-max-epochs",
            "10",
        ],
        {"stagnation"},
        {"fail_fast_risk"},
        tuned=False,
    ),
    RunSpec(
        "s1_lr_far_high_seed7",
        [*STAGE1, "--seed", "7", "--stage1-learning-rate", "0.5", "--stage1-max-epochs", "5"],
        {"divergence"},
        {"nan", "oscillation", "fail_fast_risk", "stagnation"},
        tuned=False,
    ),
    # Added with the issue-6 follow-up, never looked at while its rules were set: another seed
    # for the divergence (first point far above ln 2) and the warmup (guide range with the
    # architecture unknown) rules, and SGD at a high constant LR meant to oscillate; SGD at 0.5
    # trained like the healthy AdamW run (epoch losses 0.336 0.234 0.204 against 0.302 0.209
    # 0.192): labelled by what it shows, healthy (3 epochs cannot reach 99%: fail-fast risk).
    RunSpec(
        "s1_lr_far_high_seed11",
        [*STAGE1, "--seed", "11", "--stage1-learning-rate", "0.3", "--stage1-max-epochs", "3"],
        {"divergence"},
        {"nan", "oscillation", "fail_fast_risk", "stagnation"},
        tuned=False,
    ),
    RunSpec(
        "s1_warmup_peak_high_seed11",
        [
            *STAGE1,
            "--seed",
            "11",
            "--stage12-lr-scheduler",
            "Warmup+CosineDecay",
            "--stage1-learning-rate",
            "0.05",
            "--stage1-max-epochs",
            "3",
        ],
        {"warmup_lr_too_high"},
        {"divergence", "nan", "fail_fast_risk", "stagnation", "oscillation"},
        tuned=False,
    ),
    RunSpec(
        "s1_warmup_peak_high_seed13",
        [
            *STAGE1,
            "--seed",
            "13",
            "--stage12-lr-scheduler",
            "Warmup+CosineDecay",
            "--stage1-learning-rate",
            "0.05",
            "--stage1-max-epochs",
            "4",
        ],
        {"warmup_lr_too_high"},
        {"divergence", "nan", "fail_fast_risk", "stagnation", "oscillation"},
        tuned=False,
    ),
    RunSpec(
        "s1_sgd_high_constant_seed11",
        [
            *STAGE1,
            "--seed",
            "11",
            "--optimizer",
            "sgd",
            "--stage1-learning-rate",
            "0.5",
            "--stage1-max-epochs",
            "3",
        ],
        set(),
        {"fail_fast_risk"},
        tuned=False,
    ),
    *STAGE3_RUNS,
)


def generate(spec: RunSpec, root: Path, timeout: float = 900) -> Path:
    """Run the trainer for ``spec`` into ``root/<name>`` (skipped when already complete)."""
    run_dir = root / spec.name
    events = run_dir / "events.jsonl"
    if events.exists() and '"run_finished"' in events.read_text():
        return run_dir
    shutil.rmtree(run_dir, ignore_errors=True)  # a run cut short: the trainer refuses to append
    cmd = [sys.executable, "-m", "trainer", *spec.args, "--run-dir", str(run_dir)]
    subprocess.run(cmd, timeout=timeout, check=False, capture_output=True)
    # The diagnostics read only the two logs; a Stage 3 model checkpoint alone is ~6 MB.
    shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    return run_dir


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("bench/corpus/runs")
    names = set(sys.argv[2:])
    for spec in TRAINER_RUNS:
        if names and spec.name not in names:
            continue
        print(spec.name, generate(spec, root), flush=True)


if __name__ == "__main__":
    main()
