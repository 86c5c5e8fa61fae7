"""The message forms of maou's log and the LR guide, as compiled patterns (one per line kind).

Numbers accept maou's ``nan``/``inf``; a percentage keeps its ``%`` in a separate group so that
``as_value`` can store it as a fraction.
"""

from __future__ import annotations

import re

from maou_tui.stages import STAGE_NAMES

NUM = r"([-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+|nan|NaN|inf|Inf|-inf))"
PCT = NUM + r"(%?)"

#: A stage's number, name (``REACHABLE_SQUARES``) or the name's first word, as logs say it.
STAGE_BY_WORD = {
    **{str(n): n for n in STAGE_NAMES},
    **{name: n for n, name in STAGE_NAMES.items()},
    **{name.split("_")[0]: n for n, name in STAGE_NAMES.items()},
}
STAGE_BY_LABEL = {"accuracy": 1, "acc": 1, "f1": 2}

BANNER = re.compile(r"STAGE (\d): ")
STARTING = re.compile(r"Starting .*max_epochs=(\d+), threshold=" + NUM + "%")
STAGE_EPOCH = re.compile(
    r"Stage (\w+) Epoch (\d+)/(\d+): Loss=" + NUM + r"(?:, ([\w ]+)=" + PCT + ")?"
)
STAGE_LR = re.compile(r"Stage (\w+) Epoch (\d+): LR = " + NUM)
BATCH = re.compile(
    r"(?:Epoch (\d+) )?Batch (\d+)(?:/(\d+))?:\s*Loss=" + NUM + r"(?:, ([\w ]+)=" + PCT + ")?"
)
EPOCH_SUMMARY = re.compile(r"Epoch (\d+)/(\d+): Loss=" + NUM + r"(?:, ([\w ]+)=" + PCT + ")?")
VAL = re.compile(
    r"Epoch (\d+): Train Loss="
    + NUM
    + r"(?:, Val Loss="
    + NUM
    + r")?(?:, Val ([\w ]+)="
    + PCT
    + ")?"
)
THRESHOLD = re.compile(r"Stage (\w+) (\w+) threshold achieved! \(" + NUM + "% >= " + NUM + "%\\)")
COMPLETED = re.compile(r"Stage (\d) completed successfully: (\w+)=" + PCT + r",\s*epochs=(\d+)")
SQRT = re.compile(r"LR sqrt scaling: base_lr=" + NUM + ", scale=" + NUM + ", effective_lr=" + NUM)
WARMUP = re.compile(
    r"Using Warmup\+CosineDecay scheduler \(warmup_steps=(\d+), total_steps=(\d+)\)"
)
COSINE = re.compile(r"Using CosineAnnealingLR scheduler \(T_max=(\d+)\)")
MODEL = re.compile(r"Model: ([\w-]+)")  # maou-train's own line naming the architecture
STREAMING = re.compile(r"Streaming Training: (\d+) batches")
EPOCH3 = re.compile(r"EPOCH (\d+):")
LOSS3 = re.compile(r"LOSS train " + NUM + " valid " + NUM + r"(?: gap " + NUM + ")?")
METRIC_LINE = re.compile(r"(?:policy|value)_\w+\s*=")  # a METRICS line, whatever its prefix
METRIC_ITEM = re.compile(r"((?:policy|value)_\w+)\s*[:=]?\s*" + NUM)
NON_FINITE = re.compile(r"Non-finite loss detected \(epoch=(\d+), batch=(\d+)\)")
SAVED = re.compile(r"Saved (.+?) (head|backbone): (.+)")
# ``Batch: 256, Epoch: 10`` (older maou and our trainer), ``Batch: 128 × 1 = 128 (effective),
# Epoch: 3`` and ``Batch: 128 × adaptive(1-4) (effective: 128-512), Epoch: 3`` (maou b40d0910):
# groups physical batch, effective batch (fixed accumulation only), epochs.
CONFIG_BATCH = re.compile(
    r"Batch: (\d+)(?: \S+ (?:\d+ = (\d+) \(effective\)|adaptive\([^)]*\) \(effective: [^)]*\)))?"
    r"(?:, Epoch: (\d+))?"
)
CONFIG_SCHEDULER = re.compile(r"Scheduler: (\w+)")
# The end of a run: maou's JSON summary on stdout after the last export (success); a failure's
# exception line after the traceback, and the ``achieved: ..`` line maou adds under it.
RUN_SUMMARY = re.compile(r'\{"stage": "?\w+"?, "stages_completed"|\{"Data Samples": ')
EXCEPTION = re.compile(r"((?:\w+\.)*\w*(?:Error|Exception|Interrupt)): (.+)")
ACHIEVED = re.compile(r"achieved: " + NUM + "% / required: " + NUM + "%")

