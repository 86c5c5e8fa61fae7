"""A tiny Hugging Face Trainer run on CPU that knows nothing of maou-tui (slow hook test).

Regression of y = sum(x) by a linear layer; linear warmup then decay; logs every step.
Ctrl-C: the Trainer raises KeyboardInterrupt out of ``train()``; this script saves the model
there, as HF users' scripts do, and says so.
"""

from __future__ import annotations

import sys

import torch
from transformers import Trainer, TrainingArguments


class Regression(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(8, 1)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        loss = torch.nn.functional.mse_loss(self.linear(x).squeeze(-1), labels)
        return {"loss": loss}


def main(output_dir: str) -> int:
    torch.manual_seed(0)
    x = torch.randn(4096, 8)
    rows = [{"x": row, "labels": row.sum()} for row in x]
    args = TrainingArguments(
        output_dir=output_dir,
        max_steps=100000,
        per_device_train_batch_size=8,
        learning_rate=0.01,
        warmup_steps=200,
        logging_steps=3,  # its loss dict every 3 optimizer steps: placed at steps 3, 6, ...
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        disable_tqdm=False,
    )
    trainer = Trainer(model=Regression(), args=args, train_dataset=rows)
    try:
        trainer.train()
    except KeyboardInterrupt:
        trainer.save_model(output_dir)
        print(f"KeyboardInterrupt: model saved to {output_dir}", flush=True)
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
