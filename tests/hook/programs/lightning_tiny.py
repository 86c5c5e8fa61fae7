"""A tiny Lightning run on CPU that knows nothing of maou-tui (slow hook test).

Regression of y = sum(x); AdamW with a LambdaLR warmup stepped every batch. Lightning handles
Ctrl-C itself ("Detected KeyboardInterrupt, attempting graceful shutdown").
"""

from __future__ import annotations

import sys

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset


class Regression(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(8, 1)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> torch.Tensor:
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.linear(x).squeeze(-1), y)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def configure_optimizers(self) -> dict[str, object]:
        optimizer = torch.optim.AdamW(self.parameters(), lr=0.01)
        warmup = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / 200))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": warmup, "interval": "step"}}


def main(root: str) -> int:
    torch.manual_seed(0)
    x = torch.randn(4096, 8)
    loader = DataLoader(TensorDataset(x, x.sum(dim=1)), batch_size=8, shuffle=True)
    trainer = L.Trainer(
        max_epochs=1000, accelerator="cpu", default_root_dir=root, log_every_n_steps=1
    )
    trainer.fit(Regression(), loader)
    print(f"fit ended: {trainer.state.status}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
