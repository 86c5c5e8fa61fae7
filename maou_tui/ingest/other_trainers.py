"""Console output of other trainers, read into the same series names as maou's.

The lines no maou message claims come here (``LineSink.line``), whatever their prefix:

- HF Trainer: ``{'loss': 0.69, 'grad_norm': 1.2, 'learning_rate': 4.5e-05, 'epoch': 0.5}``
  and its eval/summary dicts; the step is the ``n`` of the tqdm bar drawn before the dict
  (HF's bar counts optimizer steps), else the dict's ordinal;
- tqdm bars with a ``key=value`` postfix (PyTorch Lightning: ``Epoch 3: 45%|..| 450/1000
  [.., train_loss=0.23, v_num=1]``): a point where the postfix changes;
- Keras ``fit``: ``Epoch 1/3`` then ``12/16 ━━━━ 1s 2ms/step - accuracy: 0.91 - loss: 0.23``
  (bar renders and ``verbose=2`` epoch lines);
- nanoGPT: ``iter 100: loss 2.3012, time 31.2ms, mfu 5.00%`` and ``step 100: train loss ..,
  val loss ..``;
- generic ``key=value`` / ``key: value`` lines that carry a step, iteration or epoch.

Hand-written because no library reads these consoles; each form is one regex. Names: the log's
own, with ``learning_rate`` as ``lr`` and HF's ``eval_*`` as ``val_*``; ``a b`` as ``a_b``; a
unit glued to a number goes into the name (``time_ms``); percentages become fractions.

The first line only one framework prints (HF's dict, Lightning's epoch bar or its end line,
Keras' epoch header or bar) says who wrote the log: a ``RunStarted`` whose config's
``framework`` names it, so advice names that framework's LR setting.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from maou_tui.protocol import LOG_PID, RunStarted

if TYPE_CHECKING:
    from maou_tui.ingest.lanes import LineSink

_NUM = r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+|nan|NaN|inf|-inf)"
_DICT = re.compile(r"\{['\"]\w")
_DICT_ITEM = re.compile(r"['\"]([\w/.-]+)['\"]:\s*['\"]?(" + _NUM + r")['\"]?(?=[,}])")
_TQDM = re.compile(r"(?:(?:Epoch|epoch) (\d+)\S*: *)?\d+%\|[^|]*\| *(\d+)/(\d+) *\[([^\]]*)\]")
_POSTFIX_ITEM = re.compile(r"([A-Za-z_][\w/.-]*)=(" + _NUM + r")(%?)(?=,|$)")
_LIGHTNING_END = re.compile(r"`Trainer.fit` stopped: (.+)")
_KERAS_EPOCH = re.compile(r"Epoch (\d+)/(\d+)\s*$")
_KERAS_BAR = re.compile(r"(?:^|\s)(\d+)/(\d+) (?:\S*[━=>.\[\]]\S* |- )")
_KERAS_ITEM = re.compile(r" - ([A-Za-z_][\w/.-]*): (" + _NUM + r")(?=\s|$)")
_NANOGPT = re.compile(
    r"(?:^|\s)(iter|step) (\d+): ((?:[A-Za-z][\w ]*? " + _NUM + r"[%a-z]*(?:, |$))+)"
)
_NANOGPT_ITEM = re.compile(r"([A-Za-z][\w ]*?) (" + _NUM + r")([%a-z]*)(?:, |$)")
# Where a generic line's message starts: its first position key (anything before is a prefix).
_POSITION = re.compile(
    r"(?<![\w.])(global_step|step|iteration|iter|it|epoch|batch)(?:\s*[=:]\s*|\s+)(\d+)\b", re.I
)
_KV_ITEM = re.compile(r"(?<![\w.])([A-Za-z_][\w/.-]*)\s*[=:]\s*(" + _NUM + r")(%?)(?![\w.:/])")
_STEP_KEYS = {"global_step", "step", "iteration", "iter", "it"}
# Lightning's ``self.log("train_loss", on_step=True, on_epoch=True)`` writes ``train_loss_step``
# (this batch's loss) and ``train_loss_epoch`` (the epoch's mean): the store's ``loss`` and
# ``train_loss``, so charts and diagnostics find them.
_RENAME = {
    "learning_rate": "lr",
    "lr_0": "lr",
    "learning rate": "lr",
    "train_loss_step": "loss",
    "train_loss_epoch": "train_loss",
}
_SKIP = {"v_num"}  # Lightning's logger version: a label, not a measurement


def framework_started(framework: str) -> RunStarted:
    """The run as a log tells it: which framework wrote it (``diagnose.context.FRAMEWORKS``)."""
    return RunStarted(config={"framework": framework}, pid=LOG_PID)


def series_name(key: str) -> str:
    """A printed key as a series name: HF's ``eval_`` is ``val_``, ``learning_rate`` is ``lr``,
    Lightning's ``train_loss_step`` / ``train_loss_epoch`` are ``loss`` / ``train_loss``."""
    key = key.strip().replace(" ", "_").replace("/", "_")
    key = _RENAME.get(key, key)
    return "val_" + key[5:] if key.startswith("eval_") else key


