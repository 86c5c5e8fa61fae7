"""What differs between the three stages: head, loss, metric sums; and the model/optimizer builders.

A stage model is the shared backbone plus that stage's head (maou's ``StageModelAdapter``);
the backbone object is carried from Stage 1 to 2 to 3, each stage gets a new head and optimizer.
These builders are public: ``trainer/lr_find.py`` reuses them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from trainer import losses, metrics
from trainer.config import StageSettings, TrainConfig
from trainer.models import (
    Backbone,
    LegalMovesHead,
    PolicyValueHead,
    ReachableSquaresHead,
    build_backbone,
)

REACHABLE_CELLS = 81


class StageModel(nn.Module):
    """``head(backbone(board, hand))``."""

    def __init__(self, backbone: Backbone, head: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, board: Tensor, hand: Tensor) -> Tensor:
        return self.head(self.backbone(board, hand))


def build_backbone_for(config: TrainConfig) -> Backbone:
    return build_backbone(
        config.model_architecture,
        config.preset,
        vit_embed_dim=config.vit_embed_dim,
        vit_num_layers=config.vit_num_layers,
        vit_num_heads=config.vit_num_heads,
        vit_mlp_ratio=config.vit_mlp_ratio,
        vit_dropout=config.vit_dropout,
    )


def build_stage_head(config: TrainConfig, stage: int, in_dim: int) -> nn.Module:
    if stage == 1:
        return ReachableSquaresHead(in_dim)
    if stage == 2:
        return LegalMovesHead(
            in_dim, hidden_dim=config.stage2_hidden_dim, dropout=config.stage2_head_dropout
        )
    return PolicyValueHead(in_dim)


def build_stage_model(
    config: TrainConfig, stage: int, backbone: Backbone | None = None
) -> StageModel:
    """The stage's model on the given backbone (a new one when None). Not moved to a device."""
    backbone = backbone if backbone is not None else build_backbone_for(config)
    return StageModel(backbone, build_stage_head(config, stage, backbone.out_dim))


def _decay_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """maou's Stage 3 rule: weight decay only on weights with ndim > 1 outside norm layers."""
    decay, no_decay = [], []
    norm_types = (nn.LayerNorm, nn.BatchNorm1d, nn.BatchNorm2d, nn.GroupNorm)
    for module in model.modules():
        for param in module.parameters(recurse=False):
            if not param.requires_grad:
                continue
            if param.ndim > 1 and not isinstance(module, norm_types):
                decay.append(param)
            else:
                no_decay.append(param)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def build_optimizer(
    config: TrainConfig, settings: StageSettings, model: nn.Module, lr: float
) -> torch.optim.Optimizer:
    """AdamW (betas, eps) or SGD (momentum), at ``lr`` (the effective, sqrt-scaled LR)."""
    groups = _decay_groups(model, settings.weight_decay)
    if config.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=config.momentum)
    return torch.optim.AdamW(
        groups,
        lr=lr,
        betas=(config.optimizer_beta1, config.optimizer_beta2),
        eps=config.optimizer_eps,
    )


@dataclass
class BatchResult:
    """A batch's loss (for backward) and metric sums over its samples (tensors, not synced)."""

    loss: Tensor
    sums: dict[str, Tensor]
    outputs: Tensor | tuple[Tensor, Tensor]


class StageTask:
    """Loss and metrics of one stage. ``sums[metric]`` / samples is the stage's metric."""

    def __init__(self, config: TrainConfig, stage: int) -> None:
        self.config = config
        self.stage = stage

    def compute(self, model: nn.Module, batch: dict[str, Tensor]) -> BatchResult:
        out = model(batch["board"], batch["hand"])
        if self.stage == 1:
            return self._reachable(out, batch["reachable"])
        if self.stage == 2:
            return self._legal(out, batch["legal"])
        return self._policy_value(out, batch["policy"], batch["value"])

    def _reachable(self, logits: Tensor, target: Tensor) -> BatchResult:
        loss = losses.bce_loss(logits.float(), target, self.config.stage1_pos_weight)
        correct = metrics.reachable_correct(logits, target)
        return BatchResult(loss, {"accuracy": correct.float() / REACHABLE_CELLS}, logits)

    def _legal(self, logits: Tensor, target: Tensor) -> BatchResult:
        cfg = self.config
        if cfg.stage2_gamma_pos > 0 or cfg.stage2_gamma_neg > 0 or cfg.stage2_clip > 0:
            loss = losses.asymmetric_loss(
                logits.float(), target, cfg.stage2_gamma_pos, cfg.stage2_gamma_neg, cfg.stage2_clip
            )
        else:
            loss = losses.bce_loss(logits.float(), target, cfg.stage2_pos_weight)
        return BatchResult(loss, {"f1": metrics.per_sample_f1_sum(logits, target)}, logits)

    def _policy_value(
        self, out: tuple[Tensor, Tensor], policy: Tensor, value: Tensor
    ) -> BatchResult:
        policy_logits, value_logit = out
        loss, _, _ = losses.policy_value_loss(
            policy_logits,
            value_logit,
            policy,
            value,
            self.config.policy_loss_ratio,
            self.config.value_loss_ratio,
        )
        sums = metrics.policy_value_sums(policy_logits, value_logit, policy, value)
        return BatchResult(loss, sums, out)

    def validation_extras(self, result: BatchResult, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        """Stage 3's METRICS-block sums for a validation batch (empty for Stages 1/2)."""
        if self.stage != 3:
            return {}
        policy_logits, value_logit = result.outputs
        return metrics.policy_validation_sums(
            policy_logits, value_logit, batch["policy"], batch["value"]
        )
