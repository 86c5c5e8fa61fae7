"""The guide's tables, its worked example and the sqrt scaling rule."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maou_tui.lrtools import (
    TABLES,
    format_lr,
    format_recommendation,
    linear_scaled_lr,
    recommend,
    sqrt_scale,
    sqrt_scaled_lr,
    stage_lr_option,
)


def test_worked_example_vit_stage2_batch4096_is_exact() -> None:
    rec = recommend("vit", 2, 4096)
    assert rec.recommended_effective_lr == 0.0002
    assert rec.scale == 4.0
    assert rec.cli_value == 0.00005
    assert rec.option == "--stage2-learning-rate"
    assert "--stage2-learning-rate 0.00005 --stage2-batch-size 4096" in rec.command_line


@pytest.mark.parametrize(
    ("batch", "scale"), [(16, 1.0), (256, 1.0), (1024, 2.0), (2048, math.sqrt(8)), (4096, 4.0)]
)
def test_sqrt_scale_matches_guide_table_for_stages_1_and_2(batch: int, scale: float) -> None:
    assert sqrt_scale(batch, 1) == pytest.approx(scale)
    assert sqrt_scale(batch, 2) == pytest.approx(scale)


def test_stage3_is_never_sqrt_scaled() -> None:
    assert sqrt_scale(4096, 3) == 1.0


def test_stage_lr_options() -> None:
    assert [stage_lr_option(s) for s in (1, 2, 3)] == [
        "--stage1-learning-rate",
        "--stage2-learning-rate",
        "--learning-ratio",
    ]


@pytest.mark.parametrize(
    ("arch", "stage", "batch", "cli", "search"),
    [
        ("resnet", 1, 32, 0.001, (0.0005, 0.01)),
        ("resnet", 2, 256, 0.0001, (0.00005, 0.001)),
        ("resnet", 2, 4096, 0.0001, (0.00005, 0.0005)),
        ("resnet", 3, 256, 0.001, (0.0001, 0.01)),
        ("vit", 1, 16, 0.0005, (0.0001, 0.001)),
        ("vit", 3, 1024, 0.0001, (0.00005, 0.0005)),
        ("mlp-mixer", 2, 4096, 0.0001, (0.00005, 0.0003)),
        ("mlp-mixer", 3, 256, 0.0005, (0.0001, 0.005)),
    ],
)
def test_table_rows_give_the_guides_cli_values(
    arch: str, stage: int, batch: int, cli: float, search: tuple[float, float]
) -> None:
    rec = recommend(arch, stage, batch)
    assert rec.exact_row
    assert rec.cli_value == pytest.approx(cli)
    assert rec.cli_search_range == pytest.approx(search)
    assert rec.recommended_effective_lr == pytest.approx(cli * rec.scale)
    assert rec.search_range == pytest.approx((search[0] * rec.scale, search[1] * rec.scale))


def test_resnet_stage2_4096_effective_is_four_times_the_cli_value() -> None:
    rec = recommend("resnet", 2, 4096)
    assert rec.recommended_effective_lr == pytest.approx(0.0004)


def test_stage3_1024_row_states_the_contradiction_and_follows_the_code() -> None:
    rec = recommend("resnet", 3, 1024)
    assert rec.scale == 1.0
    assert rec.recommended_effective_lr == rec.cli_value == 0.001
    assert any("0.002" in n and "no sqrt scaling" in n for n in rec.notes)


def test_batch_between_rows_uses_nearest_row_and_says_so() -> None:
    rec = recommend("resnet", 2, 2048)
    assert not rec.exact_row
    assert rec.guide_row == "resnet Stage 2, batch 4096"
    # The trainer's own sqrt scaling keeps the CLI value of the row.
    assert rec.cli_value == pytest.approx(0.0001)
    assert any("nearest row is batch 4096" in n for n in rec.notes)


def test_vit_large_embed_or_deep_gets_go_lower_note() -> None:
    plain = recommend("vit", 3, 256)
    big = recommend("vit", 3, 256, embed_dim=768, num_layers=8)
    assert not any("go lower" in n for n in plain.notes)
    assert any("go lower" in n and "0.00007" in n for n in big.notes)
    assert any("--vit-dropout 0.1" in n for n in big.notes)
    assert "--vit-embed-dim 768 --vit-num-layers 8" in big.command_line


def test_arch_names_are_normalised_and_unknown_is_one_line_error() -> None:
    assert recommend("MLP_Mixer", 1, 32).arch == "mlp-mixer"
    with pytest.raises(ValueError, match="unknown architecture 'cnn'") as info:
        recommend("cnn", 1, 32)
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match="stage must be 1, 2 or 3"):
        recommend("resnet", 4, 32)
    with pytest.raises(ValueError, match="batch size must be a positive integer"):
        recommend("resnet", 1, 0)


@given(
    arch=st.sampled_from(sorted(TABLES)),
    stage=st.integers(1, 3),
    batch=st.integers(1, 1 << 16),
)
def test_cli_value_times_scale_is_effective_lr(arch: str, stage: int, batch: int) -> None:
    rec = recommend(arch, stage, batch)
    assert rec.cli_value * rec.scale == pytest.approx(rec.recommended_effective_lr, rel=1e-2)
    assert rec.search_range[0] < rec.recommended_effective_lr <= rec.search_range[1]


def test_scaling_rules_from_seed_000() -> None:
    assert linear_scaled_lr(0.1, 256, 1024) == pytest.approx(0.4)
    assert sqrt_scaled_lr(0.1, 256, 1024) == pytest.approx(0.2)


def test_format_lr_writes_decimals_like_the_guide() -> None:
    assert format_lr(0.00005) == "0.00005"
    assert format_lr(0.0002) == "0.0002"
    assert format_lr(1e-7) == "1e-07"


def test_formatted_recommendation_shows_every_figure() -> None:
    text = format_recommendation(recommend("vit", 2, 4096))
    for figure in ("0.0002", "4.00", "--stage2-learning-rate 0.00005", "maou-train"):
        assert figure in text
