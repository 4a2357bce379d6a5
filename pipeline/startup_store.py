"""Stored results of slow, deterministic start-up work, so a cold `check` does not redo them.

Building the USE tokenizer's tables from its model file and lemmatising every cue phrase of the criteria take
about a second each on a cold start, and their results only change when their sources do. They are stored in
the cache folder under a key made of everything they are computed from (the source bytes, library versions
and a format number); `marshal` keeps plain values (str, bytes, lists, dicts) and reads them back in a few
milliseconds. A missing, damaged or foreign file is ignored and the work is simply done again.
"""

from __future__ import annotations

import hashlib
import marshal
import sys
from pathlib import Path
from typing import Any

from pipeline.regex_store import default_cache_dir
from pipeline.tables import atomic_write_bytes

_FORMAT = 1


def source_key(*parts: str | bytes) -> str:
    """A short key over the sources a stored value is computed from (and the interpreter reading it)."""
    digest = hashlib.sha256(f"{sys.implementation.cache_tag}-{marshal.version}-{_FORMAT}".encode())
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:24]


def _path(name: str, key: str, cache_dir: Path | None) -> Path:
    return (cache_dir or default_cache_dir()) / "startup" / f"{name}-{key}.marshal"


def load(name: str, key: str, cache_dir: Path | None = None) -> Any | None:
    """The value stored under `name` and `key`, or None when there is no usable one."""
    try:
        stored_key, value = marshal.loads(_path(name, key, cache_dir).read_bytes())
    except (OSError, ValueError, TypeError, EOFError):
        return None
    return value if stored_key == key else None


def save(name: str, key: str, value: Any, cache_dir: Path | None = None) -> Path | None:
    """Store `value` (plain values only) under `name` and `key`; the file written, or None when it cannot be.
    Older files of the same name are removed, so the folder holds one per name."""
    path = _path(name, key, cache_dir)
    try:
        atomic_write_bytes(path, marshal.dumps((key, value)))
        for old in path.parent.glob(f"{name}-*.marshal"):
            if old != path:
                old.unlink(missing_ok=True)
    except (OSError, ValueError):
        return None
    return path
