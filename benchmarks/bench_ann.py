"""Approximate neighbour search at 100,000 practices: recall against exact search, build and query time, memory.

The similar stage finds candidates by exact search (pipeline.similar.top_k_exact), which costs n^2 for a whole
batch. This measures what an approximate index (faiss: HNSW, and IVF-PQ with and without exact re-ranking)
would give instead, on 512-d vectors of the multilingual Universal Sentence Encoder, the project's embedder.

Vectors: real practice texts (the 52 sample sources of data/sources/practices and the 176 texts of
data/eval/realistic) are embedded with pipeline.embed.make_embedder("use-multilingual"): one vector per whole
text and one per sentence. Each synthetic practice is a noisy mixture around one real text: its whole-text
vector (weight 1 plus a Dirichlet share), two to six of its sentences and up to two sentences of other texts
(Dirichlet shares), plus noise made of centred sentence vectors (norm 0.3-0.7 of the mixture's), normalised. So the 100,000 vectors cluster by theme as the real ones do, and near
neighbours are hard to tell apart (about 440 synthetic practices per real text). The cosine statistics of
the real and synthetic vectors are written beside the results, to judge the construction.

Queries are 1,000 further vectors built the same way (not in the index); the truth is the exact top-10 by
inner product. recall@10 = share of the exact top 10 found in the index's top 10; recall 10@40 = share found
in its top 40 (the similar stage re-ranks top_k * 4 + 20 = 40 candidates by its pair score). 2 threads.

    .venv/bin/python benchmarks/bench_ann.py [--n 100000] [--queries 1000]

Needs faiss-cpu (`pip install -e ".[scale]"`). Writes benchmarks/results/ann.json and ann.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import yaml

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# faiss and BLAS threads sleep rather than spin while waiting: on a machine shared with other work, spinning
# threads steal each other's time and the timings measure the contention.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.config import SEED  # noqa: E402
from pipeline.embed import l2_normalise, make_embedder, split_sentences  # noqa: E402
from pipeline.realistic import load_realistic  # noqa: E402
from pipeline.similar import top_k_exact  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
DIM, K, WIDE, THREADS = 512, 10, 40, 2
SECTIONS = ("purpose", "starting_point", "process", "impact")
HNSW_M, HNSW_EF_CONSTRUCTION = 32, 128
HNSW_EF_SEARCH = (16, 32, 64, 128, 256)
IVF_LISTS, PQ_M, IVF_PROBES = 1024, 64, (8, 16, 32, 64)
REFINE_FACTOR = 4  # IVF-PQ candidates re-ranked by the exact inner product: k * 4 of them


def source_texts() -> list[str]:
    """Whole texts of the sample sources and of the realistic set (title, objective, sections)."""
    texts = []
    for path in sorted((ROOT / "data" / "sources" / "practices").glob("*.yaml")):
        for p in yaml.safe_load(path.read_text(encoding="utf-8")):
            texts.append("\n".join(str(p.get(f) or "").strip() for f in ("title", "main_objective", *SECTIONS)))
    texts += [f"{t.title}\n{t.description()}" for t in load_realistic().texts]
    return [t for t in texts if t.strip()]


def embed(texts: list[str], cache: Path | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
    """One vector per whole text and a matrix of sentence vectors per text."""
    embedder = make_embedder("use-multilingual", cache, threads=THREADS)
    docs = embedder.encode_documents(texts)
    sentences = [split_sentences(t) or [t] for t in texts]
    flat = embedder.encode([s for group in sentences for s in group])
    out, start = [], 0
    for group in sentences:
        out.append(flat[start:start + len(group)])
        start += len(group)
    return docs, out


def synthesize(n: int, docs: np.ndarray, sentences: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Noisy mixtures around real texts (see the module docstring), unit length, float32.

    The noise is a random combination of 16 centred sentence vectors, so it lies where the embedder's vectors
    lie rather than in all 512 directions alike."""
    flat = np.vstack(sentences)
    centred = flat - flat.mean(axis=0)
    out = np.empty((n, DIM), dtype=np.float32)
    n_docs = len(docs)
    for i in range(n):
        t = int(rng.integers(n_docs))
        own = sentences[t][rng.integers(0, len(sentences[t]), int(rng.integers(2, 7)))]
        others = [sentences[j][rng.integers(len(sentences[j]))] for j in rng.integers(0, n_docs, int(rng.integers(0, 3)))]
        parts = np.vstack([docs[t][None, :], own, *[o[None, :] for o in others]])
        weights = rng.dirichlet(np.ones(len(parts)))
        weights[0] += 1.0  # the whole text anchors the mixture
        mix = weights @ parts
        noise = rng.normal(size=16) @ centred[rng.integers(0, len(centred), 16)]
        out[i] = mix / np.linalg.norm(mix) + rng.uniform(0.3, 0.7) * noise / np.linalg.norm(noise)
    return l2_normalise(out)


