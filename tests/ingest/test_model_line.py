"""maou-train names the architecture in its log so log-only readers can use the LR tables."""

from tests.ingest.conftest import parse_pieces

PREFIX = "2026-11-22T10:00:00+09:00 | INFO  |   train_log.py |                 info |  70 | "
MESSAGES = [
    "=" * 60,
    "STAGE 2: LEGAL MOVES LEARNING",
    "=" * 60,
    "Model: mlp-mixer (preset tiny, 0.19M parameters)",
    "LR sqrt scaling: base_lr=0.000100, scale=4.00, effective_lr=0.000400",
    "Epoch 1 Batch 1/10: Loss=0.6931, F1=3.00%",
]


def test_the_model_line_sets_the_stage_architecture() -> None:
    log = "".join(PREFIX + message + "\n" for message in MESSAGES).encode()
    started = [e for e in parse_pieces([log]) if e["type"] == "stage_started"]
    assert started and started[-1]["architecture"] == "mlp-mixer"
    assert started[-1]["lr_scale"] == 4.0


def test_without_the_model_line_the_architecture_is_unknown() -> None:
    log = "".join(PREFIX + m + "\n" for m in MESSAGES if not m.startswith("Model")).encode()
    started = [e for e in parse_pieces([log]) if e["type"] == "stage_started"]
    assert started and "architecture" not in started[-1]
