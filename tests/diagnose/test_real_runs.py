"""Real runs (tests/diagnose/corpus) through ingestion and diagnosis, and ``maou-tui report``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from maou_tui.cli import main
from maou_tui.diagnose import diagnose
from maou_tui.ingest import load_store

if TYPE_CHECKING:
    from maou_tui.diagnose import Diagnoser

CORPUS = Path(__file__).parent / "corpus"


def findings_of(name: str):
    return diagnose(load_store(CORPUS / name))


def test_healthy_trainer_log_has_no_warning():
    found = findings_of("s1_healthy.maou.txt")
    assert [f for f in found if f.severity != "info"] == []
    # its Loss=/Accuracy= are running means since epoch start, which jump the good way at
    # every epoch start of an improving run: nothing is said (issue 14 item 4)
    assert found == []


def test_far_too_low_lr_is_stagnation_with_the_stage1_option():
    found = {f.kind: f for f in findings_of("s1_lr_far_low.maou.txt")}
    f = found["stagnation"]
    assert f.advice.option == "--stage1-learning-rate"
    assert f.advice.current == pytest.approx(1e-6)
    assert f.advice.suggested == pytest.approx(2e-6)
    assert "divergence" not in found


def test_far_too_high_lr_diverges_at_once():
    found = [f for f in findings_of("digits_lr_far_high.events.jsonl") if f.kind == "divergence"]
    assert found and found[0].severity == "critical"
    assert found[0].step <= 10


def test_small_train_set_overfits():
    found = [f for f in findings_of("digits_small_overfit.maou.txt") if f.kind == "overfitting"]
    assert found
    assert found[0].evidence["val_loss"] > found[0].evidence["best_val_loss"]


def test_report_json_shape_and_fail_on(capsys):
    path = CORPUS / "digits_lr_far_high.events.jsonl"
    assert main(["report", str(path), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"source", "summary", "findings"}
    first = out["findings"][0]
    assert set(first) == {
        "kind",
        "severity",
        "stage",
        "epoch",
        "step",
        "message",
        "evidence",
        "advice",
    }
    assert set(first["advice"]) == {"option", "current", "suggested", "factor", "note"}
    assert main(["report", str(path), "--fail-on", "critical"]) == 3
    capsys.readouterr()
    assert main(["report", str(CORPUS / "s1_healthy.maou.txt"), "--fail-on", "warning"]) == 0


def test_report_text_lists_findings_with_advice(capsys):
    assert main(["report", str(CORPUS / "s1_lr_far_low.maou.txt")]) == 0
    text = capsys.readouterr().out
    assert "[WARNING] stagnation" in text
    assert "--stage1-learning-rate 0.000001 -> 0.000002" in text
    assert "TUI key: u" in text


def test_report_with_key_advice_does_not_load_the_app():
    """report names the TUI key of its advice from the app's key map; loading the whole Textual
    app for that cost ~0.9 s of CPU on every report."""
    import subprocess
    import sys

    code = (
        "import sys; from maou_tui.cli import main; "
        f"main(['report', {str(CORPUS / 's1_lr_far_low.maou.txt')!r}]); "
        "assert 'maou_tui.app.maou_app' not in sys.modules, 'the app was loaded'; "
        "assert 'watchdog' not in sys.modules, 'the tailer was loaded'"  # report reads once
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "TUI key: u" in done.stdout


def test_report_missing_file_is_one_line_exit_2(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope.log")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nope.log" in err


def test_log_starting_after_an_explosion_is_divergence_not_stagnation():
    found = {f.kind: f for f in findings_of("s1_lr_far_high.maou.txt")}
    f = found["divergence"]
    assert f.severity == "critical" and f.evidence["rule"] == "first_point"
    assert f.advice.option == "--stage1-learning-rate"
    assert f.advice.suggested == pytest.approx(0.1)
    # "raise the LR" would be the wrong advice for a network stuck after a blow-up
    assert "stagnation" not in found
    assert "raise the LR" not in found["fail_fast_risk"].advice.note


def test_loss_stuck_above_the_untrained_models_is_divergence():
    found = {f.kind: f for f in findings_of("digits_lr_high_dead.maou.txt")}
    # shown at its first bad batch (batch 9: 4.48 against a recent 2.23), before the
    # batches above the untrained loss or the blocks confirm it
    assert found["divergence"].evidence["rule"] == "recent_blowup"
    assert found["divergence"].step == 9
    assert "stagnation" not in found


def test_warmup_peak_above_every_architectures_range_without_the_architecture():
    found = {f.kind: f for f in findings_of("s1_warmup_peak_high.maou.txt")}
    f = found["warmup_lr_too_high"]
    # the log names no architecture: the most permissive table (ResNet, batch <= 256) is used
    assert f.evidence["guide_search_top"] == pytest.approx(0.0283)
    assert f.step <= 40


def test_real_nan_loss_is_critical():
    found = {f.kind: f for f in findings_of("digits_nan_sgd_lr1e8.maou.txt")}
    assert found["nan"].severity == "critical"
    assert found["nan"].step <= 10


def test_flat_running_mean_log_is_not_oscillation():
    found = {f.kind for f in findings_of("s1_mixer_stuck.maou.txt")}
    assert "oscillation" not in found
    assert "stagnation" in found


def test_epoch_loss_rising_and_falling_more_than_it_drifts_is_oscillation():
    found = [f for f in findings_of("digits_high_lr_momentum.maou.txt") if f.kind == "oscillation"]
    assert found and found[0].advice.action == "halve_lr"


def test_validation_loss_going_up_and_down_is_oscillation():
    found = [f for f in findings_of("digits_val_swings.maou.txt") if f.kind == "oscillation"]
    assert found and found[0].evidence["series"] == "val_loss"
    assert found[0].advice.factor == pytest.approx(0.5)


def test_healthy_validated_run_has_no_warning():
    found = findings_of("digits_healthy_cnn.maou.txt")
    # its validation loss is read by the oscillation rule too: a healthy one does not swing
    assert [f.kind for f in found if f.severity != "info"] == []


def test_stage3_value_head_collapsed_by_a_high_lr():
    """Trainer Stage 3 at LR 0.3: value predictions spread < 0.01 around the mean, Brier 0.237,
    what the best constant answer scores (the labels' variance, logged as
    value_constant_brier); no prediction reaches 0.8, so the confident rate prints n/a."""
    found = [
        f for f in findings_of("s3_value_collapse_lr03.maou.txt") if f.kind == "value_collapse"
    ]
    assert found and found[0].epoch == 1  # bunched from epoch 1, reported at 2
    assert found[0].evidence["value_std"] < 0.05
    assert found[0].advice.option == "--learning-ratio"


def test_healthy_stage3_run_has_no_value_collapse():
    found = findings_of("s3_healthy.maou.txt")
    assert [f for f in found if f.severity != "info"] == []


def test_real_maou_run_gets_no_warning_and_no_value_collapse():
    """maou's own output (reference capture, all stages, ViT): its Stage 3 value head scores a
    Brier of 0.225-0.218 against the 0.248 of a constant answer, with no confident prediction
    yet (rate 0.0): it learns; it has not collapsed."""
    found = findings_of("maou_real_all_stages.typescript")
    assert [f.kind for f in found if f.severity != "info"] == []


def test_epoch_only_stage3_at_a_tiny_lr_is_stagnation_told_to_raise_the_lr():
    """The trainer's Stage 3 at --learning-ratio 1e-6, its batch lines removed (what maou prints
    without progress bars): train 8.192 -> 8.175 -> 8.159, validation 8.167 -> 8.158."""
    found = findings_of("s3_lr1e6_epoch_only.maou.txt")
    serious = {f.kind: f for f in found if f.severity != "info"}
    assert set(serious) <= {"stagnation", "value_collapse"}
    f = serious["stagnation"]
    assert f.advice.option == "--learning-ratio"
    assert f.advice.current == pytest.approx(1e-6)
    assert f.advice.suggested > f.advice.current  # raise it, never lower it
    # every finding's advice points the same way (a head that never moved needs more LR)
    for other in serious.values():
        assert other.advice.suggested is None or other.advice.suggested > other.advice.current


def test_epoch_only_stage3_blow_up_is_divergence_at_its_epoch():
    """--learning-ratio 1.0, batch lines removed: the epoch-1 validation loss is 3619, far
    above the ln 1496 + ln 2 = 8.0 of an untrained network."""
    found = [f for f in findings_of("s3_lr1_epoch_only.maou.txt") if f.kind == "divergence"]
    assert found and found[0].severity == "critical" and found[0].epoch == 1
    assert found[0].advice.suggested < found[0].advice.current


def test_nan_and_blow_up_are_shown_at_the_logged_step_they_happen(tmp_path):
    """Live, one event at a time: the finding is there at the very step whose loss was not
    finite (digits SGD 1e8) or far above the start (digits SGD 8)."""
    for name, kind in (
        ("digits_nan_sgd_lr1e8.maou.txt", "nan"),
        ("digits_lr_far_high.events.jsonl", "divergence"),
    ):
        diagnoser, shown_at = _replayed_live(name, kind)
        onset = min(f.step for f in diagnoser.findings if f.kind == kind)
        assert shown_at is not None and shown_at == onset, name


def test_a_network_thrown_to_chance_is_shown_live_at_its_first_bad_batch():
    """Live, one event at a time (digits SGD 1.5): the jump of batch 9 to 2x the loss's recent
    level shows the divergence there, the same finding as offline, and no stagnation."""
    diagnoser, shown_at = _replayed_live("digits_lr_high_dead.maou.txt", "divergence")
    diagnoser.finish()
    live = {f.id for f in diagnoser.findings}
    found = {f.kind: f for f in findings_of("digits_lr_high_dead.maou.txt")}
    assert {f.id for f in found.values()} <= live
    divergence = found["divergence"]
    assert divergence.evidence["rule"] == "recent_blowup"
    assert shown_at == divergence.evidence["detected_at_step"] == divergence.step == 9
    assert "stagnation" not in found


def _replayed_live(name: str, kind: str) -> tuple[Diagnoser, int | None]:
    """A corpus file fed to a live Diagnoser one event at a time; the step at which ``kind``
    was first shown (None if never)."""
    from maou_tui.diagnose import Diagnoser
    from maou_tui.ingest import FileSource
    from maou_tui.store import RunStore

    source = FileSource(CORPUS / name)
    events = []
    while batch := source.read_new():
        events += batch
    events += source.finish()
    source.close()
    store = RunStore()
    diagnoser = Diagnoser(store)
    shown_at = None
    for event in events:
        store.apply_all([event])
        if shown_at is None and any(f.kind == kind for f in diagnoser.update()):
            shown_at = int(store.last_step)
    return diagnoser, shown_at
