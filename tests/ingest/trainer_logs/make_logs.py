"""Regenerate the captured console logs of other trainers (tests/ingest/trainer_logs/*.log).

Each library trains a tiny model on CPU for a few steps, in its own process, with stdout and
stderr sent to one file as ``cmd 2>&1 | tee train.log`` would. The libraries are not
dependencies of maou-tui; install them in a scratch venv and run this from there:

    python -m venv --system-site-packages /tmp/v
    /tmp/v/bin/pip install transformers accelerate lightning keras
    /tmp/v/bin/python tests/ingest/trainer_logs/make_logs.py

A library that is missing is skipped with a note. Nothing is downloaded: models are built from
configs and data is random.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent

HF = r"""
import torch
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments
torch.manual_seed(0)
class Data(torch.utils.data.Dataset):
    def __init__(self, n):
        self.x = torch.randint(0, 50, (n, 8)); self.y = (self.x[:, 0] > 25).long()
    def __len__(self): return len(self.y)
    def __getitem__(self, i): return {"input_ids": self.x[i], "labels": self.y[i]}
cfg = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                 intermediate_size=32, max_position_embeddings=16)
def metrics(p):
    return {"accuracy": float((p.predictions.argmax(-1) == p.label_ids).mean())}
args = TrainingArguments(output_dir=OUT, num_train_epochs=2, per_device_train_batch_size=8,
                         logging_steps=5, eval_strategy="epoch", save_strategy="no",
                         report_to=[], use_cpu=True, learning_rate=5e-3, warmup_steps=4,
                         seed=0)
Trainer(model=BertForSequenceClassification(cfg), args=args, train_dataset=Data(160),
        eval_dataset=Data(40), compute_metrics=metrics).train()
"""

LIGHTNING = r"""
import torch, lightning as L
from lightning.pytorch.callbacks import TQDMProgressBar
from lightning.pytorch.loggers import CSVLogger
torch.manual_seed(0)
class Model(L.LightningModule):
    def __init__(self):
        super().__init__(); self.net = torch.nn.Linear(8, 2)
    def training_step(self, batch, i):
        x, y = batch; loss = torch.nn.functional.cross_entropy(self.net(x), y)
        self.log("train_loss", loss, prog_bar=True, on_step=True, on_epoch=True); return loss
    def validation_step(self, batch, i):
        x, y = batch; out = self.net(x)
        self.log("val_loss", torch.nn.functional.cross_entropy(out, y), prog_bar=True)
        self.log("val_acc", (out.argmax(-1) == y).float().mean(), prog_bar=True)
    def configure_optimizers(self): return torch.optim.SGD(self.parameters(), lr=0.1)
def data(n):
    x = torch.randn(n, 8); y = (x[:, 0] > 0).long()
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=8)
L.Trainer(max_epochs=3, logger=CSVLogger(OUT, name="csv"), log_every_n_steps=5,
          enable_checkpointing=False, accelerator="cpu",
          callbacks=[TQDMProgressBar()]).fit(Model(), data(160), data(40))
"""

KERAS = r"""
import os, numpy as np
os.environ["KERAS_BACKEND"] = "torch"
import keras
keras.utils.set_random_seed(0)
x = np.random.randn(256, 8).astype("float32"); y = (x[:, 0] > 0).astype("int64")
model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                          keras.layers.Dense(2, activation="softmax")])
model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=VERBOSE,
          callbacks=[keras.callbacks.CSVLogger(OUT + "/keras_csvlogger.csv")])
"""

NANOGPT = r"""
import time, torch
torch.manual_seed(0)
# nanoGPT's train.py loop, with its own print formats, on a tiny bigram model.
V, T = 32, 16
data = torch.randint(0, V, (4096,))
model = torch.nn.Sequential(torch.nn.Embedding(V, 32), torch.nn.Linear(32, V))
opt = torch.optim.AdamW(model.parameters(), lr=6e-3)
def batch():
    i = torch.randint(0, len(data) - T - 1, (8,))
    return torch.stack([data[j:j + T] for j in i]), torch.stack([data[j + 1:j + T + 1] for j in i])
