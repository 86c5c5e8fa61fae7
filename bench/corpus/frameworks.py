"""Real runs of other trainers for the diagnostics corpus: Hugging Face Trainer, Lightning and
Keras (torch backend) train a small MLP on scikit-learn's digits with the guide's LR problems
induced.

Runs in a bench environment, never the product's (those libraries are not maou-tui
dependencies):

    python3 -m venv --system-site-packages /work/scratch/venv
    /work/scratch/venv/bin/pip install transformers accelerate lightning keras scikit-learn
    export OMP_NUM_THREADS=1 KERAS_BACKEND=torch
    /work/scratch/venv/bin/python bench/corpus/frameworks.py OUT [NAME...]

Each run directory keeps what the framework itself printed (``console.txt``; Lightning's and
Keras's CSV loggers' ``metrics.csv``) for the issue-12 readers, and an ``events.jsonl`` written
by a callback through this project's protocol and event writer (what today's reader reads):
per optimizer step the loss the framework reports for that step (HF with ``logging_steps=1``,
Lightning's ``training_step`` output; Keras reports a running mean since the epoch start,
recorded as ``loss_cum`` with the per-batch value recovered exactly, as every batch is seen)
and per epoch the mean train loss, validation loss and accuracy. ``config.framework`` names
the source, so advice speaks in its terms.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np

from maou_tui.protocol import EpochEnd, RunFinished, RunStarted, StageStarted, Step
from maou_tui.sdk.events import EventWriter

FRAMEWORKS = ("transformers", "lightning", "keras", "torch")
CLASSES = 10
BATCH = 64


@dataclass(frozen=True)
class Recipe:
    """One induced problem (or none), the same for every framework."""

    kind: str
    optimizer: str  # "sgd" | "adam"
    lr: float
    epochs: int
    momentum: float = 0.0
    warmup_epochs: int = 0
    train_size: int = 1200
    hidden: int = 64


#: What is induced; the labels are decided afterwards from the logged curves (labels.py).
RECIPES: tuple[Recipe, ...] = (
    Recipe("healthy", "adam", 1e-3, 12),
    Recipe("divergence", "sgd", 5.0, 6),
    Recipe("nan", "sgd", 1e8, 3),
    Recipe("stagnation", "sgd", 1e-5, 8),
    Recipe("overfitting", "adam", 1e-2, 80, train_size=64, hidden=256),
    Recipe("oscillation", "sgd", 0.3, 12, momentum=0.9),
    Recipe("warmup_lr_too_high", "adam", 0.3, 8, warmup_epochs=3),
)
#: Seeds of the calibration part and of the held-out part. Seed 1 was meant as the held-out
#: part, but its scores were printed with seed 0's before the labels' rules were corrected, so
#: it joined the calibration part; seed 2 was generated after the last change to rules and
#: detectors and scored once (docs/diagnostics.md).
CALIBRATE_SEEDS, HELD_OUT_SEED = (0, 1), 2


def digits(seed: int, train_size: int) -> tuple[np.ndarray, ...]:
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)
    y = data.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(y))
    train, val = order[:train_size], order[1200:]
    return x[train], y[train], x[val], y[val]


def mlp(hidden: int) -> Any:
    from torch import nn

    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, CLASSES))


def warmup_factor(recipe: Recipe, steps_per_epoch: int) -> Any:
    """LR factor per optimizer step: linear warmup to the peak, then constant."""
    warm = recipe.warmup_epochs * steps_per_epoch

    def factor(step: int) -> float:
        return min(1.0, (step + 1) / warm) if warm else 1.0

    return factor


class Recorder:
    """Writes the protocol's events for one run (the callbacks below feed it)."""

    def __init__(self, run_dir: Path, framework: str, recipe: Recipe, seed: int, spe: int):
        self.writer = EventWriter(run_dir / "events.jsonl")
        self.step = 0
        self.epoch_losses: list[float] = []
        config = {
            "framework": framework,
            "recipe": recipe.kind,
            "optimizer": recipe.optimizer,
            "learning_rate": recipe.lr,
            "momentum": recipe.momentum,
            "warmup_epochs": recipe.warmup_epochs,
            "seed": seed,
            "batch_size": BATCH,
            "train_size": recipe.train_size,
        }
        self.writer.emit(RunStarted(config=config, pid=os.getpid(), host=socket.gethostname()))
        self.writer.emit(
            StageStarted(
                stage=1,
                name="TRAINING",
                metric="accuracy",
                max_epochs=recipe.epochs,
                steps_per_epoch=spe,
                total_steps=spe * recipe.epochs,
                warmup_steps=recipe.warmup_epochs * spe or None,
                base_lr=recipe.lr,
                batch_size=BATCH,
            )
        )

    def on_step(
        self, epoch: int, batch: int, loss: float, lr: float, loss_cum: float | None = None
    ):
        self.step += 1
        finite = math.isfinite(loss)
        self.epoch_losses.append(loss)
        self.writer.emit(
            Step(
                stage=1,
                epoch=epoch,
                batch=batch,
                global_step=self.step,
                loss=loss if finite else None,
                loss_cum=loss_cum if loss_cum is not None and math.isfinite(loss_cum) else None,
                lr=lr,
            )
        )

    def on_epoch(self, epoch: int, lr: float, val_loss: float | None, val_acc: float | None):
        losses = np.asarray(self.epoch_losses, dtype=np.float64)
        self.epoch_losses = []
        train = float(losses.mean()) if losses.size else float("nan")

        def ok(v: float | None) -> float | None:
            return v if v is not None and math.isfinite(v) else None

        self.writer.emit(
            EpochEnd(
                stage=1,
                epoch=epoch,
                global_step=self.step,
                train_loss=ok(train),
                val_loss=ok(val_loss),
                val_metric=ok(val_acc),
                lr=lr,
            )
        )

    def close(self, status: str = "completed") -> None:
        self.writer.emit(RunFinished(status=status, step=self.step))  # type: ignore[arg-type]
        self.writer.close()


