"""Backbones and stage heads: shapes, maou's parameter counts, options, and that tiny learns."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from trainer.models import (
    ARCHITECTURES,
    PRESETS,
    LegalMovesHead,
    PolicyValueHead,
    ReachableSquaresHead,
    build_backbone,
    parameter_count,
)
from trainer.shogi.datasets import stage1_arrays


@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread: on a shared 2-core machine, OpenMP spinning costs more than it buys."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _batch(size: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    board = torch.randint(0, 29, (size, 9, 9), generator=generator)
    hand = torch.randint(0, 3, (size, 14), generator=generator).float()
    return board, hand


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_backbone_and_heads_output_shapes(arch, preset):
    torch.manual_seed(0)
    backbone = build_backbone(arch, preset).eval()
    board, hand = _batch()
    with torch.no_grad():
        features = backbone(board, hand)
        assert features.shape == (2, backbone.out_dim)
        assert ReachableSquaresHead(backbone.out_dim)(features).shape == (2, 81)
        assert LegalMovesHead(backbone.out_dim)(features).shape == (2, 1496)
        policy, value = PolicyValueHead(backbone.out_dim)(features)
    assert policy.shape == (2, 1496) and value.shape == (2,)
    assert torch.isfinite(features).all()


@pytest.mark.parametrize(
    ("arch", "out_dim", "millions"),
    [("resnet", 2048, 13.94), ("mlp-mixer", 256, 8.78), ("vit", 512, 18.99)],
)
def test_maou_preset_matches_maous_sizes(arch, out_dim, millions):
    backbone = build_backbone(arch, "maou")
    assert backbone.out_dim == out_dim
    assert parameter_count(backbone) / 1e6 == pytest.approx(millions, rel=0.01)


def test_full_maou_resnet_is_resnet_17m():
    backbone = build_backbone("resnet", "maou")
    total = parameter_count(backbone) + parameter_count(PolicyValueHead(backbone.out_dim))
    assert total / 1e6 == pytest.approx(17.0, rel=0.01)


def test_tiny_presets_are_small():
    assert parameter_count(build_backbone("resnet", "tiny")) / 1e6 == pytest.approx(0.89, rel=0.02)
    for arch in ARCHITECTURES:
        assert parameter_count(build_backbone(arch, "tiny")) < 1_000_000


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_hand_reaches_the_features(arch):
    """Pieces in hand change the output: they are wired in (broadcast or on square (0, 0))."""
    torch.manual_seed(0)
    backbone = build_backbone(arch, "tiny").eval()
    board, hand = _batch(1)
    with torch.no_grad():
        assert not torch.allclose(backbone(board, hand), backbone(board, hand + 1))


def test_vit_options_override_the_preset():
    backbone = build_backbone("vit", "tiny", vit_embed_dim=32, vit_num_layers=1, vit_num_heads=2)
    assert backbone.out_dim == 32 and len(backbone.layer_groups()) == 1
    default = build_backbone("vit", "tiny", vit_embed_dim=None)
    assert default.out_dim == 128
    # like maou, --vit-* options do not touch other architectures
    assert build_backbone("resnet", "tiny", vit_embed_dim=32).out_dim == 512


def test_bad_model_options_are_one_line_errors():
    with pytest.raises(ValueError, match="not divisible by --vit-num-heads 3"):
        build_backbone("vit", "tiny", vit_num_heads=3)
    with pytest.raises(ValueError, match="unknown architecture 'cnn'"):
        build_backbone("cnn", "tiny")
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        build_backbone("resnet", "huge")
    with pytest.raises(ValueError, match="--stage2-head-dropout needs --stage2-hidden-dim"):
        LegalMovesHead(64, dropout=0.1)
    head = LegalMovesHead(64, hidden_dim=32, dropout=0.1)
    assert head(torch.zeros(3, 64)).shape == (3, 1496)


def test_layer_groups_follow_maous_freezing_groups():
    assert len(build_backbone("resnet", "maou").layer_groups()) == 4
    assert len(build_backbone("mlp-mixer", "maou").layer_groups()) == 16
    assert len(build_backbone("vit", "maou").layer_groups()) == 6


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_every_parameter_gets_a_gradient(arch):
    """No layer is left unwired: one backward pass reaches every parameter."""
    torch.manual_seed(0)
    backbone = build_backbone(arch, "tiny")
    head = PolicyValueHead(backbone.out_dim)
    board, hand = _batch(4)
    policy, value = head(backbone(board, hand))
    (policy.logsumexp(dim=1).sum() + value.sum()).backward()
    for name, param in [*backbone.named_parameters(), *head.named_parameters()]:
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_tiny_resnet_fits_stage1_rook_patterns():
    """12 AdamW steps on the 81 lone-rook rows of Stage 1 cut the loss by more than half."""
    torch.manual_seed(0)
    data = stage1_arrays()
    rows = np.flatnonzero((data.board == 7).any(axis=(1, 2)))  # id 7 = the mover's HI
    assert len(rows) == 81
    board = torch.from_numpy(data.board[rows].astype(np.int64))
    hand = torch.from_numpy(data.hand[rows])
    target = torch.from_numpy(data.targets["reachable"][rows])
    backbone = build_backbone("resnet", "tiny")
    head = ReachableSquaresHead(backbone.out_dim)
    params = [*backbone.parameters(), *head.parameters()]
    optimizer = torch.optim.AdamW(params, lr=3e-3, weight_decay=0.0)
    losses = []
    for _ in range(12):
        loss = nn.functional.binary_cross_entropy_with_logits(head(backbone(board, hand)), target)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        losses.append(loss.item())
    # 0.5 is about what predicting each square's base rate scores; this needs the rook's square
    assert losses[-1] < 0.5 * losses[0]


def test_tiny_mixer_gets_its_own_stage1_threshold_and_others_keep_099():
    """The tiny Mixer's Stage 1 only warms up (it stays on the all-zeros answer in budget)."""
    from trainer.config import build_config

    mixer = build_config({"model_architecture": "mlp-mixer"})
    assert (mixer.stage1_threshold, mixer.stage1_max_epochs) == (0.9, 5)
    assert mixer.stage2_max_epochs == 10
    vit = build_config({"model_architecture": "vit"})
    assert (vit.stage1_threshold, vit.stage1_max_epochs) == (0.99, 40)
    given = build_config({"model_architecture": "mlp-mixer", "stage1_threshold": 0.95})
    assert given.stage1_threshold == 0.95
    maou = build_config({"model_architecture": "mlp-mixer", "preset": "maou"})
    assert maou.stage1_threshold == 0.99
