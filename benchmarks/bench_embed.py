"""Practices embedded per second per backend, on this machine (2 threads), with a cold cache.

Each backend embeds the 52 sample practices the way similar_stage does (every sentence of title,
objective and sections; pipeline.similar.embed_practices). Model loading is timed apart.

    .venv/bin/python benchmarks/bench_embed.py [--backends use-multilingual,sentence-transformers:minilm,tfidf]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.embed import make_embedder  # noqa: E402
from pipeline.similar import embed_practices  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
BACKENDS = ("use-multilingual", "sentence-transformers:minilm", "tfidf")


def main() -> None:
    from pipeline.run import run_batch

    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", default=",".join(BACKENDS))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        practices = run_batch([ROOT / "data" / "raw"], Path(tmp), analyse=False).practices
    words = sum(p.n_words for p in practices)
    results = {"practices": len(practices), "words": words, "backends": {}}
    for spec in args.backends.split(","):
        t0 = time.perf_counter()
        embedder = make_embedder(spec, cache_dir=None)
        embedder.fit([p.full_text() for p in practices])
        if spec.startswith("use"):
            embedder.encode(["warm-up"])  # USE loads its weights on the first call
        load = time.perf_counter() - t0
        t0 = time.perf_counter()
        embed_practices(practices, embedder)
        elapsed = time.perf_counter() - t0
        row = {"model_id": embedder.model_id, "dim": embedder.dim, "load_s": round(load, 2),
               "embed_s": round(elapsed, 2), "practices_per_s": round(len(practices) / elapsed, 2),
               "sentences": embedder.misses, "words_per_s": round(words / elapsed),
               "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
        results["backends"][spec] = row
        print(spec, row, flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "embed.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    lines = [f"Embedding the {results['practices']} sample practices ({words:,} words) as the similar stage does "
             "(whole text, sentences, sections), "
             "cold cache, 2 threads. RSS is the process peak so far (backends run in this order).", "",
             "| backend | dim | load | embed | practices/s | words/s | peak RSS |", "|---|---|---|---|---|---|---|"]
    for spec, r in results["backends"].items():
        lines.append(f"| {spec} | {r['dim']} | {r['load_s']} s | {r['embed_s']} s | {r['practices_per_s']} | "
                     f"{r['words_per_s']:,} | {r['max_rss_mb']} MB |")
    (RESULTS / "embed.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