# The LR guide's batch line, logger prefix included, as raw bytes: the fast lane of a log whose
# every line is a data point (no decode, no prefix split, one match). Groups: level, then those
# of BATCH. ASCII only: any other line, or one this does not match whole, takes the general path.
_ASCII_NUM = rb"([-+]?(?:[0-9]+\.?[0-9]*(?:[eE][-+]?[0-9]+)?|\.[0-9]+|nan|NaN|inf|Inf|-inf))"
BATCH_LINE = re.compile(
    rb"(?:[0-9]{2}[^|]* \| ([^|]*) \| [^|]* \| [^|]* \| [^|]* \| )?[ \t]*"
    rb"(?:Epoch ([0-9]+) )?Batch ([0-9]+)(?:/([0-9]+))?:[ \t]*Loss="
    + _ASCII_NUM
    + rb"(?:, ([A-Za-z0-9_ ]+)="
    + _ASCII_NUM
    + rb"(%?))?[ \t]*"
)
# On a line BATCH_LINE matches whole and whose only "Batch " is its message's: that message's
# batch, loss, metric and "%" (each number ends where the next ``,`` or blank begins).
BATCH_FIELDS = re.compile(
    rb"Batch ([0-9]+)(?:/[0-9]+)?:[ \t]*Loss=([^, \t\n]*)(?:, [A-Za-z0-9_ ]+=([^% \t\n]*)(%?))?"
)
FIRST_TOTAL = re.compile(rb"Batch [0-9]+/([0-9]+):")  # the N of the first such "Batch B/N"
# BATCH_LINE treats every digit alike, so a line matches whole iff it does with its digits as 0s.
DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
#: maou-train's last line: ``Run finished: completed (all stages completed)``.
RUN_FINISHED = re.compile(r"Run finished: (completed|stopped|failed)(?: \((.*)\))?$")
CONFIG_LR = re.compile(r"Optimizer: (\w+) \(lr=" + NUM)


# Where a message of the forms above starts in a line, whatever comes before it (a timestamp,
# level, logger, file:line, rank tag): the line's prefix is not parsed, so one nobody has seen
# works too. Literal words only, so the search is one pass of re's literal-prefix scan.
MESSAGE_START = re.compile(
    r"STAGE \d: |Starting |Stage \w+ (?:Epoch|\w+ threshold|completed)|Epoch \d|Batch \d"
    r"|EPOCH \d+:|LOSS train |METRICS|=== Training Configuration|LR sqrt scaling"
    r"|Using (?:Warmup|CosineAnnealing|constant)|Streaming Training|Model: |Non-finite loss"
    r"|Saved \w+ (?:head|backbone)|Early stopping|Error occurred|Run finished: "
    r"|\{\"stage\": |\{\"Data Samples\""
)


def as_value(number: str | bytes, percent: str | bytes = "") -> float:
    value = float(number)
    return value / 100.0 if percent else value


def split_prefix(line: str) -> tuple[str, str]:
    """``(level, message)``; level is "" for a line without maou's logger prefix."""
    if line[:2].isdigit() and " | " in line:
        parts = line.split(" | ", 5)
        if len(parts) == 6:
            return parts[1].strip(), parts[5]
    return "", line