# ---------------------------------------------------------------------- Hugging Face Trainer


def run_transformers(run_dir: Path, recipe: Recipe, seed: int) -> None:
    import torch
    from torch import nn
    from transformers import Trainer, TrainerCallback, TrainingArguments

    xt, yt, xv, yv = digits(seed, recipe.train_size)
    spe = math.ceil(len(yt) / BATCH)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = mlp(recipe.hidden)

        def forward(self, x: Any, labels: Any = None) -> dict[str, Any]:
            logits = self.body(x)
            return {"loss": nn.functional.cross_entropy(logits, labels), "logits": logits}

    def rows(x: np.ndarray, y: np.ndarray) -> list[dict[str, Any]]:
        return [{"x": torch.from_numpy(a), "labels": int(b)} for a, b in zip(x, y, strict=True)]

    rec = Recorder(run_dir, "transformers", recipe, seed, spe)

    class Record(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            logs = logs or {}
            epoch = max(1, math.ceil(state.epoch - 1e-9))
            if "loss" in logs:
                batch = state.global_step - (epoch - 1) * spe
                rec.on_step(epoch, batch, float(logs["loss"]), float(logs["learning_rate"]))
            if "eval_loss" in logs:
                rec.on_epoch(
                    round(state.epoch),
                    float(state.log_history[-2].get("learning_rate", recipe.lr)),
                    float(logs["eval_loss"]),
                    float(logs.get("eval_accuracy", float("nan"))),
                )

    def accuracy(pred: Any) -> dict[str, float]:
        return {"accuracy": float((pred.predictions.argmax(-1) == pred.label_ids).mean())}

    args = TrainingArguments(
        output_dir=str(run_dir / "hf"),
        learning_rate=recipe.lr,
        num_train_epochs=recipe.epochs,
        per_device_train_batch_size=BATCH,
        per_device_eval_batch_size=256,
        eval_strategy="epoch",
        logging_strategy="steps",
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        optim="sgd" if recipe.optimizer == "sgd" else "adamw_torch",
        optim_args=f"momentum={recipe.momentum}" if recipe.momentum else None,
        lr_scheduler_type="constant_with_warmup" if recipe.warmup_epochs else "constant",
        warmup_steps=recipe.warmup_epochs * spe,
        weight_decay=0.0,
        max_grad_norm=0.0,  # no clipping: the induced problems must be able to show
        seed=seed,
        use_cpu=True,
        dataloader_num_workers=0,
    )
    trainer = Trainer(
        model=Net(),
        args=args,
        train_dataset=rows(xt, yt),
        eval_dataset=rows(xv, yv),
        compute_metrics=accuracy,
        callbacks=[Record()],
    )
    trainer.train()
    rec.close()


# ---------------------------------------------------------------------- Lightning


def run_lightning(run_dir: Path, recipe: Recipe, seed: int) -> None:
    import lightning as L
    import torch
    from lightning.pytorch.loggers import CSVLogger
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    L.seed_everything(seed)
    xt, yt, xv, yv = digits(seed, recipe.train_size)
    spe = math.ceil(len(yt) / BATCH)
    rec = Recorder(run_dir, "lightning", recipe, seed, spe)

    class Net(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.body = mlp(recipe.hidden)

        def training_step(self, batch: Any, _: int) -> Any:
            x, y = batch
            loss = nn.functional.cross_entropy(self.body(x), y)
            self.log("train_loss", loss, on_step=True, on_epoch=True, prog_bar=True)
            return loss

        def validation_step(self, batch: Any, _: int) -> None:
            x, y = batch
            logits = self.body(x)
            self.log("val_loss", nn.functional.cross_entropy(logits, y), prog_bar=True)
            self.log("val_acc", (logits.argmax(-1) == y).float().mean(), prog_bar=True)

        def configure_optimizers(self) -> Any:
            if recipe.optimizer == "sgd":
                opt: Any = torch.optim.SGD(self.parameters(), recipe.lr, momentum=recipe.momentum)
            else:
                opt = torch.optim.Adam(self.parameters(), recipe.lr)
            sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_factor(recipe, spe))
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    class Record(L.Callback):
        def on_train_batch_end(
            self, trainer: Any, module: Any, out: Any, batch: Any, i: int
        ) -> None:
            lr = trainer.optimizers[0].param_groups[0]["lr"]
            rec.on_step(trainer.current_epoch + 1, i + 1, float(out["loss"]), float(lr))

        def on_validation_epoch_end(self, trainer: Any, module: Any) -> None:
            if trainer.sanity_checking:
                return
            m = trainer.callback_metrics
            lr = trainer.optimizers[0].param_groups[0]["lr"]
            rec.on_epoch(
                trainer.current_epoch + 1,
                float(lr),
                float(m["val_loss"]),
                float(m["val_acc"]),
            )

    def loader(x: np.ndarray, y: np.ndarray, shuffle: bool) -> DataLoader:
        ds = TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
        return DataLoader(ds, batch_size=BATCH if shuffle else 256, shuffle=shuffle)

    trainer = L.Trainer(
        max_epochs=recipe.epochs,
        accelerator="cpu",
        devices=1,
        logger=CSVLogger(str(run_dir), name="lightning"),
        callbacks=[Record()],
        enable_checkpointing=False,
        num_sanity_val_steps=0,
        log_every_n_steps=1,
    )
    trainer.fit(Net(), loader(xt, yt, True), loader(xv, yv, False))
    rec.close()


# ---------------------------------------------------------------------- Keras (torch backend)


def run_keras(run_dir: Path, recipe: Recipe, seed: int) -> None:
    import keras

    keras.utils.set_random_seed(seed)
    xt, yt, xv, yv = digits(seed, recipe.train_size)
    spe = math.ceil(len(yt) / BATCH)
    rec = Recorder(run_dir, "keras", recipe, seed, spe)
    factor = warmup_factor(recipe, spe)

    class WarmupThenConstant(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step: Any) -> Any:
            warm = max(1, recipe.warmup_epochs * spe)
            ramp = keras.ops.minimum(1.0, (keras.ops.cast(step, "float32") + 1.0) / warm)
            return recipe.lr * (ramp if recipe.warmup_epochs else 1.0)

    lr: Any = WarmupThenConstant() if recipe.warmup_epochs else recipe.lr
    if recipe.optimizer == "sgd":
        opt: Any = keras.optimizers.SGD(learning_rate=lr, momentum=recipe.momentum)
    else:
        opt = keras.optimizers.Adam(learning_rate=lr)
    model = keras.Sequential(
        [keras.Input((64,)), keras.layers.Dense(recipe.hidden, "relu"), keras.layers.Dense(CLASSES)]
    )
    model.compile(
        opt, keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
    )

    class Record(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.epoch, self.prev = 1, 0.0

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.epoch, self.prev = epoch + 1, 0.0

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            t = batch + 1  # Keras reports the running mean since the epoch start
            cum = float(logs["loss"])
            per_batch = t * cum - (t - 1) * self.prev if t > 1 else cum
            self.prev = cum
            step_lr = recipe.lr * factor(rec.step)
            rec.on_step(self.epoch, t, per_batch, step_lr, loss_cum=cum)

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            logs = logs or {}
            rec.on_epoch(
                epoch + 1,
                recipe.lr * factor(rec.step - 1),
                float(logs.get("val_loss", float("nan"))),
                float(logs.get("val_accuracy", float("nan"))),
            )

    model.fit(
        xt,
        yt,
        batch_size=BATCH,
        epochs=recipe.epochs,
        validation_data=(xv, yv),
        callbacks=[Record(), keras.callbacks.CSVLogger(str(run_dir / "metrics.csv"))],
        verbose=1,
    )
    rec.close()


# ---------------------------------------------------------------------- plain loop + SDK Monitor


def run_torch(run_dir: Path, recipe: Recipe, seed: int) -> None:
    """A plain torch loop recorded by ``maou_tui.sdk.Monitor`` (the SDK's own events)."""
    import torch
    from torch import nn

    from maou_tui.sdk.monitor import Monitor

    torch.manual_seed(seed)
    xt, yt, xv, yv = (torch.from_numpy(a) for a in digits(seed, recipe.train_size))
    spe = math.ceil(len(yt) / BATCH)
    model = mlp(recipe.hidden)
    if recipe.optimizer == "sgd":
        opt: Any = torch.optim.SGD(model.parameters(), recipe.lr, momentum=recipe.momentum)
    else:
        opt = torch.optim.Adam(model.parameters(), recipe.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_factor(recipe, spe))
    config = {
        "recipe": recipe.kind,
        "seed": seed,
        "train_size": recipe.train_size,
        "warmup_epochs": recipe.warmup_epochs,
    }
    with Monitor(
        run_dir, opt, sched, spe * recipe.epochs, config=config, batch_size=BATCH, control=False
    ) as mon:
        for epoch in range(1, recipe.epochs + 1):
            losses = []
            order = torch.randperm(len(yt))
            for i in range(spe):
                idx = order[i * BATCH : (i + 1) * BATCH]
                loss = nn.functional.cross_entropy(model(xt[idx]), yt[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                losses.append(loss.item())
                mon.step(losses[-1], epoch=epoch)
            with torch.no_grad():
                logits = model(xv)
                val_loss = float(nn.functional.cross_entropy(logits, yv))
                val_acc = float((logits.argmax(-1) == yv).float().mean())
            train = float(np.mean(losses))
            mon.events.emit(
                EpochEnd(
                    stage=1,
                    epoch=epoch,
                    global_step=mon.global_step,
                    train_loss=train if math.isfinite(train) else None,
                    val_loss=val_loss if math.isfinite(val_loss) else None,
                    val_metric=val_acc,
                    lr=mon.scheduled_lr,
                )
            )
            print(
                f"epoch {epoch}: train loss {train:.4f} val loss {val_loss:.4f} acc {val_acc:.3f}"
            )


RUNNERS = {
    "transformers": run_transformers,
    "lightning": run_lightning,
    "keras": run_keras,
    "torch": run_torch,
}


def run_name(framework: str, recipe: Recipe, seed: int) -> str:
    return f"{framework}_{recipe.kind}_seed{seed}"


def generate(root: Path, framework: str, recipe: Recipe, seed: int) -> Path:
    """One run into ``root/<name>`` with its console output captured (skipped when done)."""
    run_dir = root / run_name(framework, recipe, seed)
    events = run_dir / "events.jsonl"
    if events.exists() and '"run_finished"' in events.read_text():
        return run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    events.unlink(missing_ok=True)
    console = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(console), contextlib.redirect_stderr(console):
        RUNNERS[framework](run_dir, recipe, seed)
    (run_dir / "console.txt").write_text(console.getvalue())
    print(f"{run_dir.name}: {time.perf_counter() - started:.1f} s", flush=True)
    return run_dir


def main() -> None:
    import torch

    torch.set_num_threads(1)  # a 2-core machine shared with other jobs: threads only contend
    root = Path(sys.argv[1])
    names = set(sys.argv[2:])
    for seed in (*CALIBRATE_SEEDS, HELD_OUT_SEED):
        for framework in FRAMEWORKS:
            for recipe in RECIPES:
                if names and run_name(framework, recipe, seed) not in names:
                    continue
                generate(root, framework, recipe, seed)


if __name__ == "__main__":
    main()
