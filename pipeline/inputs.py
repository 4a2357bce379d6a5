"""The submissions of a run: which files in the input folders count, in a stable order, and their content hashes.

Kept free of heavy imports: the command line decides from these alone whether anything changed since the last run.
"""

from __future__ import annotations

import hashlib
import os
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
    name = relative.name.lower()
    return (any(part.startswith(_IGNORED_PREFIXES) for part in relative.parts) or name in _IGNORED_NAMES
            or (name.startswith("~") and name.endswith(".tmp")))  # Word's temporary copies (~WRL0001.tmp)


def discover(inputs: Iterable[Path], ignored: list[str] | None = None, skip: Path | None = None) -> list[InputFile]:
    """Input files in a stable order; folders are searched recursively. System files found in folders are
    skipped and, when `ignored` is given, their names are appended to it. The folder `skip` (the run's own output
    folder, when it lies inside an input folder) is not searched. A file reached twice (a folder and a file in it)
    counts once; two different files that would show the same name are told apart by their folders."""
    found: dict[Path, tuple[Path, str, str]] = {}  # the file itself -> (path as given, name, name with its folder)
    for item in inputs:
        item = Path(item)
        if item.is_dir():
            for path in _files_under(item, skip):
                rel = path.relative_to(item)
                if is_system_file(rel):
                    if ignored is not None:
                        ignored.append(_shown(rel.as_posix()))
                    continue
                # a folder that cannot be opened is a row of its own, named with a final '/'
                shown = (rel.as_posix() if rel.parts else item.name) + ("/" if path.is_dir() else "")
                found.setdefault(_identity(path), (path, _shown(shown), _shown(f"{item.resolve().name}/{shown}")))
        else:
            found.setdefault(_identity(item), (item, _shown(item.name),
                                               _shown(f"{item.resolve().parent.name}/{item.name}")))
    # the same name in two input folders (2023/report.docx, 2024/report.docx): the folder is kept in it, and
    # where that still leaves two files one name, the whole path
    entries = [(path, [name, longer]) for path, name, longer in found.values()]
    for level in (1, 2):
        taken: dict[str, int] = {}
        for _, names in entries:
            taken[names[0]] = taken.get(names[0], 0) + 1
        for path, names in entries:
            if taken[names[0]] > 1:
                names[0] = names[1] if level == 1 else _shown(path.absolute().as_posix())
    return sorted((InputFile(path, names[0]) for path, names in entries), key=lambda f: f.name)


def _files_under(folder: Path, skip: Path | None = None) -> list[Path]:
    """The files under `folder`, in name order, following linked sub-folders (each folder once, so a link loop
    ends; at each level real folders are searched before links, so a file is named by its real folder where it
    can be). A link to a file that is gone, and a folder that cannot be opened, are kept: each ends as an error
    row that names it, not silently dropped. `skip`: a sub-folder not searched."""
    found: list[Path] = []
    seen = {os.path.realpath(skip)} if skip is not None else set()
    closed: list[Path] = []
    for root, dirs, names in os.walk(folder, followlinks=True, onerror=lambda err: closed.append(Path(err.filename))):
        real = os.path.realpath(root)
        if real in seen and root != str(folder):
            dirs[:] = []
            continue
        seen.add(real)
        dirs.sort(key=lambda d: (os.path.islink(os.path.join(root, d)), d))
        for name in names:
            path = Path(root) / name
            if path.is_file() or (path.is_symlink() and not path.exists()):
                found.append(path)
    return sorted(found + [p for p in closed if p.is_dir()])


def _shown(name: str) -> str:
    """A file name as text: each part of a path whose bytes are not UTF-8 (an old Windows archive unpacked here) is
    read as Windows-1252 ('d\xe9cembre' -> 'décembre'), a byte it does not define written as '\\x81', so the
    tables can hold the name and two names stay two."""
    parts = name.split("/")
    for i, part in enumerate(parts):
        try:
            part.encode("utf-8")
        except UnicodeEncodeError:
            parts[i] = os.fsencode(part).decode("cp1252", errors="backslashreplace")
    return "/".join(parts)


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
