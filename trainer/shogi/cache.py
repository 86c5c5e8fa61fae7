"""An npz cache of generated data, keyed by kind, size, seed and generator version.

Generated data is stored in a compact form (bit-packed multi-hots, sparse policy visits)
and expanded on load, so a cache file is a few MB even where the dense arrays are hundreds.
A file that cannot be read is treated as a miss and rewritten; writes are atomic
(temporary file + rename), so an interrupted run never leaves a half-written cache.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

# Bump when generation changes what a (kind, size, seed) produces: old files stop matching.
GENERATOR_VERSION = 2  # 2: self-play no longer plays a "mate in one" while in check


def cache_path(cache_dir: Path, kind: str, size: int, seed: int) -> Path:
    return Path(cache_dir) / f"{kind}-{size}-seed{seed}-v{GENERATOR_VERSION}.npz"


def load(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    """The arrays ``keys`` stored at ``path``, or None when it is missing or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {key: stored[key] for key in keys}
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        return None


def save(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` atomically (creating its directory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            np.savez(tmp, allow_pickle=False, **arrays)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
