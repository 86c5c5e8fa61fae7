"""Per-batch metrics (spec §1), returned as SUMS over the batch so running means stay exact.

Each function returns tensors (no ``.item()``): the loop turns everything it logs into Python
floats with one device sync per step.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def reachable_correct(logits: Tensor, target: Tensor) -> Tensor:
    """Stage 1: number of cells where ``sigmoid > 0.5`` equals the target (out of B×81)."""
    return ((logits > 0) == (target > 0.5)).sum()


def per_sample_f1_sum(logits: Tensor, target: Tensor) -> Tensor:
    """Stage 2: sum over the batch of each sample's F1 (both empty scores 1.0; eps 1e-8)."""
    pred = logits > 0
    truth = target > 0.5
    tp = (pred & truth).sum(dim=1).float()
    denom = pred.sum(dim=1).float() + truth.sum(dim=1).float()
    f1 = (2 * tp + 1e-8) / (denom + 1e-8)
    return f1.sum()


def policy_value_sums(
    policy_logits: Tensor, value_logit: Tensor, policy_target: Tensor, value_target: Tensor
) -> dict[str, Tensor]:
    """Stage 3 sums: top-1/top-5 hits against the most frequent move, value Brier, value moments."""
    best = policy_target.argmax(dim=1)
    top5 = policy_logits.topk(5, dim=1).indices
    value = torch.sigmoid(value_logit.float())
    return {
        "policy_accuracy": (top5[:, 0] == best).sum(),
        "policy_top5_accuracy": (top5 == best[:, None]).any(dim=1).sum(),
        "value_brier_score": ((value - value_target) ** 2).sum(),
        "value_sum": value.sum(),
        "value_sq_sum": (value * value).sum(),
    }


def policy_validation_sums(
    policy_logits: Tensor, value_logit: Tensor, policy_target: Tensor, value_target: Tensor
) -> dict[str, Tensor]:
    """Stage 3 validation extras (maou's METRICS block), as sums/counts over the batch."""
    total_mass = policy_target.sum(dim=1)
    target = policy_target / total_mass.clamp(min=1e-12)[:, None]
    cross_entropy = -(target * F.log_softmax(policy_logits.float(), dim=1)).sum(dim=1)
    top5 = policy_logits.topk(5, dim=1).indices
    positives = policy_target > 0
    hits = positives.gather(1, top5).sum()
    value = torch.sigmoid(value_logit.float())
    confident = value >= 0.8
    return {
        "policy_cross_entropy": cross_entropy.sum(),
        "top5_hits": hits,
        "top5_predicted": torch.tensor(float(top5.numel()), device=policy_logits.device),
        "positive_targets": positives.sum(),
        "confident": confident.sum(),
        "confident_wins": (confident & (value_target > 0.5)).sum(),
        "value_target_sum": value_target.float().sum(),
        "value_target_sq_sum": (value_target.float() ** 2).sum(),
        "empty_targets": (total_mass <= 0).sum(),
    }


def finish_validation_metrics(sums: dict[str, float], samples: int) -> dict[str, float | None]:
    """Turn accumulated Stage 3 validation sums into maou's METRICS values."""
    predicted = sums["top5_predicted"]
    positives = sums["positive_targets"]
    hits = sums["top5_hits"]
    precision = hits / predicted if predicted else 0.0
    recall = hits / positives if positives else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    confident = sums["confident"]
    mean = sums["value_sum"] / samples
    variance = max(0.0, sums["value_sq_sum"] / samples - mean * mean)
    label_mean = sums["value_target_sum"] / samples
    return {
        "policy_cross_entropy": sums["policy_cross_entropy"] / samples,
        "policy_accuracy": sums["policy_accuracy"] / samples,
        "policy_f1_score": f1,
        "policy_top5_accuracy": sums["policy_top5_accuracy"] / samples,
        "value_brier_score": sums["value_brier_score"] / samples,
        "value_high_confidence_rate": sums["confident_wins"] / confident if confident else None,
        "value_mean": mean,
        "value_std": variance**0.5,
        # what the best constant answer (the labels' mean) scores: the labels' variance
        "value_label_mean": label_mean,
        "value_constant_brier": max(0.0, sums["value_target_sq_sum"] / samples - label_mean**2),
        "policy_empty_target_rate": sums["empty_targets"] / samples,
    }
