"""How many epochs a tiny model needs for the Stage 1 and Stage 2 thresholds (not a test).

    python -m tests.trainer_data.learning_speed [--archs resnet vit] [--stage2-positions N]

A bare loop, as maou's Stages 1/2: AdamW (default betas, wd 0), gradient clipping 1.0,
BCEWithLogits (``--stage1-pos-weight`` as maou's), constant LR; the metric is a cumulative
mean since epoch start on training batches (Stage 1 cell accuracy, Stage 2 per-sample F1).
Stage 2 continues from the Stage 1 backbone, as in ``--stage all``. Prints one line per
epoch and a summary table.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from trainer.models import (
    ARCHITECTURES,
    LegalMovesHead,
    ReachableSquaresHead,
    build_backbone,
    parameter_count,
)
from trainer.shogi.datasets import ShogiArrays, stage1_arrays, stage2_arrays


def stage1_accuracy(logits: torch.Tensor, target: torch.Tensor) -> float:
    return ((logits > 0) == (target > 0.5)).float().mean().item()


def stage2_f1(logits: torch.Tensor, target: torch.Tensor) -> float:
    predicted = (logits > 0).float()
    true_pos = (predicted * target).sum(1)
    precision = true_pos / (predicted.sum(1) + 1e-8)
    recall = true_pos / (target.sum(1) + 1e-8)
    f1 = 2 * precision * recall / (precision + recall + 1e-8)
    both_empty = (predicted.sum(1) == 0) & (target.sum(1) == 0)
    return torch.where(both_empty, torch.ones_like(f1), f1).mean().item()


def train_until(
    backbone: nn.Module,
    head: nn.Module,
    data: ShogiArrays,
    target_key: str,
    metric,
    threshold: float,
    batch_size: int,
    lr: float,
    max_epochs: int,
    label: str,
    pos_weight: float = 1.0,
) -> tuple[int | None, float]:
    """Train to ``threshold``; return (epoch reached or None, seconds)."""
    params = list(backbone.parameters()) + list(head.parameters())
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    board = torch.from_numpy(data.board.astype(np.int64))
    hand = torch.from_numpy(data.hand)
    target = torch.from_numpy(data.targets[target_key].astype(np.float32))
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos_weight))
    generator = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    backbone.train()
    head.train()
    for epoch in range(1, max_epochs + 1):
        order = torch.randperm(len(data), generator=generator)
        weighted, seen = 0.0, 0
        for begin in range(0, len(data), batch_size):
            idx = order[begin : begin + batch_size]
            logits = head(backbone(board[idx], hand[idx]))
            loss = loss_fn(logits, target[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            weighted += metric(logits.detach(), target[idx]) * len(idx)
            seen += len(idx)
        cumulative = weighted / seen
        elapsed = time.perf_counter() - start
        print(f"  {label} epoch {epoch}: metric={cumulative:.4f} ({elapsed:.0f} s)", flush=True)
        if cumulative >= threshold:
            return epoch, elapsed
    return None, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", nargs="+", default=list(ARCHITECTURES))
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--stage1-lr", type=float, default=1e-3)
    parser.add_argument("--stage1-pos-weight", type=float, default=1.0)
    parser.add_argument("--stage2-lr", type=float, default=1e-3)
    parser.add_argument("--stage2-positions", type=int, default=20_000)
    parser.add_argument("--stage2-batch-size", type=int, default=256)
    parser.add_argument("--stage2-hidden-dim", type=int, default=None)
    parser.add_argument("--max-epochs", type=int, default=30)
    parser.add_argument("--stage2-max-epochs", type=int, default=10, help="0 skips Stage 2")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    stage1 = stage1_arrays()
    stage2 = stage2_arrays(args.stage2_positions, seed=0, cache_dir=Path("/tmp/maou-data-cache"))
    rows = []
    for arch in args.archs:
        torch.manual_seed(0)
        backbone = build_backbone(arch, args.preset)
        print(f"{arch}/{args.preset}: {parameter_count(backbone) / 1e6:.2f}M backbone", flush=True)
        s1 = train_until(
            backbone, ReachableSquaresHead(backbone.out_dim), stage1, "reachable",
            stage1_accuracy, 0.99, 32, args.stage1_lr, args.max_epochs, "stage 1",
            args.stage1_pos_weight,
        )  # fmt: skip
        head2 = LegalMovesHead(backbone.out_dim, args.stage2_hidden_dim)
        s2 = train_until(
            backbone, head2, stage2, "legal", stage2_f1, 0.85, args.stage2_batch_size,
            args.stage2_lr, args.stage2_max_epochs, "stage 2",
        )  # fmt: skip
        rows.append((arch, s1, s2))
    print("arch        stage1 epochs (s)   stage2 epochs (s)")
    for arch, (e1, t1), (e2, t2) in rows:
        print(f"{arch:10}  {e1!s:>6} ({t1:5.0f})      {e2!s:>6} ({t2:5.0f})")


if __name__ == "__main__":
    main()
