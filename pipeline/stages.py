"""The analysis stages run after segmentation: action areas, similar practices, criteria.

Each stage takes the practices (and the shared embedder) and returns the rows of its table; the area stage
also returns the area columns of practices.parquet (predicted_areas, main_area_pred, area_mismatch).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pipeline.criteria as criteria_module
from pipeline import hint_gaps, ordinal, segment
from pipeline.classify import area_stage, harmonise_versions, with_suggested_as_listed
from pipeline.config import CRITERIA_FILE, LABELS_FILE, Settings, offline_hub
from pipeline.criteria import criteria_with_guidelines
from pipeline.embed import make_embedder
from pipeline.memory import peak_rss_mb, release_memory
from pipeline.records import SECTION_FIELDS, Practice
from pipeline.registry import registry
from pipeline.similar import same_practice_pairs, similar_stage, version_keys
from pipeline.tables import to_table, write_json

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass
class StageResults:
    # areas, similar, criteria, guidelines as Arrow tables: each stage's rows are converted as soon as it ends,
    # so the row dictionaries of one stage are not kept through the next.
    tables: dict[str, "pa.Table"] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)  # ids of the models used
    counts: dict[str, int] = field(default_factory=dict)  # embedding-cache hits and misses
    errors: dict[str, str] = field(default_factory=dict)  # stage -> why it failed
    practice_columns: dict[str, dict] = field(default_factory=dict)  # practice id -> area columns of practices.parquet


_CRITERIA_BATCH = 256  # practices analysed at once by the criteria stage


def run_stages(practices: list[Practice], settings: Settings, out_dir: Path, timings: dict,
               memory: dict | None = None) -> StageResults:
    """Rows of the analysis tables, the models used, cache counts, and the stages that failed (if any).
    `memory` receives the process's memory high-water mark at the end of each stage."""
    memory = {} if memory is None else memory
    t0 = time.perf_counter()
    offline_hub()  # the models are local: a Hub look-up would only hang without a network
    embedder = make_embedder(settings.embedder, Path(out_dir) / ".cache" / "embeddings", settings.threads)
    embedder.fit([p.full_text() for p in practices])
    timings["load_embedder"] = time.perf_counter() - t0
    result = StageResults(models={"embedder": embedder.model_id})
    tables, models, errors = result.tables, result.models, result.errors

    def guarded(name: str, stage):
        # A failing stage must not cost the batch its other tables: record why and go on.
        t0 = time.perf_counter()
        try:
            return stage()
        except Exception as exc:  # noqa: BLE001
            errors[name] = f"{type(exc).__name__}: {exc}"
            return None
        finally:
            timings[name] = time.perf_counter() - t0
            memory[name] = peak_rss_mb()
            release_memory()

    areas = guarded("areas", lambda: area_stage(practices, settings, embedder))
    suggestions = []
    if areas is not None:
        tables["areas"], suggestions, models["area_classifier"] = areas
    del areas
    similar = guarded("similar", lambda: similar_stage(practices, settings, embedder))
    if similar is not None:
        if suggestions and settings.areas.versions_share_main:
            keys = version_keys([p.practice_id for p in practices], same_practice_pairs(similar))
            suggestions = harmonise_versions(suggestions, practices, keys, settings)
            tables["areas"] = with_suggested_as_listed(tables["areas"], suggestions)
        tables["similar"] = to_table("similar", similar)
    del similar
    result.practice_columns = {s.practice_id: {"predicted_areas": s.predicted_areas, "main_area_pred": s.main_area_pred,
                                               "area_mismatch": s.area_mismatch} for s in suggestions}
    del suggestions
    criteria = guarded("criteria", lambda: _criteria_cached(practices, settings, embedder,
                                                            Path(out_dir) / ".cache" / "criteria"))
    if criteria is not None:
        tables["criteria"], tables["guidelines"], models["criteria"], models["hint_gaps"] = criteria
    del criteria
    # Nothing after the criteria stage reads text with spaCy: its pipelines (about 120 MB) leave before reports.
    registry.clear("cue_matcher")
    registry.clear("spacy")
    release_memory()
    result.counts = {"embedding_cache_hits": embedder.hits, "embedding_cache_misses": embedder.misses}
    return result


def _read_entry(path: Path) -> dict | None:
    """A practice's cached criteria and guideline rows, or None when absent or unreadable (then recomputed)."""
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(entry, dict) and all(isinstance(entry.get(k), list) for k in ("criteria", "guidelines"))
    return entry if ok else None


