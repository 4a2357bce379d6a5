"""One loaded run: its tables by practice, its search index and the vectors the check compares against.

`catalogue_store(...).current()` hands out the loaded run and, when the tables on disk have changed since (a new
`icc-practices run` into the same folder), loads them again and rebuilds the index; requests that arrive during
the rebuild keep using the previous run.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.config import Settings, with_run_similar_settings
from pipeline.embed import CachedEmbedder
from pipeline.records import Practice
from pipeline.report.redact import Redactor, contacts_of
from pipeline.taxonomy import load_taxonomy
from pipeline.web.meaning import MeaningIndex
from pipeline.web.neighbours import CorpusVectors
from pipeline.web.reloading import ReloadingStore
from pipeline.web.search import IndexedPractice, SearchIndex, TermExpander

log = logging.getLogger(__name__)

TABLES = ("practices", "areas", "similar", "criteria", "guidelines")
WATCHED = (*(f"{name}.parquet" for name in TABLES), "manifest.json")


@dataclass
class Catalogue:
    """A run's tables grouped by practice id (rows are plain Python values), with its index and vectors."""

    data_dir: Path
    signature: tuple
    practices: dict[str, dict] = field(default_factory=dict)
    areas: dict[str, list[dict]] = field(default_factory=dict)
    criteria: dict[str, list[dict]] = field(default_factory=dict)
    guidelines: dict[str, list[dict]] = field(default_factory=dict)
    similar: dict[str, list[dict]] = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)
    versions: dict[str, set[str]] = field(default_factory=dict)  # id -> its other versions (rank-0 rows)
    index: SearchIndex | None = None
    vectors: CorpusVectors | None = None
    # leaves out e-mails, phones and the name of every contact of the run: a translation whose contact reads "see
    # French version" names its contact in its text (as the city reports do)
    redact: Redactor = field(default_factory=lambda: Redactor(()))

    @property
    def loaded(self) -> bool:
        return bool(self.signature) and (Path(self.data_dir) / "practices.parquet").exists()

    def practice_objects(self) -> list[Practice]:
        return [Practice.from_dict(row) for row in self.practices.values()]


def tables_signature(data_dir: Path) -> tuple:
    """What changes when a run rewrites its tables (they are replaced atomically, so the times change)."""
    out = []
    for name in WATCHED:
        try:
            stat = (Path(data_dir) / name).stat()
            out.append((name, stat.st_mtime_ns, stat.st_size))
        except OSError:
            out.append((name, None, None))
    return tuple(out)


def _rows(data_dir: Path, name: str) -> list[dict]:
    path = Path(data_dir) / f"{name}.parquet"
    return pq.read_table(path).to_pylist() if path.exists() else []


