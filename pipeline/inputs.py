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

# The lock file a run holds in its output folder (see run._one_run_at_a_time).
RUN_LOCK = ".run.lock"
# What a run writes into its output folder, and the commands that work in it (export, serve, evaluate), beside its
# lock and its .cache: never submissions.
RUN_OUTPUTS = frozenset({
    "manifest.json", "files.parquet", "practices.parquet", "areas.parquet", "similar.parquet", "criteria.parquet",
    "guidelines.parquet", "reviews.parquet", "reviews.sqlite", "reviews.sqlite-wal", "reviews.sqlite-shm",
    "reviews.sqlite.key", "area_evaluation.md", "area_evaluation.json", "review_agreement.md",
    "review_agreement.json", "reports",
})


@dataclass
class InputFile:
    path: Path
    name: str  # shown in tables: path relative to the input folder
    same_as: str | None = None  # a link to a file the batch reads under this other name: not read twice


def is_system_file(relative: Path) -> bool:
    """Lock, hidden and thumbnail files that operating systems and Word leave next to submissions."""
    name = relative.name.lower()
    return (any(part.startswith(_IGNORED_PREFIXES) for part in relative.parts) or name in _IGNORED_NAMES
            or (name.startswith("~") and name.endswith(".tmp")))  # Word's temporary copies (~WRL0001.tmp)


def is_run_output_folder(names: Iterable[str]) -> bool:
    """Whether a folder holding these names is one a run wrote into: its lock (every run since runs were locked),
    or its manifest beside its files table."""
    names = set(names)
    return RUN_LOCK in names or {"manifest.json", "files.parquet"} <= names


def discover(inputs: Iterable[Path], ignored: list[str] | None = None, skip: Path | None = None,
             run_outputs: list[str] | None = None) -> list[InputFile]:
    """Input files in a stable order; folders are searched recursively. System files and hidden folders found in
    folders are skipped and, when `ignored` is given, their names are appended to it (a hidden folder once, with a
    final '/'). The folder `skip` (the run's own output folder, when it lies inside an input folder) is not
    searched. In a folder an earlier run wrote into, what the run wrote is not read: when `run_outputs` is given,
    the folder is appended to it once ('results-2024/'). A file reached twice (a folder and a file in it) counts
    once; two different files that would show the same name are told apart by their folders. A link to a file the
    batch reads under another name is kept, with `same_as` naming that file, so it is a row of its own."""
    # each name in a folder (its real folder and its name) -> (path as given, name, name with its folder)
    found: dict[tuple[str, str], tuple[Path, str, str]] = {}
    for item in inputs:
        item = Path(item)
        if item.is_dir():
            for path in _files_under(item, skip, ignored, run_outputs):
                rel = path.relative_to(item)
                # a folder that cannot be opened is a row of its own, named with a final '/'
                shown = (rel.as_posix() if rel.parts else item.name) + ("/" if path.is_dir() else "")
                found.setdefault(_entry(path), (path, _shown(shown), _shown(f"{item.resolve().name}/{shown}")))
        else:
            found.setdefault(_entry(item), (item, _shown(item.name),
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
    files = sorted((InputFile(path, names[0]) for path, names in entries), key=lambda f: f.name)
    # one file under several names (a link beside it): read under its own name, not a link's where it has one
    by_file: dict[Path, list[InputFile]] = {}
    for f in files:
        by_file.setdefault(_identity(f.path), []).append(f)
    for names in by_file.values():
        read = min(names, key=lambda f: f.path.is_symlink())
        for f in names:
            if f is not read:
                f.same_as = read.name
    return files


def _files_under(folder: Path, skip: Path | None = None, ignored: list[str] | None = None,
                 run_outputs: list[str] | None = None) -> list[Path]:
    """The files under `folder`, in name order, following linked sub-folders (each folder once, so a link loop
    ends; at each level real folders are searched before links, so a file is named by its real folder where it
    can be). A link to a file that is gone, and a folder that cannot be opened, are kept: each ends as an error
    row that names it, not silently dropped. `skip`: a sub-folder not searched. System files and hidden folders
    are left out and listed in `ignored`; what a run wrote is left out and its folder listed in `run_outputs`."""
    found: list[Path] = []
    seen = {os.path.realpath(skip)} if skip is not None else set()
    closed: list[Path] = []
    for root, dirs, names in os.walk(folder, followlinks=True, onerror=lambda err: closed.append(Path(err.filename))):
        real = os.path.realpath(root)
        if real in seen and root != str(folder):
            dirs[:] = []
            continue
        seen.add(real)
        rel = Path(root).relative_to(folder)
        if is_run_output_folder(names):
            # its tables, reports, lock and cache, listed once as the folder; anything else put there is read
            if run_outputs is not None:
                run_outputs.append(_shown((rel.as_posix() if rel.parts else Path(folder).name) + "/"))
            dirs[:] = [d for d in dirs if d not in RUN_OUTPUTS and not is_system_file(Path(d))]
            names = [n for n in names if n not in RUN_OUTPUTS and not is_system_file(Path(n))]
        hidden = [d for d in dirs if is_system_file(Path(d))]
        if ignored is not None:
            ignored.extend(_shown((rel / d).as_posix() + "/") for d in hidden)
        dirs[:] = sorted((d for d in dirs if d not in hidden), key=lambda d: (os.path.islink(os.path.join(root, d)), d))
        for name in names:
            path = Path(root) / name
            if is_system_file(Path(name)):
                if ignored is not None:
                    ignored.append(_shown((rel / name).as_posix()))
            elif path.is_file() or (path.is_symlink() and not path.exists()):
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


def _entry(path: Path) -> tuple[str, str]:
    """A name in a folder, whichever way the folder was reached (a linked folder, a relative path)."""
    return os.path.realpath(path.parent), path.name


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