def model_fallbacks(models: dict[str, str]) -> dict[str, str]:
    """Stages that ran without their trained model, and why: the run prints them and the summary shows them."""
    notes = {}
    area = models.get("area_classifier", "")
    if "zero-shot" in area:
        why = area.split("(", 1)[1].rstrip(")") if "(" in area else "no trained model"
        notes["areas"] = f"the trained area model was not used ({why}); areas come from the zero-shot classifier"
    criteria = models.get("criteria", "")
    if criteria.startswith("criteria:rules"):
        why = criteria.split("(", 1)[1].rstrip(")") if "(" in criteria else "no learned model"
        notes["criteria"] = f"the learned criteria model was not used ({why}); levels come from the hand-set cut points"
    return notes


def _stored(name: str, row: dict, practice_id: str) -> dict:
    """A row of the criteria or guidelines table with its practice's id; no hint is null, as every missing text
    of the tables is (the scorer and cached entries give '')."""
    out = {**row, "practice_id": practice_id}
    if name == "criteria" and not out.get("hint"):
        out["hint"] = None
    return out


def _criteria_cached(practices: list[Practice], settings: Settings, embedder, cache_dir: Path):
    """The criteria and guidelines tables, with each practice's rows re-used while its text, the cues and the
    scorer are unchanged.

    Scoring is per practice, so only new or changed practices are analysed (and spaCy is not even loaded
    when nothing changed).
    """
    scorer = criteria_module.scorer_for(settings, embedder)
    tag = hashlib.sha256(
        # the scorer's code (with the prediction halves of its models, and the template labels that end a
        # sentence), its cues, its models and its settings
        b"".join(Path(module.__file__).read_bytes() for module in (criteria_module, hint_gaps, ordinal, segment))
        + CRITERIA_FILE.read_bytes() + LABELS_FILE.read_bytes() + embedder.model_id.encode()
        + scorer.model_id.encode() + scorer.gap_model_id.encode()
        + json.dumps(settings.record()["criteria"], sort_keys=True).encode()
    ).hexdigest()[:16]
    # Everything the analysis reads of a practice, and not its id: practices with the same text (a form sent
    # again, the same practice filed for another city) are analysed once and their rows given each one's id.
    fields = ("lang", "title", "main_objective", "description", "n_words", *SECTION_FIELDS)

    def content_key(practice: Practice) -> str:
        return hashlib.sha256(json.dumps([tag, *(getattr(practice, f) for f in fields)]).encode()).hexdigest()[:32]

    tables: dict[str, list] = {"criteria": [], "guidelines": []}
    # In batches, in the practices' order: a batch's rows are read from the cache or computed, then become a
    # table, so one batch of rows (and of sentence analyses) is in memory at a time.
    for start in range(0, len(practices), _CRITERIA_BATCH):
        batch = practices[start:start + _CRITERIA_BATCH]
        keys = [content_key(p) for p in batch]
        entries: dict[str, dict] = {}
        for key in dict.fromkeys(keys):
            if (entry := _read_entry(cache_dir / f"{key}.json")) is not None:
                entries[key] = entry
        todo: dict[str, Practice] = {}
        for practice, key in zip(batch, keys):
            if key not in entries:
                todo.setdefault(key, practice)
        if todo:
            criteria_rows, guideline_rows = criteria_with_guidelines(list(todo.values()), settings, embedder, scorer)
            key_of = {p.practice_id: key for key, p in todo.items()}
            for key in todo:
                entries[key] = {"criteria": [], "guidelines": []}
            for name, rows in (("criteria", criteria_rows), ("guidelines", guideline_rows)):
                for row in rows:
                    entries[key_of[row["practice_id"]]][name].append(row)
            for key in todo:
                write_json(cache_dir / f"{key}.json", entries[key])
            del criteria_rows, guideline_rows
        for name in tables:
            tables[name].append(to_table(name, [_stored(name, row, p.practice_id)
                                                for p, key in zip(batch, keys) for row in entries[key][name]]))
        del entries
    import pyarrow as pa

    return (
        pa.concat_tables(tables["criteria"]) if tables["criteria"] else to_table("criteria", []),
        pa.concat_tables(tables["guidelines"]) if tables["guidelines"] else to_table("guidelines", []),
        scorer.model_id,
        scorer.gap_model_id,
    )
