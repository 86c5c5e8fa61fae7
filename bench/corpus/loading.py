"""Read a corpus file into a RunStore, whole or in live-sized chunks (to measure delays)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

from maou_tui.store import RunStore


def read_events(path: Path) -> list[BaseModel]:
    """Every event of an events.jsonl or a maou-format log, via the ingestion parsers."""
    from maou_tui.ingest import FileSource

    source = FileSource(path)
    try:
        events: list[BaseModel] = []
        while batch := source.read_new():
            events += batch
        return events + source.finish()
    finally:
        source.close()


def chunks(events: list[BaseModel], size: int) -> Iterator[list[BaseModel]]:
    for i in range(0, len(events), size):
        yield events[i : i + size]


def store_of(events: list[BaseModel]) -> RunStore:
    store = RunStore()
    store.apply_all(events)
    return store
