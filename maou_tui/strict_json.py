"""Decode untrusted JSON strictly: valid UTF-8, bounded nesting, no duplicate keys.

``json.loads`` alone takes the last of two equal keys (so ``"type":"status","type":"stop"``
smuggles a command past a reader that looked at the first), decodes invalid UTF-8 only if told
to replace it, and recurses once per ``[``/``{`` until Python's recursion limit. The standard
library has no option for the first and third, so the checks are written here, each small.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: Deepest nesting of arrays/objects accepted. Commands are flat; 32 leaves room for any payload.
MAX_DEPTH = 32

#: A JSON string literal (escapes included), removed before bracket counting.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class StrictJsonError(ValueError):
    """The text is not acceptable JSON; the message is one line that reads after "the text"."""


def decode_utf8(data: bytes) -> str:
    """``data`` as text; invalid UTF-8 is refused (never replaced) with its byte offset."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StrictJsonError(f"is not valid UTF-8 at byte {exc.start}") from None


def nesting_depth(text: str) -> int:
    """The deepest ``[``/``{`` nesting of ``text``, counted without parsing it."""
    depth = deepest = 0
    for bracket in _BRACKET.findall(_STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def check_depth(text: str, max_depth: int = MAX_DEPTH) -> None:
    """Raise StrictJsonError when ``text`` nests deeper than ``max_depth``."""
    depth = nesting_depth(text)
    if depth > max_depth:
        raise StrictJsonError(f"is nested {depth} levels deep; at most {max_depth} are accepted")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise StrictJsonError(f"has the key {key!r} twice")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise StrictJsonError(f"has {name}; only finite JSON numbers are accepted")


def loads_strict(data: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``data``; raises StrictJsonError for invalid UTF-8, deep nesting, duplicate keys,
    NaN/Infinity literals and anything ``json`` rejects."""
    text = decode_utf8(data) if isinstance(data, bytes) else data
    check_depth(text, max_depth)
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise StrictJsonError(f"is not valid JSON: {exc.msg} at column {exc.colno}") from None
