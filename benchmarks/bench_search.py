"""Top-k search time at 1,000 / 10,000 / 100,000 practices (synthetic 512-d unit vectors).

Exact search is what similar_stage uses (numpy matrix products in blocks, pipeline.similar.top_k_exact).
When faiss (faiss-cpu) is installed, an HNSW index is measured beside it: build time, query time and
recall@k against the exact answer, to show where an approximate index would start to pay.
Two workloads: one query (a city looks up one practice) and all-vs-all (a batch run: every practice's
neighbours). The 100k all-vs-all exact time is measured on 2,000 queries and scaled up.

    .venv/bin/python benchmarks/bench_search.py [--sizes 1000,10000,100000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.similar import top_k_exact  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
DIM, K, SEED = 512, 10, 13
CITIES = 160  # about the size of the Intercultural Cities network


def synthetic(n: int, rng: np.random.Generator) -> np.ndarray:
    """Clustered unit vectors (practices come in themes), closer to real embeddings than pure noise."""
    centres = rng.normal(size=(max(n // 50, 4), DIM)).astype(np.float32)
    vectors = centres[rng.integers(0, len(centres), n)] + 0.9 * rng.normal(size=(n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def bench_exact(base: np.ndarray, rng: np.random.Generator) -> dict:
    n = len(base)
    groups = rng.integers(0, CITIES, n)  # same-city practices are excluded, as in similar_stage
    picks = rng.integers(0, n, 50)
    t0 = time.perf_counter()
    for q in picks:
        top_k_exact(base[q][None, :], base, K, query_groups=groups[q:q + 1], base_groups=groups)
    single_ms = (time.perf_counter() - t0) / len(picks) * 1000
    sample = min(n, 2000)
    t0 = time.perf_counter()
    top_k_exact(base[:sample], base, K, query_groups=groups[:sample], base_groups=groups)
    elapsed = time.perf_counter() - t0
    return {"query_ms": round(single_ms, 3), "all_vs_all_s": round(elapsed * n / sample, 2),
            "all_vs_all_measured_on": sample}


def bench_hnsw(base: np.ndarray, rng: np.random.Generator) -> dict | None:
    try:
        import faiss
    except ImportError:
        return None
    faiss.omp_set_num_threads(2)
    n = len(base)
    t0 = time.perf_counter()
    index = faiss.IndexHNSWFlat(DIM, 32, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 80
    index.add(base)
    build = time.perf_counter() - t0
    index.hnsw.efSearch = 64
    picks = rng.integers(0, n, 200)
    queries = base[picks]
    t0 = time.perf_counter()
    for q in queries[:50]:
        index.search(q[None, :], K)
    single_ms = (time.perf_counter() - t0) / 50 * 1000
    sample = min(n, 2000)
    t0 = time.perf_counter()
    _, approx = index.search(base[:sample], K)
    batch = (time.perf_counter() - t0) * n / sample
    exact, _ = top_k_exact(queries, base, K)
    _, found = index.search(queries, K)
    recall = np.mean([len(set(a) & set(b)) / K for a, b in zip(exact, found)])
    return {"build_s": round(build, 2), "query_ms": round(single_ms, 3), "all_vs_all_s": round(batch, 2),
            f"recall_at_{K}": round(float(recall), 4), "faiss": faiss.__version__}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    results = {"dim": DIM, "k": K, "threads": 2, "sizes": {}}
    for n in (int(x) for x in args.sizes.split(",")):
        base = synthetic(n, rng)
        row = {"exact": bench_exact(base, rng), "hnsw": bench_hnsw(base, rng)}
        results["sizes"][str(n)] = row
        print(n, row, flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "search.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    lines = [f"Top-{K} search, {DIM}-d unit vectors, 2 threads, exact search excluding same-city practices "
             f"({CITIES} cities); HNSW without that filter. all-vs-all = every practice's neighbours "
             "(a batch run); 100k exact all-vs-all scaled from 2,000 queries.", "",
             "| practices | exact: 1 query | exact: all-vs-all | HNSW build | HNSW: 1 query | HNSW: all-vs-all | HNSW recall@10 |",
             "|---|---|---|---|---|---|---|"]
    for n, row in results["sizes"].items():
        e, h = row["exact"], row["hnsw"]
        hn = (f"{h['build_s']} s | {h['query_ms']} ms | {h['all_vs_all_s']} s | {h[f'recall_at_{K}']:.3f}"
              if h else "- | - | - | -")
        lines.append(f"| {int(n):,} | {e['query_ms']} ms | {e['all_vs_all_s']} s | {hn} |")
    (RESULTS / "search.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
