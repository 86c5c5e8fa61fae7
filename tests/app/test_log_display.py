"""One log line as the viewer shows it: the last ``\\r`` render, colours, prefixes folded."""

from __future__ import annotations

import pytest

from maou_tui.app.log_display import display_line, prefix_end, terminal_render


@pytest.mark.parametrize(
    ("line", "message", "level"),
    [
        (  # maou's logger
            "2026-12-03T17:27:41+09:00 | INFO  |  learn_model.py |          learn_model | 773 | "
            "Multi-stage training requested: stage=all",
            "Multi-stage training requested: stage=all",
            "INFO",
        ),
        (  # loguru's default format
            "2024-01-01 12:00:00.000 | WARNING  | __main__:<module>:1 - loss is nan",
            "loss is nan",
            "WARNING",
        ),
        (  # logging's "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
            "2024-01-01 12:00:00,123 - root - ERROR - out of memory - retrying",
            "out of memory - retrying",
            "ERROR",
        ),
        ("INFO:root:hello", "hello", "INFO"),  # logging's basicConfig
        (
            "[rank0]:W1203 17:27:41.123456 12345 reducer.py:123] unused params",
            "unused params",
            "WARNING",
        ),
        ("[rank1]: Traceback (most recent call last):", "Traceback (most recent call last):", ""),
        ("Epoch 1: 100%|####| 10/10 [00:01<00:00]", "Epoch 1: 100%|####| 10/10 [00:01<00:00]", ""),
        ("  policy_f1_score = 0.0105", "  policy_f1_score = 0.0105", ""),
    ],
)
def test_prefix_columns_end_where_the_message_starts(line: str, message: str, level: str) -> None:
    end, found_level = prefix_end(line)
    assert (line[end:], found_level) == (message, level)


def test_a_folded_prefix_keeps_the_local_time_and_a_level_other_than_info() -> None:
    info = b"2026-12-03T17:27:41+09:00 | INFO  | dl.py | __train | 752 | Stage 3 Epoch 1"
    assert (
        display_line(info, show_prefix=False, colours=True).text.plain == "08:27:41 Stage 3 Epoch 1"
    )
    assert display_line(info, show_prefix=True, colours=True).text.plain == info.decode()
    warning = b"2026-12-03T17:27:41+09:00 | WARNING | dl.py | __train | 752 | Non-finite loss"
    shown = display_line(warning, show_prefix=False, colours=True)
    assert (shown.text.plain, shown.level) == ("08:27:41 WARNING Non-finite loss", "WARNING")


def test_a_bar_shows_its_last_render_and_crlf_is_no_rewrite() -> None:
    assert terminal_render(b"bar 10%\rbar 50%\rbar 100%\r") == b"bar 100%"
    assert terminal_render(b"plain line\r") == b"plain line"
    assert terminal_render(b"Epoch 1/3\x08\x08\x08 1/3") == b"Epoch 1/3 1/3"  # Keras backspaces


def test_colours_kept_or_stripped_and_other_escapes_never_shown() -> None:
    line = b"\x1b[2K\x1b[32mgreen\x1b[0m\x07 text\x0e"  # a bell and a shift-out too
    kept = display_line(line, show_prefix=False, colours=True).text
    assert kept.plain == "green text"
    assert kept.spans and kept.spans[0].style.color.number == 2  # type: ignore[union-attr]
    stripped = display_line(line, show_prefix=False, colours=False).text
    assert stripped.plain == "green text" and not stripped.spans
