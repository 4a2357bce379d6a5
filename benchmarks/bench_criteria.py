"""Speed of criteria scoring: the sample corpus, and the sample corpus replicated to 1,000 practices.

Prints and writes benchmarks/results/bench_criteria.json and .md.

    .venv/bin/python benchmarks/bench_criteria.py [--n 1000]

Measured:
- model loading (spaCy French and English pipelines, once per process; the embedder);
- the criteria stage over the 52 sample practices with a cold embedder (no disk cache): every sentence embedded;
- lexical and structural cues only (embedder=None) over N practices;
- the full scorer over N practices; the copies repeat the same sentences, so after the first 52 the
  embeddings come from the embedder's in-memory cache (as in a re-run with the disk cache).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.config import DEFAULT_INPUT, Settings  # noqa: E402
from pipeline.criteria import CriteriaScorer, criteria_stage, guidelines_stage, load_nlp  # noqa: E402
from pipeline.embed import make_embedder  # noqa: E402
from pipeline.run import run_batch  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def sample_practices():
    with tempfile.TemporaryDirectory() as tmp:
        return run_batch([DEFAULT_INPUT], Path(tmp), analyse=False).practices


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args()

    practices = sample_practices()
    copies = [replace(practices[i % len(practices)], practice_id=f"copy-{i}") for i in range(args.n)]
    words = sum(len(p.full_text().split()) for p in copies)
    out: dict = {"sample_practices": len(practices), "n": args.n, "words": words}

    t0 = time.perf_counter()
    load_nlp("fr")
    load_nlp("en")
    out["load_spacy_s"] = round(time.perf_counter() - t0, 2)

    t0 = time.perf_counter()
    embedder = make_embedder("use-multilingual", None, threads=2)
    embedder.encode(["warm up"])
    out["load_embedder_s"] = round(time.perf_counter() - t0, 2)

    t0 = time.perf_counter()
    rows = criteria_stage(practices, Settings(), embedder)
    out["stage_sample_cold_s"] = round(time.perf_counter() - t0, 2)
    out["stage_sample_rows"] = len(rows)
    t0 = time.perf_counter()
    guidelines_stage(practices)
    out["guidelines_sample_s"] = round(time.perf_counter() - t0, 2)

    t0 = time.perf_counter()
    CriteriaScorer(embedder=None).score(copies)
    dt = time.perf_counter() - t0
    out["cues_only_s"] = round(dt, 2)
    out["cues_only_practices_per_s"] = round(args.n / dt, 1)
    out["cues_only_words_per_s"] = round(words / dt)

    t0 = time.perf_counter()
    CriteriaScorer(embedder=embedder).score(copies)
    dt = time.perf_counter() - t0
    out["full_cached_s"] = round(dt, 2)
    out["full_cached_practices_per_s"] = round(args.n / dt, 1)
    out["full_cold_practices_per_s_estimate"] = round(len(practices) / out["stage_sample_cold_s"], 1)
    out["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    out["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)  # other jobs on the machine slow every figure

    table = "\n".join([
        "| measure | value |", "|---|---|",
        f"| load spaCy (fr + en), once | {out['load_spacy_s']} s |",
        f"| load USE multilingual | {out['load_embedder_s']} s |",
        f"| criteria stage, {len(practices)} sample practices, cold embedder | {out['stage_sample_cold_s']} s "
        f"({out['full_cold_practices_per_s_estimate']} practices/s) |",
        f"| guideline checks, {len(practices)} practices | {out['guidelines_sample_s']} s |",
        f"| lexical + structural cues, {args.n} practices | {out['cues_only_s']} s ({out['cues_only_practices_per_s']} practices/s, {out['cues_only_words_per_s']} words/s) |",
        f"| full scorer, {args.n} practices, repeated sentences cached | {out['full_cached_s']} s ({out['full_cached_practices_per_s']} practices/s) |",
        f"| peak RSS | {out['max_rss_mb']} MB |",
        f"| machine load average at the end (2 cores) | {out['load_average_1min_at_end']} |",
    ]) + "\n"
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench_criteria.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    (RESULTS / "bench_criteria.md").write_text(table, encoding="utf-8")


if __name__ == "__main__":
    main()