def cosine_stats(vectors: np.ndarray, rng: np.random.Generator, sample: int = 2000) -> dict:
    """Mean cosine of two random vectors, and of each vector with its nearest and 10th nearest other vector."""
    pick = vectors[rng.choice(len(vectors), min(sample, len(vectors)), replace=False)]
    sims = pick @ pick.T
    np.fill_diagonal(sims, -np.inf)
    ranked = -np.sort(-sims, axis=1)
    off = sims[np.isfinite(sims)]
    k = min(10, len(pick) - 1)
    return {"n": len(pick), "mean_pair": round(float(off.mean()), 3), "mean_top1": round(float(ranked[:, 0].mean()), 3),
            "mean_top10": round(float(ranked[:, k - 1].mean()), 3)}


def recall(found: np.ndarray, truth: np.ndarray, depth: int) -> float:
    return float(np.mean([len(set(f[:depth]) & set(t[:K])) / K for f, t in zip(found, truth)]))


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def timed_queries(search, queries: np.ndarray, k: int) -> tuple[np.ndarray, float, float]:
    """Results of a batch search, ms per query in that batch, and ms per query one at a time (200 queries)."""
    t0 = time.perf_counter()
    _, found = search(queries, k)
    batch_ms = (time.perf_counter() - t0) / len(queries) * 1000
    t0 = time.perf_counter()
    for q in queries[:200]:
        search(q[None, :], k)
    single_ms = (time.perf_counter() - t0) / min(200, len(queries)) * 1000
    return found, batch_ms, single_ms


def bench_exact(base: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, dict]:
    t0 = time.perf_counter()
    truth, _ = top_k_exact(queries, base, K)
    batch_ms = (time.perf_counter() - t0) / len(queries) * 1000
    t0 = time.perf_counter()
    for q in queries[:200]:
        top_k_exact(q[None, :], base, K)
    single_ms = (time.perf_counter() - t0) / min(200, len(queries)) * 1000
    return truth, {"batch_ms_per_query": round(batch_ms, 3), "single_query_ms": round(single_ms, 3),
                   "memory_mb": round(base.nbytes / 2**20, 1),
                   "all_vs_all_s_estimate": round(batch_ms * len(base) / 1000, 1)}