def loss_of(x, y): return torch.nn.functional.cross_entropy(model(x).view(-1, V), y.view(-1))
t0 = time.time()
for it in range(0, 61):
    lr = 6e-3 * min(1.0, (it + 1) / 10)
    for g in opt.param_groups: g["lr"] = lr
    if it % 20 == 0:
        with torch.no_grad():
            tr = sum(loss_of(*batch()).item() for _ in range(4)) / 4
            va = sum(loss_of(*batch()).item() for _ in range(4)) / 4
        print(f"step {it}: train loss {tr:.4f}, val loss {va:.4f}", flush=True)
    x, y = batch(); loss = loss_of(x, y)
    opt.zero_grad(); loss.backward(); opt.step()
    t1 = time.time(); dt = t1 - t0; t0 = t1
    if it % 5 == 0:
        mfu = 0.5 + it / 100
        print(f"iter {it}: loss {loss.item():.4f}, time {dt*1000:.2f}ms, mfu {mfu:.2f}%")
"""

# A hand-written loop logging through Python's logging with prefixes nobody else uses.
GENERIC = r"""
import logging, sys, torch
torch.manual_seed(0)
net = torch.nn.Linear(4, 1); opt = torch.optim.SGD(net.parameters(), lr=0.05)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=20, gamma=0.5)
h = logging.StreamHandler(sys.stdout)
h.setFormatter(logging.Formatter(FORMAT, datefmt="%H:%M:%S"))
log = logging.getLogger("trainer"); log.addHandler(h); log.setLevel(logging.INFO)
step = 0
for epoch in range(1, 4):
    for b in range(1, 21):
        x = torch.randn(16, 4); y = x.sum(1, keepdim=True)
        loss = torch.nn.functional.mse_loss(net(x), y)
        opt.zero_grad(); loss.backward(); opt.step(); step += 1
        if b % 4 == 0:
            lr = sched.get_last_lr()[0]
            log.info("epoch=%d step=%d loss=%.5f lr=%.4g", epoch, step, loss.item(), lr)
        sched.step()
    log.info("epoch %d done: val_loss: %.5f", epoch, loss.item() * 1.1)
"""

GENERIC_FORMATS = {
    "generic_python_logging": "%(asctime)s,%(msecs)03d - %(name)s - %(levelname)s - %(message)s",
    "generic_glog": "I0822 %(asctime)s.012142 48213 train.py:88] %(message)s",
    "generic_colour": "\x1b[2m[%(asctime)s]\x1b[0m \x1b[32mINFO\x1b[0m     %(message)s",
    "generic_rank": "[rank0]: %(asctime)s | %(levelname)s | %(message)s",
}


def capture(name: str, code: str, needs: str | None, **subs: str) -> None:
    if needs is not None and importlib.util.find_spec(needs) is None:
        print(f"skip {name}: {needs} is not installed")
        return
    out = tempfile.mkdtemp(prefix=f"{name}-")
    for key, value in {"OUT": repr(out), **subs}.items():
        code = code.replace(key, value)
    env = {**os.environ, "PYTHONHASHSEED": "0", "TQDM_NCOLS": "100", "COLUMNS": "100"}
    log = HERE / f"{name}.log"
    with log.open("wb") as sink:
        subprocess.run(
            [sys.executable, "-c", code], stdout=sink, stderr=subprocess.STDOUT, env=env, check=True
        )
    for csv in Path(out).rglob("*.csv"):
        shutil.copy(csv, HERE / f"{name}_{csv.name}")
    shutil.rmtree(out)
    print(f"wrote {log} ({log.stat().st_size} bytes)")


def main() -> None:
    capture("hf_trainer", HF, "transformers")
    capture("lightning", LIGHTNING, "lightning")
    capture("keras_verbose1", KERAS, "keras", VERBOSE="1")
    capture("keras_verbose2", KERAS, "keras", VERBOSE="2")
    capture("nanogpt", NANOGPT, "torch")
    for name, fmt in GENERIC_FORMATS.items():
        capture(name, GENERIC, "torch", FORMAT=repr(fmt))


if __name__ == "__main__":
    main()
