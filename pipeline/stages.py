"""The analysis stages run after segmentation: action areas, similar practices, criteria.

Each stage takes the practices (and the shared embedder) and returns the rows of its table;
the area stage also fills predicted_areas, main_area_pred and area_mismatch on the practices.
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path

from pipeline.config import Settings
from pipeline.embed import make_embedder
from pipeline.records import Practice


def run_stages(practices: list[Practice], settings: Settings, out_dir: Path, timings: dict) -> tuple[dict, dict, dict]:
    """Rows of the analysis tables, the ids of the models used, and embedding-cache counts."""
    t0 = time.perf_counter()
    embedder = make_embedder(settings.embedder, Path(out_dir) / ".cache" / "embeddings", settings.threads)
    embedder.fit([p.full_text() for p in practices])
    timings["load_embedder"] = time.perf_counter() - t0
    tables: dict[str, list[dict]] = {}
    models = {"embedder": embedder.model_id}

    stage = _stage("pipeline.classify", "area_stage")
    if stage is not None:
        t0 = time.perf_counter()
        tables["areas"], models["area_classifier"] = stage(practices, settings, embedder)
        timings["areas"] = time.perf_counter() - t0

    for name, module in (("similar", "pipeline.similar"), ("criteria", "pipeline.criteria")):
        stage = _stage(module, f"{name}_stage")
        if stage is not None:
            t0 = time.perf_counter()
            tables[name] = stage(practices, settings, embedder)
            timings[name] = time.perf_counter() - t0
    stage = _stage("pipeline.criteria", "guidelines_stage")
    if stage is not None:
        tables["guidelines"] = stage(practices)
    cache = {"embedding_cache_hits": embedder.hits, "embedding_cache_misses": embedder.misses}
    return tables, models, cache


def _stage(module: str, function: str):
    try:
        return getattr(importlib.import_module(module), function)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        return None
