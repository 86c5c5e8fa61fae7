"""A plain torch training script that knows nothing of maou-tui (the hook's test subject).

SGD without momentum on a linear model, LambdaLR warmup over ``--warmup`` steps. Every step it
prints the LR its scheduler set and the LR the step really used (the size of the update over
the size of the gradient), so a test can see an LR multiplier it never heard of. Ctrl-C ends it
the way training scripts do: a message, then exit status 0. Under torchrun (WORLD_SIZE > 1) it
trains under DistributedDataParallel on gloo and prefixes its lines with its rank.

With ``--report-every N`` it also reports as training scripts do, with counters of its own:
every N optimizer steps ``iter I: loss L, lr R`` (nanoGPT's form; I counts micro-batches, 4
per step here) and every 4N steps ``epoch E val_loss=V`` (a generic key=value line).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import torch


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=100000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--sleep", type=float, default=0.01)
    parser.add_argument("--report-every", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(0)
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        torch.distributed.init_process_group("gloo")
    rank = torch.distributed.get_rank() if distributed else 0
    model = torch.nn.Linear(8, 1)
    net = torch.nn.parallel.DistributedDataParallel(model) if distributed else model
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    warmup = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / args.warmup)
    )
    data = torch.randn(64, 8)
    target = data.sum(dim=1, keepdim=True)
    prefix = f"[rank {rank}] " if distributed else ""
    step = 0
    try:
        for step in range(1, args.steps + 1):
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(net(data), target)
            loss.backward()
            weight_before = model.weight.detach().clone()
            grad = model.weight.grad.detach().clone()
            scheduled = optimizer.param_groups[0]["lr"]
            optimizer.step()
            used = ((weight_before - model.weight.detach()).norm() / grad.norm()).item()
            warmup.step()
            print(
                f"{prefix}step {step} scheduled_lr {scheduled:.6g} used_lr {used:.6g} "
                f"loss {loss.item():.6g}",
                flush=True,
            )
            if args.report_every and step % args.report_every == 0:
                print(f"{prefix}iter {step * 4}: loss {loss.item():.6f}, lr {scheduled:.6g}")
                if step % (4 * args.report_every) == 0:
                    print(f"{prefix}epoch {step // (4 * args.report_every)} val_loss={step:.1f}")
            time.sleep(args.sleep)
    except KeyboardInterrupt:
        print(f"{prefix}KeyboardInterrupt at step {step}: saving and exiting", flush=True)
        return 0
    print(f"{prefix}finished {step} steps", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
