"""The submissions of a run: which files in the input folders count, in a stable order, and their content hashes.

Kept free of heavy imports: the command line decides from these alone whether anything changed since the last run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

_IGNORED_PREFIXES = ("~$", ".")  # Word lock files and hidden files (.DS_Store) are not submissions
_IGNORED_NAMES = {"thumbs.db", "desktop.ini", "ehthumbs.db"}  # files an operating system leaves in folders


@dataclass
class InputFile:
    path: Path
    name: str  # shown in tables: path relative to the input folder


def is_system_file(relative: Path) -> bool:
    """Lock, hidden and thumbnail files that operating systems and Word leave next to submissions."""
    return any(part.startswith(_IGNORED_PREFIXES) for part in relative.parts) or relative.name.lower() in _IGNORED_NAMES


def discover(inputs: Iterable[Path], ignored: list[str] | None = None) -> list[InputFile]:
    """Input files in a stable order; folders are searched recursively. System files found in folders are
    skipped and, when `ignored` is given, their names are appended to it. A file reached twice (a folder and a
    file in it) counts once; two different files that would show the same name are told apart by their folders."""
    found: dict[Path, tuple[Path, str, str]] = {}  # the file itself -> (path as given, name, name with its folder)
    for item in inputs:
        item = Path(item)
        if item.is_dir():
            # a link to a file that is gone stays in: it ends as an error row, not silently dropped
            for path in sorted(p for p in item.rglob("*") if p.is_file() or (p.is_symlink() and not p.exists())):
                rel = path.relative_to(item)
                if is_system_file(rel):
                    if ignored is not None:
                        ignored.append(rel.as_posix())
                    continue
                found.setdefault(_identity(path), (path, rel.as_posix(), f"{item.resolve().name}/{rel.as_posix()}"))
        else:
            found.setdefault(_identity(item), (item, item.name, f"{item.resolve().parent.name}/{item.name}"))
    names: dict[str, list[str]] = {}
    for _, name, longer in found.values():
        names.setdefault(name, []).append(longer)
    files: dict[str, InputFile] = {}
    for path, name, longer in found.values():
        if len(names[name]) > 1:
            # the same name in two input folders (2023/report.docx, 2024/report.docx): the folder is kept in it
            name = longer if names[name].count(longer) == 1 else path.absolute().as_posix()
        files[name] = InputFile(path, name)
    return [files[k] for k in sorted(files)]


def _identity(path: Path) -> Path:
    """The file itself, whichever way it was named (a broken link is its own path)."""
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
