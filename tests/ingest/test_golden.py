"""Golden files: every maou / guide line kind, with and without the logger prefix."""

from __future__ import annotations

import json
import os

import pytest

from tests.ingest.conftest import GOLDEN, parse_pieces

NAMES = ["maou_stage12", "maou_stage3", "guide_lines", "maou_misc"]
REGENERATE = os.environ.get("MAOU_TUI_REGEN_GOLDEN") == "1"


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("form", ["", ".bare"])
def test_log_parses_to_golden_events(name: str, form: str) -> None:
    events = parse_pieces([(GOLDEN / f"{name}{form}.log").read_bytes()])
    expected_path = GOLDEN / f"{name}.expected.json"
    if REGENERATE and not form:
        expected_path.write_text(json.dumps(events, indent=1, ensure_ascii=False) + "\n")
    assert events == json.loads(expected_path.read_text())
