"""Stored compilations of very large regular expressions, so a cold start does not compile them again.

spaCy's French tokenizer compiles a pattern of about 1.4 million characters when it is imported: about 4 s,
most of a cold `check` of a French form. Python's `re` keeps compiled patterns in memory only, so the compiled
program is stored once in the cache folder (keyed by the interpreter, its regex engine and the pattern's
source) and handed back to `re`'s own cache before spaCy asks for the pattern. Anything unexpected (another
Python, a changed pattern, an unreadable file) falls back to an ordinary compile: the result is the same
pattern either way, only slower.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import re
import sys
from pathlib import Path

try:  # CPython's regex engine; absent or different elsewhere, where storing is simply skipped
    import _sre
    from re import _compiler, _parser
except ImportError:  # pragma: no cover
    _sre = None

_FORMAT = 1


def default_cache_dir() -> Path:
    """Per-user cache folder (XDG_CACHE_HOME or ~/.cache), overridable with ICC_CACHE_DIR."""
    if os.environ.get("ICC_CACHE_DIR"):
        return Path(os.environ["ICC_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "icc-practices"


def _engine_key() -> str:
    if _sre is None:
        return ""
    return f"{sys.implementation.cache_tag}-{_sre.MAGIC}-{_sre.CODESIZE}-{_FORMAT}"


def _path(name: str, cache_dir: Path | None) -> Path:
    return (cache_dir or default_cache_dir()) / "regex" / f"{name}-{_engine_key()}.marshal"


def _usable() -> bool:
    return _sre is not None and isinstance(getattr(re, "_cache", None), dict)


def restore(name: str, cache_dir: Path | None = None) -> re.Pattern | None:
    """Put the stored pattern `name` into `re`'s cache (so the next re.compile of its source is instant);
    the pattern, or None when nothing usable is stored."""
    if not _usable():
        return None
    try:
        pattern, flags, code, groups, groupindex, indexgroup, digest = marshal.loads(_path(name, cache_dir).read_bytes())
        if hashlib.sha256(pattern.encode()).hexdigest() != digest:
            return None
        compiled = _sre.compile(pattern, flags, _from_bytes(code), groups, groupindex, indexgroup)
    except (OSError, ValueError, TypeError, EOFError, RuntimeError):
        return None
    # re.compile(source) with no flags is how the pattern is asked for; `flags` above includes inline ones.
    re._cache[(str, pattern, 0)] = compiled
    return compiled


def store(name: str, compiled: re.Pattern, cache_dir: Path | None = None) -> Path | None:
    """Store the compiled program of `compiled` (compiled with no flags argument) under `name`; the file
    written, or None where this interpreter cannot store it."""
    if not _usable() or not isinstance(compiled.pattern, str):
        return None
    parsed = _parser.parse(compiled.pattern, 0)
    code = _compiler._code(parsed, 0)
    groupindex = dict(parsed.state.groupdict)
    indexgroup = [None] * parsed.state.groups
    for key, index in groupindex.items():
        indexgroup[index] = key
    digest = hashlib.sha256(compiled.pattern.encode()).hexdigest()
    data = marshal.dumps((compiled.pattern, parsed.state.flags, bytes(_as_array(code)), parsed.state.groups - 1,
                          groupindex, tuple(indexgroup), digest))
    path = _path(name, cache_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        return None
    return path


def _as_array(code: list[int]):
    from array import array

    return array("I" if _sre.CODESIZE == 4 else "H", code)


def _from_bytes(raw: bytes) -> list[int]:
    from array import array

    values = array("I" if _sre.CODESIZE == 4 else "H")
    values.frombytes(raw)
    return values.tolist()
