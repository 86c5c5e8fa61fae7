"""trusted_step builds exactly the Step that validation would."""

from __future__ import annotations

import pytest

from maou_tui.ingest.trusted import trusted_step
from maou_tui.protocol import Step, decode_event, encode


@pytest.mark.parametrize("loss, cum", [(0.25, 0.5), (None, None), (1e-9, 1.0)])
def test_a_trusted_step_equals_a_validated_one(loss, cum) -> None:
    made = trusted_step(2, 3, 40, 1040, loss, cum)
    checked = Step(stage=2, epoch=3, batch=40, global_step=1040, loss=loss, metric_cum=cum)
    assert made == checked
    assert made.model_dump() == checked.model_dump()
    assert decode_event(encode(made)) == checked  # it serialises like one too
    assert made.model_fields_set == checked.model_fields_set


def test_trusted_steps_do_not_share_their_metrics() -> None:
    first, second = trusted_step(1, 1, 1, 1, 0.5, None), trusted_step(1, 1, 2, 2, 0.4, None)
    first.metrics["x"] = 1.0
    assert second.metrics == {}
