"""The stages' losses (spec §1): BCE with pos_weight, Asymmetric Loss, KL policy + BCE value."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def bce_loss(logits: Tensor, target: Tensor, pos_weight: float) -> Tensor:
    """BCEWithLogits averaged over all cells; ``pos_weight`` > 1 weighs positives up."""
    weight = None if pos_weight == 1.0 else logits.new_tensor(pos_weight)
    return F.binary_cross_entropy_with_logits(logits, target, pos_weight=weight)


def asymmetric_loss(
    logits: Tensor, target: Tensor, gamma_pos: float, gamma_neg: float, clip: float
) -> Tensor:
    """Asymmetric Loss for multi-label (Ridnik et al., ICCV 2021), averaged over all cells.

    Negatives are focused by ``gamma_neg`` and their probability shifted down by ``clip``;
    written out because torch has no ASL and it is a few lines.
    """
    prob = torch.sigmoid(logits)
    prob_neg = (prob - clip).clamp(min=0) if clip > 0 else prob
    log_pos = torch.log(prob.clamp(min=1e-8))
    log_neg = torch.log((1 - prob_neg).clamp(min=1e-8))
    loss_pos = target * log_pos
    loss_neg = (1 - target) * log_neg
    if gamma_pos > 0:
        loss_pos = loss_pos * (1 - prob).pow(gamma_pos)
    if gamma_neg > 0:
        loss_neg = loss_neg * prob_neg.pow(gamma_neg)
    return -(loss_pos + loss_neg).mean()


def policy_value_loss(
    policy_logits: Tensor,
    value_logit: Tensor,
    policy_target: Tensor,
    value_target: Tensor,
    policy_ratio: float,
    value_ratio: float,
) -> tuple[Tensor, Tensor, Tensor]:
    """``(total, policy, value)``: KLDiv(batchmean) of log_softmax vs the normalised target, plus
    BCEWithLogits of the value, each weighted by its ratio."""
    total_mass = policy_target.sum(dim=1, keepdim=True).clamp(min=1e-12)
    target = policy_target / total_mass
    log_probs = F.log_softmax(policy_logits.float(), dim=1)
    policy = F.kl_div(log_probs, target, reduction="batchmean")
    value = F.binary_cross_entropy_with_logits(value_logit.float(), value_target)
    return policy_ratio * policy + value_ratio * value, policy, value
