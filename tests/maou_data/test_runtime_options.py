"""maou's runtime rules: adaptive batch (GNS), freezing, early stopping, gradient checkpointing."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from trainer.adaptive_batch import AdaptiveBatch, GnsEstimator, round_to_power_of_two
from trainer.early_stopping import EarlyStopping
from trainer.freezing import freeze_backbone_groups
from trainer.models import build_backbone


def _micro_batches(model: nn.Module, inputs: list[torch.Tensor], targets: list[torch.Tensor],
                   estimator: GnsEstimator) -> float | None:  # fmt: skip
    model.zero_grad()
    for k, (x, y) in enumerate(zip(inputs, targets, strict=True)):
        loss = nn.functional.mse_loss(model(x), y) / len(inputs)
        loss.backward()
        estimator.after_backward(model, k)
    return estimator.at_step(model)


def test_gns_is_maous_b_noise_formula() -> None:
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    inputs = [torch.randn(8, 4) for _ in range(4)]
    targets = [torch.randn(8, 1) for _ in range(4)]
    # The same quantities computed directly: micro-batch gradients and their mean.
    grads = []
    for x, y in zip(inputs, targets, strict=True):
        model.zero_grad()
        (nn.functional.mse_loss(model(x), y) / 4).backward()
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters()]))
    s = sum(float(g.pow(2).sum()) for g in grads)
    g = float(torch.stack(grads).sum(0).pow(2).sum())
    k, b = 4, 8
    expected = b * k / (k - 1) * (k * s / g - 1)
    gns = _micro_batches(model, inputs, targets, GnsEstimator(batch_size=8, measurement_interval=1))
    assert gns is not None and math.isclose(gns, expected, rel_tol=1e-6)


def test_gns_is_measured_every_measurement_interval_steps() -> None:
    model = nn.Linear(4, 1)
    estimator = GnsEstimator(batch_size=8, measurement_interval=3)
    data = ([torch.randn(8, 4) for _ in range(2)], [torch.randn(8, 1) for _ in range(2)])
    measured = [_micro_batches(model, *data, estimator) is not None for _ in range(6)]
    assert measured == [True, False, False, True, False, False]


def test_controller_moves_accumulation_to_a_power_of_two_within_bounds() -> None:
    batch = AdaptiveBatch(batch_size=100, min_steps=2, max_steps=8, interval=2, smoothing=1.0,
                          measurement_interval=1)  # fmt: skip
    assert batch.steps == 2
    assert batch.update(430.0) is None  # adjusts only every `interval` steps
    assert batch.update(430.0) == (2, 4)  # 430 / 100 = 4.3 -> 4
    batch.update(5000.0)
    assert batch.update(5000.0) == (4, 8)  # clipped to max
    assert round_to_power_of_two(3.0) == 4 and round_to_power_of_two(2.8) == 2


@pytest.mark.parametrize("keep", [0, 1, 2])
def test_freezing_keeps_the_last_groups_and_the_output_norm(keep: int) -> None:
    backbone = build_backbone("vit", "tiny")
    frozen = freeze_backbone_groups(backbone, keep)
    groups = backbone.layer_groups()
    trainable = {id(p) for g in groups[len(groups) - keep :] for p in g.parameters()}
    if keep:
        trainable |= {id(p) for p in backbone.norm.parameters()}
    for param in backbone.parameters():
        assert param.requires_grad == (id(param) in trainable)
    assert not backbone.inputs.embedding.weight.requires_grad
    assert frozen == sum(p.numel() for p in backbone.parameters() if not p.requires_grad)


def test_early_stopping_counts_epochs_without_a_new_best() -> None:
    early = EarlyStopping("policy", patience=2)
    assert early.update({"loss": 3.0, "policy_cross_entropy": 2.0})
    assert not early.update({"loss": 2.5, "policy_cross_entropy": 2.1})
    assert not early.should_stop
    assert not early.update({"loss": 2.4, "policy_cross_entropy": 2.0})  # not below the best
    assert early.should_stop and early.best == 2.0 and early.best_loss == 2.4
    assert early.message(3, 10).startswith(
        "Early stopping: monitored metric (policy) did not improve for 2 consecutive epochs "
        "(patience=2). Stopping at epoch 3 of 10."
    )
    assert not EarlyStopping("total", patience=0).should_stop


def test_gradient_checkpointing_gives_the_same_gradients() -> None:
    torch.manual_seed(0)
    backbone = build_backbone("vit", "tiny", vit_embed_dim=32, vit_num_layers=2, vit_num_heads=2)
    backbone.train()
    board = torch.randint(0, 29, (4, 9, 9))
    hand = torch.rand(4, 14)

    def grads() -> list[torch.Tensor]:
        backbone.zero_grad()
        torch.manual_seed(1)  # the same dropout masks
        backbone(board, hand).sum().backward()
        return [p.grad.clone() for p in backbone.parameters() if p.grad is not None]

    plain = grads()
    backbone.gradient_checkpointing = True
    checkpointed = grads()
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(plain, checkpointed, strict=True))