class OtherTrainerLines:
    """Reads lines of other trainers' consoles into named points of the parser."""

    def __init__(self, parser: LineSink) -> None:
        self.parser = parser
        self.bar_step: int | None = None  # the last bar's global step (HF) or epoch step
        self.dicts = 0
        self.epoch: int | None = None  # Keras' ``Epoch e/E`` or a bar's ``Epoch e:``
        self.epoch_offset = 0  # steps of the epochs before the open one (Keras, Lightning)
        self._epoch_length = 0
        self._last_postfix = ""
        self._shown: dict[str, float] = {}  # the bar's postfix values as last drawn
        self._steps_total: int | None = None  # the total of HF's step bar
        self._steps_per_epoch = 0  # HF's, as far as its bar and epochs tell
        self.last_step = 0
        self.framework: str | None = None

    def line(self, msg: str) -> bool:
        """Read ``msg`` if it is one of the forms above; False if it is not."""
        return (
            self._tqdm(msg)
            or self._hf_dict(msg)
            or self._lightning_end(msg)
            or self._keras(msg)
            or self._nanogpt(msg)
            or self._generic(msg)
        )

    def _written_by(self, framework: str) -> None:
        """The log is ``framework``'s: said once, by the first line only it prints."""
        if self.framework is None:
            self.framework = framework
            self.parser.emit(framework_started(framework), stage_data=False)

    def _emit(self, items: dict[str, float], step: int, epoch: int = -1, batch: int = -1) -> None:
        for name, value in items.items():
            self.parser.point(name, value, step, epoch, batch)
        self.last_step = max(self.last_step, step)

    def _open_epoch(self, epoch: int, length: int) -> None:
        if epoch != self.epoch:
            if self.epoch is not None:
                self.epoch_offset += self._epoch_length
            self.epoch, self._epoch_length = epoch, length
        self._epoch_length = max(self._epoch_length, length)

    def _tqdm(self, msg: str) -> bool:
        m = _TQDM.search(msg)
        if m is None:
            return False
        self._bar(m, msg)
        rest = msg[m.end() :].strip()
        if rest:  # a message printed right after the bar, without a line break
            self.parser.line(rest)
        return True

    def _bar(self, m: re.Match[str], msg: str) -> None:
        """A tqdm bar: HF's step counter, or an epoch's bar whose postfix holds values."""
        epoch_text, n_text, total_text, info = m.groups()
        n, total = int(n_text), int(total_text)
        if epoch_text is None:  # HF: the first bar counts the run's optimizer steps; the
            if self._steps_total in (None, total):  # eval bars drawn inside it count batches
                self._steps_total, self.bar_step = total, n
            return
        if msg[: m.start()].strip().lower().startswith("validation"):
            return
        self._written_by("lightning")
        self._open_epoch(int(epoch_text), total)
        step = self.epoch_offset + n
        self.bar_step = step
        postfix = info.split(", ", 2)[2] if info.count(", ") >= 2 else ""
        if postfix and postfix != self._last_postfix and n > 0:
            self._last_postfix = postfix
            self._emit(self._changed(postfix), step, int(epoch_text), n)

    def _changed(self, postfix: str) -> dict[str, float]:
        """The postfix items whose value differs from the last render's: Lightning carries
        ``val_loss`` and ``*_epoch`` values on every render until they are logged again."""
        items = {}
        for key, number, pct in _POSTFIX_ITEM.findall(postfix):
            value = float(number) / 100 if pct else float(number)
            if key not in _SKIP and self._shown.get(key) != value:
                self._shown[key] = items[series_name(key)] = value
        return items

    def _hf_dict(self, msg: str) -> bool:
        start = _DICT.search(msg)
        if start is None:
            return False
        items = {series_name(k): float(v) for k, v in _DICT_ITEM.findall(msg, start.start())}
        if not items:
            return False
        self.dicts += 1
        self._written_by("transformers")
        self._emit(items, self._hf_step(items.get("epoch")))
        if "train_runtime" in items:  # HF's summary of a train() that returned
            self.parser.finish_run("completed", "")
        return True

    def _hf_step(self, epoch: float | None) -> int:
        """HF's dict has no step, but its fractional epoch is step / steps-per-epoch. The bar's
        last render may lag the step (tqdm skips renders), never lead it, so steps per epoch
        is at least ``bar / epoch``: the largest such estimate, times the epoch."""
        bar = self.bar_step
        if bar is None:
            return self.dicts
        if epoch:
            self._steps_per_epoch = max(self._steps_per_epoch, round(bar / epoch))
        return max(bar, round((epoch or 0) * self._steps_per_epoch))

    def _lightning_end(self, msg: str) -> bool:
        m = _LIGHTNING_END.search(msg)
        if m is not None:
            self._written_by("lightning")
            self.parser.finish_run("completed", m.group(1))
        return m is not None

    def _keras(self, msg: str) -> bool:
        m = _KERAS_EPOCH.search(msg)
        if m is not None:
            self._open_epoch(int(m.group(1)), 0)
            self._last_postfix = ""
            return True
        m = _KERAS_BAR.search(msg)
        if m is None or self.epoch is None:
            return False
        items = {series_name(k): float(v) for k, v in _KERAS_ITEM.findall(msg, m.end() - 2)}
        if not items:
            return False
        self._written_by("keras")
        n, total = int(m.group(1)), int(m.group(2))
        self._open_epoch(self.epoch, total)
        postfix = msg[m.end() :]
        if postfix != self._last_postfix:
            self._last_postfix = postfix
            self._emit(items, self.epoch_offset + n, self.epoch, n)
        return True

    def _nanogpt(self, msg: str) -> bool:
        m = _NANOGPT.search(msg)
        if m is None:
            return False
        step = int(m.group(2))
        items = {}
        for name, number, unit in _NANOGPT_ITEM.findall(m.group(3)):
            value = float(number)
            if unit == "%":
                value /= 100
            elif unit:
                name = f"{name}_{unit}"
            items[series_name(name)] = value
        self._emit(items, step)
        return True

    def _generic(self, msg: str) -> bool:
        m = _POSITION.search(msg)
        if m is None:
            return False
        position: dict[str, int] = {}
        items: dict[str, float] = {}
        for key, number, pct in _KV_ITEM.findall(msg, m.start()):
            low = key.lower()
            if low in _STEP_KEYS or low in ("epoch", "batch"):
                position[low] = int(float(number))
            else:
                items[series_name(key)] = float(number) / 100 if pct else float(number)
        if not items:
            return False
        key = m.group(1).lower()
        position.setdefault(key, int(m.group(2)))
        step = next((position[k] for k in _STEP_KEYS if k in position), self.last_step)
        self._emit(items, step, position.get("epoch", -1), position.get("batch", -1))
        return True
