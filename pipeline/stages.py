"""The analysis stages run after segmentation: action areas, similar practices, criteria.

Each stage takes the practices (and the shared embedder) and returns the rows of its table;
the area stage also fills predicted_areas, main_area_pred and area_mismatch on the practices.
"""

from __future__ import annotations

import time
from pathlib import Path

from pipeline.config import Settings
from pipeline.embed import make_embedder
from pipeline.records import Practice


def run_stages(practices: list[Practice], settings: Settings, out_dir: Path, timings: dict) -> tuple[dict, dict]:
    """Rows of the analysis tables and the ids of the models used."""
    t0 = time.perf_counter()
    embedder = make_embedder(settings.embedder, Path(out_dir) / ".cache" / "embeddings", settings.threads)
    embedder.fit([p.full_text() for p in practices])
    timings["load_embedder"] = time.perf_counter() - t0
    tables: dict[str, list[dict]] = {}
    models = {"embedder": embedder.model_id}

    from pipeline.classify import area_stage

    t0 = time.perf_counter()
    tables["areas"], models["area_classifier"] = area_stage(practices, settings, embedder)
    timings["areas"] = time.perf_counter() - t0

    from pipeline.similar import similar_stage

    t0 = time.perf_counter()
    tables["similar"] = similar_stage(practices, settings, embedder)
    timings["similar"] = time.perf_counter() - t0

    from pipeline.criteria import criteria_stage

    t0 = time.perf_counter()
    tables["criteria"] = criteria_stage(practices, settings, embedder)
    timings["criteria"] = time.perf_counter() - t0
    timings["embedding_cache_hits"] = embedder.hits
    timings["embedding_cache_misses"] = embedder.misses
    return tables, models
