"""Cross-lingual retrieval: does a practice find its version in the other language among all practices?

Pool: the 52 sample practices as the pipeline segments them from data/raw, plus the 32 rewrites of
data/eval/crosslingual (each keyed by its source practice id). Every original with a rewrite queries for
the rewrite and every rewrite for its original (64 queries, the query itself left out of the pool).
Figures per backend: recall@1, MRR, and the own-language rate: the share of queries whose nearest
neighbour is a different practice in the query's own language although the other-language version
exists (the failure that hides the network's other-language practices from a city).
Also the cosine of each pair, which informs the near-duplicate threshold.

    .venv/bin/python benchmarks/bench_crosslingual.py [--backends use-multilingual,tfidf,...]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.embed import make_embedder  # noqa: E402
from pipeline.records import Practice  # noqa: E402
from pipeline.similar import practice_similarity, practice_text  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
BACKENDS = ("use-multilingual", "sentence-transformers:minilm", "tfidf")
SECTIONS = ("purpose", "starting_point", "process", "impact")


def sample_practices() -> dict[str, Practice]:
    """The sample practices as segmented by the pipeline, keyed by their source id (p1-01 ...)."""
    from pipeline.run import run_batch

    expected = json.loads((ROOT / "tests" / "data" / "expected_corpus.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        batch = run_batch([ROOT / "data" / "raw"], Path(tmp), analyse=False)
    by_file = {(p.source_file, p.practice_index): p for p in batch.practices}
    out = {}
    for name, item in expected.items():
        for index, src in enumerate(item.get("practices", []), start=1):
            if (name, index) in by_file:
                out[src["id"]] = by_file[(name, index)]
    return out


def rewrites(originals: dict[str, Practice]) -> list[tuple[str, Practice]]:
    """(source id, rewritten practice) for every entry of data/eval/crosslingual."""
    out = []
    for path in sorted((ROOT / "data" / "eval" / "crosslingual").glob("*.yaml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")):
            source = originals[item["id"]]
            sections = {s: (item.get(s) or "").strip() or None for s in SECTIONS}
            out.append((item["id"], Practice(
                practice_id=f"xl-{item['id']}", source_file=f"crosslingual/{path.name}", practice_index=1,
                lang=item["lang"], city=source.city, title=item.get("title"), main_objective=item.get("main_objective"),
                description="\n".join(v for v in sections.values() if v), **sections)))
    return out


def evaluate(similarity: np.ndarray, langs: list[str], pairs: list[tuple[int, int]]) -> dict:
    sims = np.array(similarity, dtype=float, copy=True)
    np.fill_diagonal(sims, -np.inf)
    ranks, own_lang, pair_cos = [], 0, []
    for q, target in pairs + [(b, a) for a, b in pairs]:
        order = np.argsort(-sims[q], kind="stable")
        rank = int(np.flatnonzero(order == target)[0]) + 1
        ranks.append(rank)
        if rank > 1 and langs[order[0]] == langs[q]:
            own_lang += 1
    for a, b in pairs:
        pair_cos.append(float(sims[a, b]))
    ranks_a = np.asarray(ranks)
    # Highest score any practice reaches with a *different* practice: how far translations stand apart.
    partner = {a: b for a, b in pairs} | {b: a for a, b in pairs}
    others = [float(np.max(np.where(np.arange(len(sims)) == partner.get(i, -1), -np.inf, sims[i])))
              for i in range(len(sims))]
    return {
        "queries": len(ranks),
        "recall_at_1": round(float(np.mean(ranks_a == 1)), 4),
        "mrr": round(float(np.mean(1.0 / ranks_a)), 4),
        "own_language_rate": round(own_lang / len(ranks), 4),
        "pair_cosine_min": round(min(pair_cos), 4),
        "pair_cosine_median": round(float(np.median(pair_cos)), 4),
        "best_non_pair_cosine_max": round(max(others), 4),
        "best_non_pair_cosine_p95": round(float(np.percentile(others, 95)), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--representation", choices=("pipeline", "chunks"), default="pipeline",
                        help="pipeline: the pair score of the similar stage; chunks: one vector per text, pooled chunks")
    args = parser.parse_args()
    originals = sample_practices()
    pool: list[Practice] = list(originals.values())
    index = {src: i for i, src in enumerate(originals)}
    pairs = []
    for src, practice in rewrites(originals):
        pairs.append((index[src], len(pool)))
        pool.append(practice)
    texts = [practice_text(p) for p in pool]
    langs = [p.lang for p in pool]
    results = {"pool_size": len(pool), "pairs": len(pairs), "representation": args.representation, "backends": {}}
    for spec in args.backends.split(","):
        embedder = make_embedder(spec, cache_dir=None)
        embedder.fit(texts if args.representation == "chunks" else
                     [t for p in pool for t in [p.title, p.main_objective, p.description] if t])
        t0 = time.perf_counter()
        if args.representation == "pipeline":
            similarity = practice_similarity(pool, embedder)
        else:
            vectors = embedder.encode(texts)
            similarity = vectors @ vectors.T
        elapsed = time.perf_counter() - t0
        figures = evaluate(similarity, langs, pairs)
        figures["model_id"] = embedder.model_id
        figures["encode_seconds"] = round(elapsed, 2)
        results["backends"][spec] = figures
        print(spec, figures, flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.representation == "pipeline" else "-chunks"
    (RESULTS / f"crosslingual{suffix}.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    lines = [f"Cross-lingual retrieval: {results['pairs']} FR/EN pairs, pool of {results['pool_size']} practices, "
             "both directions; "
             f"similarity: {'the similar stage pair score' if args.representation == 'pipeline' else 'pooled chunks'}.", "",
             "| backend | recall@1 | MRR | own-language rate | pair cosine min / median | best other cosine max |",
             "|---|---|---|---|---|---|"]
    for spec, f in results["backends"].items():
        lines.append(f"| {spec} | {f['recall_at_1']:.3f} | {f['mrr']:.3f} | {f['own_language_rate']:.3f} | "
                     f"{f['pair_cosine_min']:.2f} / {f['pair_cosine_median']:.2f} | {f['best_non_pair_cosine_max']:.2f} |")
    (RESULTS / f"crosslingual{suffix}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