def bench_hnsw(faiss, base: np.ndarray, queries: np.ndarray, truth: np.ndarray) -> dict:
    before = rss_mb()
    t0 = time.perf_counter()
    index = faiss.IndexHNSWFlat(DIM, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.add(base)
    build = time.perf_counter() - t0
    out = {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION, "build_s": round(build, 1),
           "rss_growth_mb": round(rss_mb() - before, 1), "index_mb": round(faiss.serialize_index(index).nbytes / 2**20, 1),
           "efSearch": {}}
    for ef in HNSW_EF_SEARCH:
        index.hnsw.efSearch = max(ef, WIDE)
        wide, _, _ = timed_queries(index.search, queries, WIDE)
        index.hnsw.efSearch = ef
        found, batch_ms, single_ms = timed_queries(index.search, queries, K)
        row = {"recall_at_10": round(recall(found, truth, K), 4), "recall_10_at_40": round(recall(wide, truth, WIDE), 4),
               "batch_ms_per_query": round(batch_ms, 3), "single_query_ms": round(single_ms, 3),
               "all_vs_all_s_estimate": round(batch_ms * len(base) / 1000, 1)}
        out["efSearch"][str(ef)] = row
        print(f"HNSW efSearch {ef}: {row}", flush=True)
    del index
    return out


def bench_ivfpq(faiss, base: np.ndarray, queries: np.ndarray, truth: np.ndarray) -> dict:
    before = rss_mb()
    t0 = time.perf_counter()
    quantizer = faiss.IndexFlatIP(DIM)
    index = faiss.IndexIVFPQ(quantizer, DIM, IVF_LISTS, PQ_M, 8, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = SEED
    index.train(base)
    index.add(base)
    build = time.perf_counter() - t0
    pq_mb = faiss.serialize_index(index).nbytes / 2**20
    refined = faiss.IndexRefineFlat(index, faiss.swig_ptr(base))
    refined.k_factor = REFINE_FACTOR
    out = {"nlist": IVF_LISTS, "pq_m": PQ_M, "bits": 8, "build_s": round(build, 1),
           "rss_growth_mb": round(rss_mb() - before, 1), "index_mb": round(pq_mb, 1),
           "index_mb_with_refine": round(pq_mb + base.nbytes / 2**20, 1), "nprobe": {}}
    for nprobe in IVF_PROBES:
        index.nprobe = nprobe
        found, batch_ms, single_ms = timed_queries(index.search, queries, K)
        wide, _, _ = timed_queries(index.search, queries, WIDE)
        rfound, rbatch_ms, rsingle_ms = timed_queries(refined.search, queries, K)
        row = {"recall_at_10": round(recall(found, truth, K), 4), "recall_10_at_40": round(recall(wide, truth, WIDE), 4),
               "batch_ms_per_query": round(batch_ms, 3), "single_query_ms": round(single_ms, 3),
               "refined_recall_at_10": round(recall(rfound, truth, K), 4),
               "refined_batch_ms_per_query": round(rbatch_ms, 3), "refined_single_query_ms": round(rsingle_ms, 3)}
        out["nprobe"][str(nprobe)] = row
        print(f"IVF-PQ nprobe {nprobe}: {row}", flush=True)
    return out


def write_results(results: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ann.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    n, q = results["n"], results["queries"]
    real, syn, ex = results["cosines"]["real"], results["cosines"]["synthetic"], results["exact"]
    lines = [
        f"# Approximate neighbour search at {n:,} practices", "",
        f"{DIM}-d unit vectors, inner product, {q:,} held-out queries, top-{K}, {THREADS} threads, faiss "
        f"{results['faiss']}. Vectors: noisy mixtures around {results['source_texts']} real texts (sample sources "
        "and realistic set) embedded by the multilingual USE: whole-text vector, 2-6 of its sentences, up to 2 "
        "sentences of other texts, Dirichlet weights, noise made of sentence vectors (benchmarks/bench_ann.py). "
        "The cosines below compare them with the real texts (the real ones include 44 EN/FR pairs, and the "
        "synthetic sample is denser: about nine vectors per real text).", "",
        "| vectors | mean cosine of two | mean cosine with the nearest | with the 10th nearest |", "|---|---|---|---|",
        f"| real texts ({real['n']}) | {real['mean_pair']} | {real['mean_top1']} | {real['mean_top10']} |",
        f"| synthetic (sample of {syn['n']:,}) | {syn['mean_pair']} | {syn['mean_top1']} | {syn['mean_top10']} |",
        f"| synthetic, nearest among all {n:,} (the queries) | - | {results['cosines']['query_top1']} | "
        f"{results['cosines']['query_top10']} |", "",
        "| index | setting | recall@10 | recall 10@40 | ms/query (batch of 1,000) | ms/query (one at a time) | "
        "all-vs-all estimate |", "|---|---|---|---|---|---|---|",
        f"| exact (numpy, top_k_exact) | - | 1.000 | 1.000 | {ex['batch_ms_per_query']} | {ex['single_query_ms']} | "
        f"{ex['all_vs_all_s_estimate']} s |",
    ]
    h = results.get("hnsw")
    if h:
        for ef, r in h["efSearch"].items():
            lines.append(f"| HNSW M={h['M']} | efSearch {ef} | {r['recall_at_10']:.3f} | {r['recall_10_at_40']:.3f} | "
                         f"{r['batch_ms_per_query']} | {r['single_query_ms']} | {r['all_vs_all_s_estimate']} s |")
    p = results.get("ivfpq")
    if p:
        for nprobe, r in p["nprobe"].items():
            lines.append(f"| IVF{p['nlist']},PQ{p['pq_m']} | nprobe {nprobe} | {r['recall_at_10']:.3f} | "
                         f"{r['recall_10_at_40']:.3f} | {r['batch_ms_per_query']} | {r['single_query_ms']} | - |")
            lines.append(f"| IVF{p['nlist']},PQ{p['pq_m']} + exact re-rank of {K * REFINE_FACTOR} | nprobe {nprobe} | "
                         f"{r['refined_recall_at_10']:.3f} | - | {r['refined_batch_ms_per_query']} | "
                         f"{r['refined_single_query_ms']} | - |")
    lines += ["", "| index | build | index size | process memory growth while building |", "|---|---|---|---|",
              f"| exact | - | {ex['memory_mb']} MB (the vectors) | - |"]
    if h:
        lines.append(f"| HNSW M={h['M']}, efConstruction {h['efConstruction']} | {h['build_s']} s | {h['index_mb']} MB | "
                     f"{h['rss_growth_mb']} MB |")
    if p:
        lines.append(f"| IVF{p['nlist']},PQ{p['pq_m']} (trained on the {n:,} vectors) | {p['build_s']} s | "
                     f"{p['index_mb']} MB ({p['index_mb_with_refine']} MB with the vectors for re-ranking) | "
                     f"{p['rss_growth_mb']} MB |")
    cached = " (read from an embedding cache)" if results.get("embedding_cache") else ""
    lines += ["", f"Embedding the {results['source_texts']} texts and their sentences took {results['embed_s']} s{cached}; "
              f"generating the vectors {results['generate_s']} s. all-vs-all = every practice's neighbours (a batch "
              "run), from the batch time per query."]
    load = results.get("load_avg")
    if load:
        lines.append(f"Load average {load['start']} at the start and {load['end']} at the end, on {load['cpus']} "
                     "CPUs: above the CPU count, other work shared the machine and times are longer than alone.")
    (RESULTS / "ann.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--no-ivfpq", action="store_true")
    parser.add_argument("--cache", type=Path, help="Embedding cache folder (default: none, embed afresh).")
    args = parser.parse_args()
    try:
        import faiss
    except ImportError:
        sys.exit('faiss is not installed: pip install -e ".[scale]"')
    faiss.omp_set_num_threads(THREADS)
    rng = np.random.default_rng(SEED)
    load_at_start = round(os.getloadavg()[0], 2)
    texts = source_texts()
    t0 = time.perf_counter()
    docs, sentences = embed(texts, args.cache)
    embed_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    base = synthesize(args.n, docs, sentences, rng)
    queries = synthesize(args.queries, docs, sentences, rng)
    generate_s = time.perf_counter() - t0
    truth, exact = bench_exact(base, queries)
    print("exact", exact, flush=True)
    top_scores = np.take_along_axis(queries @ base.T, truth, axis=1)
    results = {
        "n": args.n, "queries": args.queries, "dim": DIM, "k": K, "threads": THREADS, "faiss": faiss.__version__,
        "source_texts": len(texts), "embed_s": round(embed_s, 1), "embedding_cache": str(args.cache) if args.cache else None, "generate_s": round(generate_s, 1),
        "cosines": {"real": cosine_stats(docs, rng), "synthetic": cosine_stats(base, rng),
                    "query_top1": round(float(top_scores[:, 0].mean()), 3),
                    "query_top10": round(float(top_scores[:, K - 1].mean()), 3)},
        "exact": exact,
    }
    print(results["cosines"], flush=True)
    results["hnsw"] = bench_hnsw(faiss, base, queries, truth)
    results["ivfpq"] = None if args.no_ivfpq else bench_ivfpq(faiss, base, queries, truth)
    results["load_avg"] = {"start": load_at_start, "end": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}
    write_results(results)


if __name__ == "__main__":
    main()
