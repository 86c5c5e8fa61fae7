"""Each finding kind on synthetic curves, and the traps the LR guide warns about."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from maou_tui.diagnose import diagnose
from maou_tui.ingest import load_store
from maou_tui.protocol import RunStarted, StageStarted
from tests.diagnose.conftest import decaying

HERE = Path(__file__).parent


def kinds(findings) -> set[str]:
    return {f.kind for f in findings}


def serious(findings) -> list:
    return [f for f in findings if f.severity != "info"]


def test_healthy_curve_gives_no_warning(curves, rng):
    loss = decaying(1600, rng)
    acc = np.clip(0.6 + 0.38 * (1 - np.exp(-5 * np.arange(1600) / 1600)), 0, 1)
    store = curves.stage(2, loss, 160, metric=acc + 0.02 * rng.standard_normal(1600)).store()
    assert serious(diagnose(store)) == []


def test_divergence_is_critical_with_the_stage_option_and_a_scaled_value(curves, rng):
    loss = np.concatenate([decaying(600, rng, end=0.03), 0.03 * np.geomspace(1, 8, 300)])
    store = curves.stage(2, loss, 100, base_lr=1e-4, lr_scale=4.0, batch_size=4096, lr=4e-4).store()
    found = [f for f in diagnose(store) if f.kind == "divergence"]
    assert len(found) == 1
    f = found[0]
    assert f.severity == "critical"
    assert 600 <= f.step <= 760  # onset soon after the loss turned
    assert f.advice.option == "--stage2-learning-rate"
    assert f.advice.current == pytest.approx(1e-4)  # the CLI value, not the effective 4e-4
    assert f.advice.suggested == pytest.approx(1e-4 / 3)
    assert "x4.00" in f.advice.note
    assert f.evidence["ratio"] >= 2


def test_non_finite_loss_is_critical(curves, rng):
    loss: list[float | None] = list(decaying(400, rng))
    loss[300:] = [None] * 100
    found = [f for f in diagnose(curves.stage(3, loss, 100).store()) if f.kind == "nan"]
    assert found and found[0].severity == "critical"
    assert found[0].step == 301
    assert found[0].advice.option == "--learning-ratio"


def test_cumulative_metric_reset_is_info_never_divergence(curves, rng):
    """maou's accuracy is a running mean since epoch start: at an epoch start it shows a few
    batches' mean, which can fall well below the epoch's (the guide's section 4) while the
    per-batch values hold steady."""
    n = 800
    per_batch = np.clip(0.85 + 0.08 * rng.standard_normal(n), 0, 1)
    store = curves.stage(1, decaying(n, rng), 100, metric=per_batch).store()
    found = diagnose(store)
    assert "divergence" not in kinds(found)
    resets = [f for f in found if f.kind == "epoch_boundary_reset"]
    assert resets and resets[0].severity == "info"
    assert resets[0].evidence["series"] == "accuracy_cum"
    assert resets[0].evidence["largest_jump"] < 0  # a fall: what would worry a user
    assert resets[0].advice.suggested is None  # not an LR problem


def test_a_running_mean_that_jumps_the_good_way_stays_quiet(curves, rng):
    """An improving run's running mean lags it, so at each epoch start it jumps up: a known
    non-problem, not worth a finding (issue 14 item 4)."""
    n = 800
    per_batch = np.clip(0.5 + 0.45 * (1 - np.exp(-6 * np.arange(n) / n)), 0, 1)
    per_batch += 0.03 * rng.standard_normal(n)
    store = curves.stage(1, decaying(n, rng), 100, metric=per_batch).store()
    assert diagnose(store) == []


def test_cumulative_loss_from_a_log_is_inverted_not_called_divergence(curves, rng):
    """A log whose Loss= is a running mean since epoch start, without per-batch values."""
    n, spe = 1000, 100
    per_batch = decaying(n, rng, noise=0.1)
    cum = np.concatenate(
        [np.cumsum(per_batch[e : e + spe]) / np.arange(1, spe + 1) for e in range(0, n, spe)]
    )
    curves.stage(1, cum, spe)
    log_events = curves.events[1:]  # a log has no run_started: its Loss= may be a running mean
    found = diagnose(curves.store(log_events))
    assert not serious(found)
    # a falling loss's running mean drops at each epoch start: the good way, said nothing of
    assert "epoch_boundary_reset" not in kinds(found)


def test_events_loss_is_taken_as_per_batch(curves, rng):
    """events.jsonl's Step.loss is this batch's value by contract: never 'inverted'."""
    n, spe = 1000, 100
    per_batch = decaying(n, rng, noise=0.1)
    cum = np.concatenate(
        [np.cumsum(per_batch[e : e + spe]) / np.arange(1, spe + 1) for e in range(0, n, spe)]
    )
    found = diagnose(curves.stage(1, cum, spe).store())
    assert "divergence" not in kinds(found)


def test_new_stage_loss_jump_is_not_divergence(curves, rng):
    curves.stage(1, decaying(500, rng, start=0.7, end=0.02), 100)
    curves.stage(2, decaying(500, rng, start=0.9, end=0.1), 100)
    assert serious(diagnose(curves.store())) == []


def test_noise_early_in_warmup_is_not_oscillation(curves, rng):
    n, warm = 1200, 240
    lr = np.minimum(1.0, (np.arange(n) + 1) / warm) * 1e-3
    loss = decaying(n, rng, noise=0.05)
    loss[:warm] *= 1 + 0.25 * np.sin(np.arange(warm))  # wild early noise
    store = curves.stage(2, loss, 120, lr=lr, warmup_steps=warm).store()
    assert "oscillation" not in kinds(diagnose(store))


def test_oscillation_around_a_level(curves, rng):
    n = 1200
    level = np.concatenate([decaying(300, rng, end=0.1), np.full(n - 300, 0.1)])
    swing = np.where((np.arange(n) // 20) % 2 == 0, 1.25, 0.8)
    loss = level * np.where(np.arange(n) >= 300, swing, 1.0) * (1 + 0.03 * rng.standard_normal(n))
    found = [f for f in diagnose(curves.stage(3, loss, 320).store()) if f.kind == "oscillation"]
    assert found
    f = found[0]
    # the onset is placed within one window (12 blocks of 20 steps) of where the swings began
    assert f.severity == "warning" and 300 - 12 * 20 <= f.step <= 400
    assert f.advice.action == "halve_lr" and f.advice.factor == pytest.approx(0.5)
    assert "--optimizer-beta2" in f.advice.note


def test_stagnation_below_threshold(curves, rng):
    n = 1500
    loss = 0.05 * (1 - 0.00001 * np.arange(n)) * (1 + 0.02 * rng.standard_normal(n))
    acc = np.full(n, 0.6)
    store = curves.stage(2, loss, 150, metric=acc, threshold=0.85, max_epochs=50).store()
    found = [f for f in diagnose(store) if f.kind == "stagnation"]
    assert found
    assert found[0].advice.factor == pytest.approx(2.0) and found[0].advice.action == "double_lr"
    assert found[0].advice.option == "--stage2-learning-rate"


def test_warmup_peak_too_high_suggests_the_guides_cli_value(curves, rng):
    n, warm = 1000, 300
    lr = np.minimum(1.0, (np.arange(n) + 1) / warm) * 4e-3
    ramp = np.concatenate([np.linspace(0.7, 0.2, 150), np.linspace(0.2, 0.6, 150)])
    loss = np.concatenate([ramp, np.full(n - warm, 0.6)]) * (1 + 0.03 * rng.standard_normal(n))
    store = curves.stage(
        2, loss, 100, lr=lr, warmup_steps=warm, base_lr=1e-3, lr_scale=4.0, batch_size=4096
    ).store()
    found = [f for f in diagnose(store) if f.kind == "warmup_lr_too_high"]
    assert found
    f = found[0]
    assert 150 <= f.step <= 260
    # guide: ResNet Stage 2 batch 4096 -> effective 0.0004 -> CLI 0.0004 / 4 = 0.0001
    assert f.advice.suggested == pytest.approx(1e-4)
    assert f.advice.current == pytest.approx(1e-3)


def test_overfitting_names_dropout_and_epochs(curves, rng):
    rows = []
    for e in range(1, 13):
        val = 0.3 - 0.02 * e if e <= 5 else 0.2 + 0.02 * (e - 5)
        rows.append(
            {"epoch": e, "global_step": 50 * e, "train_loss": 0.3 * 0.8**e, "val_loss": val}
        )
    store = curves.stage(2, decaying(600, rng), 50, epoch_ends=rows).store()
    found = [f for f in diagnose(store) if f.kind == "overfitting"]
    assert found
    f = found[0]
    assert f.evidence["best_epoch"] == 5
    assert "--stage2-head-dropout 0.1" in f.advice.note
    assert "--stage2-max-epochs 5" in f.advice.note


def test_fail_fast_risk_when_epochs_run_out(curves, rng):
    n, spe = 400, 100
    acc = np.concatenate([np.full(spe, v) for v in (0.50, 0.52, 0.53, 0.54)])
    store = curves.stage(
        2, decaying(n, rng), spe, metric=acc, threshold=0.85, max_epochs=6, complete=False
    ).store()
    found = [f for f in diagnose(store) if f.kind == "fail_fast_risk"]
    assert found and found[0].advice.option == "--stage2-max-epochs"


def test_throughput_collapse(curves, rng):
    curves.stage(2, decaying(400, rng), 100)
    events = curves.events
    for ev in events:
        if getattr(ev, "type", "") == "step" and ev.global_step > 250:
            ev.samples_per_s = 100.0
    found = [f for f in diagnose(curves.store()) if f.kind == "throughput_collapse"]
    assert found and 250 <= found[0].step <= 270


def test_vit_advice_says_vit_wants_a_lower_lr(curves, rng):
    loss = np.concatenate([decaying(600, rng, end=0.03), 0.03 * np.geomspace(1, 8, 300)])
    curves.stage(3, loss, 100)
    curves.events[0].config["model_architecture"] = "vit"
    for ev in curves.events:
        if getattr(ev, "type", "") == "stage_started":
            ev.architecture = "vit"
    f = next(f for f in diagnose(curves.store()) if f.kind == "divergence")
    assert f.advice.option == "--learning-ratio"
    assert "ViT" in f.advice.note and "lower" in f.advice.note


def test_value_collapse_in_stage3(curves, rng):
    rows = [
        {
            "epoch": e,
            "global_step": 100 * e,
            "train_loss": 3.0,
            "metrics": {"value_brier_score": 0.26, "value_high_confidence_rate": 0.0},
        }
        for e in range(1, 5)
    ]
    store = curves.stage(3, decaying(400, rng, start=7.0, end=3.0), 100, epoch_ends=rows).store()
    found = [f for f in diagnose(store) if f.kind == "value_collapse"]
    assert found and found[0].evidence["value_brier_score"] == pytest.approx(0.26)


def test_no_value_collapse_when_brier_beats_the_constant_answer(curves, rng):
    """A real maou Stage 3 at its default LR: no confident prediction yet, Brier 0.225 against
    the 0.248 a constant answer at maou's label mean scores: it learned, it did not collapse."""
    rows = [
        {
            "epoch": e,
            "global_step": 100 * e,
            "train_loss": 4.5 - 0.2 * e,
            "metrics": {"value_brier_score": brier, "value_high_confidence_rate": 0.0},
        }
        for e, brier in enumerate([0.2250, 0.2225, 0.2175], start=1)
    ]
    store = curves.stage(3, decaying(300, rng, start=7.0, end=4.0), 100, epoch_ends=rows).store()
    assert [f for f in diagnose(store) if f.kind == "value_collapse"] == []


def _stage3_epochs(curves, rng, metrics: list[dict]):
    rows = [
        {"epoch": e, "global_step": 100 * e, "train_loss": 3.0, "metrics": m}
        for e, m in enumerate(metrics, start=1)
    ]
    n = 100 * len(rows)
    return curves.stage(3, decaying(n, rng, start=7.0, end=3.0), 100, epoch_ends=rows)


def _value_collapses(store) -> list:
    return [f for f in diagnose(store) if f.kind == "value_collapse"]


def test_value_collapse_from_the_spread_when_no_prediction_is_confident(curves, rng):
    """This trainer's shape: no prediction reaches 0.8, so the confident-right rate is missing
    (None); the spread of the predictions and the Brier score show the collapse."""
    collapsed = {
        "value_brier_score": 0.237,
        "value_mean": 0.50,
        "value_std": 0.02,
        "value_constant_brier": 0.236,  # labels with draws: their variance is below m(1 - m)
    }
    store = _stage3_epochs(curves, rng, [collapsed] * 3).store()
    found = _value_collapses(store)
    assert found and found[0].evidence["value_std"] == pytest.approx(0.02)
    assert found[0].advice.option == "--learning-ratio"


def test_no_value_collapse_when_predictions_spread(curves, rng):
    """A head whose predictions spread widely is not collapsed, even with a poor Brier score."""
    noisy = {"value_brier_score": 0.25, "value_mean": 0.5, "value_std": 0.35}
    assert _value_collapses(_stage3_epochs(curves, rng, [noisy] * 4).store()) == []


def test_no_value_collapse_when_the_head_learned(curves, rng):
    """Predictions bunched but informative (Brier well below a constant answer's m(1-m))."""
    learned = {"value_brier_score": 0.15, "value_mean": 0.5, "value_std": 0.12}
    assert _value_collapses(_stage3_epochs(curves, rng, [learned] * 4).store()) == []


def test_value_collapse_with_a_zero_value_loss_ratio_advises_raising_it(curves, rng):
    curves.events[0] = RunStarted(pid=1, config={"value_loss_ratio": 0.0})
    collapsed = {"value_brier_score": 0.251, "value_mean": 0.51, "value_std": 0.08}
    found = _value_collapses(_stage3_epochs(curves, rng, [collapsed] * 3).store())
    assert found[0].advice.option == "--value-loss-ratio"
    assert found[0].advice.suggested == pytest.approx(1.0)


def test_peak_above_the_guides_range_with_a_stalled_warmup(curves, rng):
    """Stage 1 ResNet batch 32: the guide's range tops out at 0.01; a warmup to 0.05 whose
    loss stops improving is the peak's fault even without a clear rise."""
    n, warm = 700, 70
    lr = np.minimum(1.0, (np.arange(n) + 1) / warm) * 0.05
    loss = np.concatenate([np.linspace(0.7, 0.33, 10), np.full(n - 10, 0.33)])
    loss = loss * (1 + 0.05 * rng.standard_normal(n))
    store = curves.stage(
        1, loss, 35, lr=lr, warmup_steps=warm, base_lr=0.05, batch_size=32, max_epochs=20
    ).store()
    found = [f for f in diagnose(store) if f.kind == "warmup_lr_too_high"]
    assert found
    assert found[0].evidence["guide_search_top"] == pytest.approx(0.01)
    assert found[0].advice.suggested == pytest.approx(0.001)  # the guide's Stage 1 value


def test_epoch_means_going_up_and_down_are_oscillation(curves, rng):
    rows = [
        {"epoch": e, "global_step": 50 * e, "train_loss": v}
        for e, v in enumerate([1.4, 0.53, 0.45, 0.36, 0.34, 0.35, 0.32, 0.40, 0.35, 0.35], 1)
    ]
    found = [
        f
        for f in diagnose(curves.stage(1, decaying(500, rng), 50, epoch_ends=rows).store())
        if f.kind == "oscillation"
    ]
    assert found and found[0].evidence["rises"] >= 2
    assert found[0].advice.action == "halve_lr"


def test_steadily_falling_epoch_loss_is_not_oscillation(curves, rng):
    rows = [{"epoch": e, "global_step": 50 * e, "train_loss": 0.3 * 0.9**e} for e in range(1, 11)]
    store = curves.stage(1, decaying(500, rng), 50, epoch_ends=rows).store()
    assert "oscillation" not in {f.kind for f in diagnose(store)}


def test_a_plain_loops_advice_names_the_optimizers_lr(curves, rng):
    """A run recorded by the SDK from a plain torch loop has no maou options: the advice names
    the optimizer's lr, with the value, and no sqrt batch scaling."""
    curves.stage(1, np.concatenate([decaying(200, rng), np.full(100, 40.0)]), 50)
    for ev in curves.events:
        if isinstance(ev, StageStarted):
            ev.name, ev.base_lr, ev.batch_size = "TRAINING", 0.5, 1024
    f = next(f for f in diagnose(curves.store()) if f.kind == "divergence")
    assert f.advice.option == "the optimizer's lr"
    assert f.advice.current == pytest.approx(0.5)
    assert "sqrt" not in f.advice.note


def test_hf_trainer_advice_names_training_arguments(curves, rng):
    curves.events[0] = RunStarted(
        pid=1, config={"learning_rate": 1e-6, "per_device_train_batch_size": 8}
    )
    curves.stage(1, np.full(600, 2.3) + 0.01 * rng.standard_normal(600), 50, base_lr=1e-6)
    f = next(f for f in diagnose(curves.store()) if f.kind == "stagnation")
    assert f.advice.option == "TrainingArguments(learning_rate=)"
    assert f.advice.suggested == pytest.approx(2e-6)


def test_known_non_problems_stay_quiet(curves, rng):
    """The guide's non-problems: a step whose LR did not move (AMP skipped the optimizer step
    during warmup), a Stage 2 ending with its LR above 0 (older maou builds never finished the
    decay) and running means dipping at each epoch start are not LR problems."""
    n, warm = 1600, 200
    lr = np.minimum(1.0, (np.arange(n) + 1) / warm) * 1e-3
    lr[50] = lr[49]  # AMP's GradScaler skipped step 51: the scheduler did not advance
    lr[warm:] = np.linspace(1e-3, 2e-4, n - warm)  # the decay stopped short of 0
    acc = np.clip(0.6 + 0.38 * (1 - np.exp(-5 * np.arange(n) / n)), 0, 1)
    store = curves.stage(
        2, decaying(n, rng), 160, lr=lr, warmup_steps=warm, metric=acc, cumulative_metric=True
    ).store()
    assert serious(diagnose(store)) == []


def test_the_readers_averaging_decides_over_the_shape_tests(curves, rng):
    """A series the reader marked as plain values is never inverted as a running mean: a flat
    per-batch loss whose first epoch is shaped like a running mean stays as logged."""
    from maou_tui.diagnose import Diagnoser

    loss = np.concatenate([2.0 / np.arange(1, 41) + 1.0, np.full(200, 1.0)])
    curves.stage(1, loss, 40)
    store = curves.store()
    store.run = None  # as a log: no run_started, so the loss may be a running mean
    store.series("loss").declared_averaging = "batch"
    diagnoser = Diagnoser(store)
    diagnoser.finish()
    assert diagnoser._stages[1].cumulative is False
    store.series("loss").declared_averaging = "running_mean"
    again = Diagnoser(store)
    again.finish()
    assert again._stages[1].cumulative is True


def _epoch_only_stage3(curves, train, val, lr):
    """maou's Stage 3 as it prints without progress bars: one LOSS line and one LR an epoch."""
    rows = [
        {"epoch": e, "global_step": e, "train_loss": t, "val_loss": v, "lr": r}
        for e, (t, v, r) in enumerate(zip(train, val, lr, strict=True), start=1)
    ]
    curves.stage(3, [], 1, epoch_ends=rows)
    for ev in curves.events:
        if isinstance(ev, StageStarted):
            ev.base_lr = ev.effective_lr = ev.lr_scale = ev.batch_size = None
    return curves.store()


def test_maou_stage3_at_lr_1e6_is_stagnation_told_to_raise_it(curves):
    """The issue's real maou run: validation 4.822 -> 4.815 -> 4.812 -> 4.811 at LR 1e-6."""
    store = _epoch_only_stage3(
        curves, [4.83, 4.82, 4.818, 4.817], [4.822, 4.815, 4.812, 4.811], [1e-6, 1e-6, 0, 0]
    )
    found = {f.kind: f for f in diagnose(store) if f.severity != "info"}
    assert set(found) == {"stagnation"}
    assert found["stagnation"].advice.option == "--learning-ratio"
    assert found["stagnation"].advice.suggested == pytest.approx(2e-6)


def test_maou_stage3_first_epoch_far_above_chance_is_divergence(curves):
    """The issue's real maou run at LR 1.0: first-epoch train loss 17.2 (about 4.5 normally)."""
    store = _epoch_only_stage3(curves, [17.2, 9.1, 8.3], [9.5, 8.9, 8.4], [1.0, 0.5, 0.0])
    found = [f for f in diagnose(store) if f.kind == "divergence"]
    assert found and found[0].epoch == 1 and found[0].severity == "critical"
    assert found[0].advice.suggested == pytest.approx(1 / 3)


def test_healthy_maou_stage3_epochs_stay_quiet(curves):
    """maou's reference run: train 4.48 -> 4.27 -> 3.90, validation 4.62 -> 4.48 -> 4.45."""
    store = _epoch_only_stage3(
        curves, [4.4839, 4.2655, 3.9035], [4.6180, 4.4808, 4.4529], [0.001, 0.0005, 0.0]
    )
    assert serious(diagnose(store)) == []


def _stage3_heads_diverging(curves, rng, early_stopping_metric: str):
    """Stage 3 whose value head overfits from epoch 4 while the combined loss keeps falling."""
    curves.events[0] = RunStarted(
        pid=1,
        config={"model_architecture": "resnet", "early_stopping_metric": early_stopping_metric},
    )
    rows = [
        {
            "epoch": e,
            "global_step": 100 * e,
            "train_loss": 4.0 * 0.9**e,
            "val_loss": 4.2 * 0.93**e,
            "metrics": {
                "value_brier_score": 0.20 - 0.01 * e if e <= 4 else 0.16 + 0.012 * (e - 4),
                "policy_cross_entropy": 4.0 * 0.93**e,
            },
        }
        for e in range(1, 11)
    ]
    return curves.stage(3, decaying(1000, rng, 7.0, 3.0), 100, epoch_ends=rows).store()


def test_stage3_overfitting_is_judged_on_the_early_stopping_metric(curves, rng):
    found = [
        f
        for f in diagnose(_stage3_heads_diverging(curves, rng, "value"))
        if f.kind == "overfitting"
    ]
    assert found and found[0].evidence["series"] == "value_brier_score"
    assert found[0].evidence["best_epoch"] == 4
    assert "value Brier score" in found[0].message


def test_stage3_overfitting_on_the_total_loss_ignores_one_heads_rise(curves, rng):
    store = _stage3_heads_diverging(curves, rng, "total")
    assert not [f for f in diagnose(store) if f.kind == "overfitting"]


def test_a_stageless_log_of_an_unknown_trainer_gets_the_lr_it_prints(tmp_path):
    """A key=value log whose writer no line tells: the advice names the trainer's LR with the
    value the log printed and where each trainer sets it."""
    log = tmp_path / "train.log"
    lines = [f"step={i} loss={2.303 - 1e-5 * i:.5f} lr=0.000001" for i in range(1, 401)]
    log.write_text("\n".join(lines) + "\n")
    found = [f for f in diagnose(load_store(log)) if f.kind == "stagnation"]
    assert found
    assert found[0].advice.option == "the trainer's LR"
    assert "the trainer's LR 0.000001 -> 0.000002" in found[0].advice.note
    assert "TrainingArguments(learning_rate=)" in found[0].advice.note


@pytest.mark.parametrize(
    ("name", "kind", "knob"),
    [
        # Adam at LR 1e-6: the HF console's loss dicts say HF wrote it, and print the LR
        (
            "transformers_stagnation_deep_seed4.console.txt",
            "stagnation",
            "TrainingArguments(learning_rate=) 0.000001 -> 0.000002",
        ),
        # SGD 3.0: Lightning's CSVLogger (its step column says Lightning)
        (
            "lightning_divergence_synth8_seed3.metrics.csv",
            "divergence",
            "the optimizer's lr (configure_optimizers)",
        ),
        # Adam 1e-6 in Keras' verbose=1 bars: no LR printed, the knob and the factor
        (
            "keras_stagnation_synth8_seed3.console.txt",
            "stagnation",
            "the optimizer's learning_rate x2",
        ),
    ],
)
def test_advice_names_the_knob_of_the_framework_that_wrote_the_log(tmp_path, name, kind, knob):
    """Real consoles and CSV files of the calibration part: the reader says which framework
    wrote them, and the advice names that framework's LR setting."""
    found = [f for f in _native(tmp_path, name) if f.kind == kind]
    assert found
    assert knob in found[0].advice.note
    assert "Lightning's configure_optimizers or" not in found[0].advice.note  # not the list


def _native(tmp_path, name: str):
    gz = HERE / "heldout2" / f"{name}.gz"
    path = tmp_path / name
    path.write_bytes(gzip.decompress(gz.read_bytes()))
    return diagnose(load_store(path))


def test_a_keras_csv_of_epoch_rows_is_read_with_the_epoch_rules(tmp_path):
    """Keras' CSVLogger writes one row an epoch (calibration runs): SGD 1e-5 stuck at ln 10 is
    stagnation; healthy AdamW runs are not (their loss fell far from the first epoch)."""
    stuck = _native(tmp_path, "keras_stagnation_deep_seed4.metrics.csv")
    assert "stagnation" in kinds(stuck)
    for healthy in ("keras_healthy_deep_seed4", "keras_healthy_rmsprop_synth8_seed3"):
        assert "stagnation" not in kinds(_native(tmp_path, f"{healthy}.metrics.csv"))
