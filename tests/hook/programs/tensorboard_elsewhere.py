"""A torch script that writes TensorBoard files outside its working directory (test subject).

``--log-dir X``: one SummaryWriter there, tags ``train/loss`` and ``train/weight_norm``
at every step. A second writer
goes to ``--printed-dir Y``, which the command line does not name as a log directory: the
script says where, as maou does (``TensorBoard log directory: Y (model: tiny)``), and writes
tag ``train/lr`` there.
"""

from __future__ import annotations

import argparse
import logging
import sys

import torch
from torch.utils.tensorboard import SummaryWriter


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--log-dir", required=True)
    parser.add_argument("--printed-dir", required=True)
    parser.add_argument("--steps", type=int, default=12)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s | %(levelname)s | %(message)s")
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    data, target = torch.randn(32, 4), torch.randn(32, 1)
    named = SummaryWriter(args.log_dir)
    printed = SummaryWriter(args.printed_dir)
    logging.info("TensorBoard log directory: %s (model: %s)", args.printed_dir, "tiny")
    for step in range(1, args.steps + 1):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(data), target)
        loss.backward()
        optimizer.step()
        named.add_scalar("train/loss", loss.item(), step)
        named.add_scalar("train/weight_norm", model.weight.norm().item(), step)
        printed.add_scalar("train/lr", optimizer.param_groups[0]["lr"], step)
    named.close()
    printed.close()
    print(f"finished {args.steps} steps", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