def _by_practice(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in rows:
        out.setdefault(row["practice_id"], []).append(row)
    return out


def versions_of(similar: dict[str, list[dict]]) -> dict[str, set[str]]:
    """Practice id -> its other versions: rank-0 rows of similar.parquet (translations and resubmissions)."""
    out: dict[str, set[str]] = {}
    for pid, rows in similar.items():
        for row in rows:
            if row.get("rank") == 0:
                out.setdefault(pid, set()).add(row["neighbour_id"])
                out.setdefault(row["neighbour_id"], set()).add(pid)
    return out


def load_catalogue(data_dir: Path, embedder, cache_dir: Path | None = None,
                   settings: Settings | None = None, search: bool = True) -> Catalogue:
    """Read a run's tables, build the search index and embed the practices for the check's comparison.

    `cache_dir` is the run's embedding cache: vectors the run already computed are read from it, not computed.
    `search=False`: no search index (a check worker compares forms with the run and searches nothing).
    """
    data_dir = Path(data_dir)
    signature = tables_signature(data_dir)
    catalogue = Catalogue(data_dir, signature)
    if not (data_dir / "practices.parquet").exists():
        return catalogue
    catalogue.practices = {row["practice_id"]: row for row in _rows(data_dir, "practices")}
    catalogue.areas = _by_practice(_rows(data_dir, "areas"))
    catalogue.criteria = _by_practice(_rows(data_dir, "criteria"))
    catalogue.guidelines = _by_practice(_rows(data_dir, "guidelines"))
    catalogue.similar = {pid: sorted(rows, key=lambda r: r["rank"])
                         for pid, rows in _by_practice(_rows(data_dir, "similar")).items()}
    catalogue.versions = versions_of(catalogue.similar)
    try:
        catalogue.manifest = json.loads((data_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        catalogue.manifest = {}
    taxonomy, year = load_taxonomy(), date.today().year
    levels = {pid: {r["criterion"]: r["level"] for r in rows} for pid, rows in catalogue.criteria.items()}
    catalogue.redact = Redactor(c for row in catalogue.practices.values() for c in contacts_of(row))
    for row in catalogue.practices.values():  # the title and objective every page, answer and search shows
        for name in ("title", "main_objective"):
            row[name] = catalogue.redact(row.get(name))
    # the check compares a form as the run compared its practices: with the run's similar settings
    recorded = catalogue.manifest.get("settings") if isinstance(catalogue.manifest, dict) else None
    run_settings = with_run_similar_settings(settings or Settings(), recorded)
    catalogue.vectors = _corpus_vectors(catalogue.practice_objects(), embedder, cache_dir, run_settings)
    if not search:
        return catalogue
    catalogue.index = SearchIndex(
        [IndexedPractice.from_row(row, levels.get(pid, {}), taxonomy, year, catalogue.redact)
         for pid, row in catalogue.practices.items()],
        TermExpander(),
        _meaning_index(catalogue, embedder, cache_dir, settings or Settings()),
    )
    return catalogue


def _meaning_index(catalogue: Catalogue, embedder, cache_dir: Path | None, settings: Settings) -> MeaningIndex | None:
    """The practices' passages as the site shows them (contacts left out), embedded through the run's cache: a
    passage with nothing left out is read from it, not embedded again."""
    if not settings.search.meaning or embedder is None:
        return None
    shown = [replace(p, **{name: catalogue.redact(getattr(p, name)) for name in ("description", "main_objective")})
             for p in catalogue.practice_objects()]  # titles are cleaned in the rows already
    inner = getattr(embedder, "inner", embedder)
    if cache_dir is not None and cache_dir.is_dir():
        try:
            return MeaningIndex.build(shown, CachedEmbedder(inner, cache_dir), settings.search,
                                      settings.similar.chunk_sentences)
        except OSError as exc:  # a read-only output folder: compute without the cache
            log.warning("embedding cache in %s not usable (%s); embedding the practices for search", cache_dir, exc)
    return MeaningIndex.build(shown, inner, settings.search, settings.similar.chunk_sentences)


def _corpus_vectors(practices: list[Practice], embedder, cache_dir: Path | None, settings: Settings) -> CorpusVectors:
    inner = getattr(embedder, "inner", embedder)
    if cache_dir is not None and cache_dir.is_dir():
        try:
            return CorpusVectors.build(practices, CachedEmbedder(inner, cache_dir), settings)
        except OSError as exc:  # a read-only output folder: compute without the cache
            log.warning("embedding cache in %s not usable (%s); embedding the run's practices again", cache_dir, exc)
    return CorpusVectors.build(practices, inner, settings)


def catalogue_store(data_dir: Path, embedder, settings: Settings | None = None,
                    check_seconds: float = 2.0, search: bool = True) -> ReloadingStore[Catalogue]:
    """The run in `data_dir`, loaded again when its tables change."""
    data_dir = Path(data_dir)
    return ReloadingStore(lambda: load_catalogue(data_dir, embedder, data_dir / ".cache" / "embeddings", settings,
                                                 search),
                          lambda: tables_signature(data_dir), check_seconds, what=f"run in {data_dir}")
