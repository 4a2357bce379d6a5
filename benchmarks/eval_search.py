"""How well the web search finds practices: the query's words alone (full text, the key terms of terms.yaml in
both languages), the query's meaning alone (multilingual passage vectors) and both joined, on the sample run.

data/eval/search holds 40 queries written by one person from the sample's practices as users in other cities
would type them (28 aimed at one practice, half in the other language; 12 broader topics), and the relevance of
every sample practice to every query as judged by another person who never saw what a query was written for
(2 answers it, 1 partly, 0 not). Queries are split in two halves by `split.yaml`; the meaning's settings
(lowest score, most hits, fusion constant) are chosen on the tune half and the test half is read once with them.
Writes benchmarks/results/search_quality.{json,md}.

    .venv/bin/python benchmarks/eval_search.py
"""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from pipeline.config import SearchSettings, Settings, load_yaml  # noqa: E402
from pipeline.web.catalogue import load_catalogue  # noqa: E402
from pipeline.web.models import AnalysisModels  # noqa: E402
from pipeline.web.search import SearchQuery  # noqa: E402

EVAL = ROOT / "data" / "eval" / "search"
OUT = ROOT / "benchmarks" / "results"
CUTOFF = 5
GRID = {"meaning_min_score": (0.15, 0.20, 0.22, 0.25, 0.28, 0.30, 0.35), "meaning_max_hits": (3, 5, 10),
        "meaning_min_z": (0.0, 1.0, 1.5, 2.0, 2.5, 3.0), "fusion_k": (2, 5, 10, 30, 60),
        "meaning_weight": (1.0, 0.5)}


class _Remembering:
    """The encoder with each query's vector kept, so the grid embeds a query once."""

    def __init__(self, inner):
        self.inner, self.dim, self._seen = inner, inner.dim, {}

    def encode(self, texts):
        key = tuple(texts)
        if key not in self._seen:
            self._seen[key] = np.asarray(self.inner.encode(list(texts)))
        return self._seen[key]


def metrics(found: list[str], grades: dict[str, int]) -> dict[str, float]:
    """nDCG@5 (graded), precision@5 (grade 1 or 2), recall@5 of the practices that answer (grade 2), reciprocal
    rank of the first answer, and whether nothing was found."""
    top = found[:CUTOFF]
    gains = [grades.get(pid, 0) for pid in top]
    dcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sorted(grades.values(), reverse=True)[:CUTOFF]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    answers = {pid for pid, g in grades.items() if g == 2}
    first = next((i + 1 for i, pid in enumerate(found) if pid in answers), None)
    return {"ndcg": dcg / idcg if idcg else 0.0,
            "precision": sum(g > 0 for g in gains) / CUTOFF,
            "recall": len(answers & set(top)) / len(answers) if answers else 0.0,
            "rr": 1 / first if first else 0.0,
            "none_found": float(not found),
            "shown_without_answer": float(len(top)) if not answers else float("nan")}


def evaluate(find, queries: list[dict], judgments: dict) -> dict[str, float]:
    rows = [metrics(find(q["text"]), judgments.get(q["id"]) or {}) for q in queries]
    return {k: float(np.nanmean([r[k] for r in rows])) if not all(np.isnan(r[k]) for r in rows) else None
            for k in rows[0]}


def finder(catalogue, settings: SearchSettings | None, meaning_only: bool = False):
    """The search as the site runs it with the meaning's settings given (None: the words alone), or the meaning's
    hits alone."""
    index = catalogue.index
    meaning = None if settings is None else replace(catalogue.meaning, settings=settings)
    if meaning_only:
        return lambda text: [pid for pid, _, _ in meaning.hits(text)][:CUTOFF]
    index._meaning = meaning
    return lambda text: index.search(SearchQuery(q=text, limit=CUTOFF)).practice_ids


def main() -> None:
    started = time.time()
    queries = load_yaml((EVAL / "queries.yaml").read_text(encoding="utf-8"))
    judgments = {k: {str(p): int(g) for p, g in (v or {}).items()}
                 for k, v in load_yaml((EVAL / "judgments.yaml").read_text(encoding="utf-8")).items()}
    split = load_yaml((EVAL / "split.yaml").read_text(encoding="utf-8"))
    halves = {half: [q for q in queries if q["id"] in set(split[half])] for half in ("tune", "test")}
    judged = [q for q in queries if judgments.get(q["id"])]
    models = AnalysisModels.load(Settings())
    with tempfile.TemporaryDirectory(prefix="icc-search-eval-") as folder:
        out = Path(folder) / "run"
        subprocess.run([sys.executable, "-m", "pipeline", "run", str(ROOT / "data" / "raw"), "--out", str(out)],
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        models.embedder = _Remembering(models.embedder)
        catalogue = load_catalogue(out, models.embedder, out / ".cache" / "embeddings")
        catalogue.meaning = catalogue.index._meaning
        n_practices = len(catalogue.practices)

        def score(half: str, settings: SearchSettings | None, meaning_only: bool = False) -> dict[str, float]:
            return evaluate(finder(catalogue, settings, meaning_only), halves[half], judgments)

        grid = []
        for values in itertools.product(*GRID.values()):
            settings = SearchSettings(**dict(zip(GRID, values)))
            grid.append((dict(zip(GRID, values)), score("tune", settings)))
        # ties (the tune half cannot tell them apart) go to the fewest weak hits: the highest standing and lowest
        # score, then the fewest hits, the meaning's hits after the words', then the usual fusion constant
        best_values, _ = max(grid, key=lambda item: (round(item[1]["ndcg"], 3), item[0]["meaning_min_z"],
                                                     item[0]["meaning_min_score"], -item[0]["meaning_max_hits"],
                                                     -item[0]["meaning_weight"], item[0]["fusion_k"]))
        chosen = SearchSettings(**best_values)
        shipped = SearchSettings()
        systems = {
            "words alone (full text)": None,
            "meaning alone": ("meaning", chosen),
            "words and meaning (chosen on tune)": chosen,
            "words and meaning (shipped settings)": shipped,
        }
        table = {}
        for name, system in systems.items():
            only = isinstance(system, tuple)
            settings = system[1] if only else system
            table[name] = {half: score(half, settings, only) for half in ("tune", "test")}
    result = {"practices": n_practices, "queries": {h: len(q) for h, q in halves.items()},
              "queries_with_an_answer": sum(1 for q in judged if 2 in judgments[q["id"]].values()),
              "chosen": best_values, "shipped": {k: getattr(shipped, k) for k in GRID}, "systems": table,
              "grid_size": len(grid),
              # the 20 best settings on the tune half (the whole grid is 1,260 rows of the same few figures)
              "grid_tune_best": [{"settings": v, **m} for v, m in sorted(grid, key=lambda item: -item[1]["ndcg"])[:20]],
              "seconds": round(time.time() - started)}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "search_quality.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    (OUT / "search_quality.md").write_text(render(result), encoding="utf-8")
    print(render(result))


def render(r: dict) -> str:
    lines = [
        "# Search: the words of a query, its meaning, and both",
        "",
        f"The sample run ({r['practices']} practices, English and French); {sum(r['queries'].values())} queries "
        f"(tune {r['queries']['tune']}, test {r['queries']['test']}) written by one person as users in other cities "
        "would type them, every practice judged for every query by another (2 answers it, 1 partly). "
        f"{r['queries_with_an_answer']} queries have a practice that answers them. Top {CUTOFF} of each search: "
        "nDCG (graded), precision (grade 1 or 2), recall of the answers, reciprocal rank of the first answer, share "
        "of queries that found nothing.",
        "",
        "The queries aimed at one practice were written in other words than its title, as users who have not seen it "
        "would type them: queries that repeat a title's words favour the words alone more than these do.",
        "",
        f"Settings chosen on the tune half (best nDCG@5): {r['chosen']}; shipped: {r['shipped']}.",
        "",
        "| system | half | nDCG@5 | precision@5 | recall@5 | MRR | nothing found | shown for a query no practice answers |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, halves in r["systems"].items():
        for half in ("tune", "test"):
            m = halves[half]
            lines.append(f"| {name} | {half} | {m['ndcg']:.2f} | {m['precision']:.2f} | {m['recall']:.2f} | "
                         f"{m['rr']:.2f} | {m['none_found']:.2f} | "
                         f"{'-' if m['shown_without_answer'] is None else format(m['shown_without_answer'], '.1f')} |")
    lines += ["", "The test half has been read three times. First before the rule that a query holding no word of the "
              "site's texts (a contact's name, left out of them) is not read for its meaning: both joined gave nDCG@5 "
              "0.61, recall 0.79 and nothing found for 0.05 of its queries then; the rule was added because names "
              "found practices by their sound ('Jordi Puigvert' a practice in Oslo), not for these figures. Then with "
              "the rule and the meaning's ranks counting as much as the words' (0.59, 0.78, 0.10); the meaning's "
              "weight was then halved, which the tune half cannot tell apart, because a reviewer saw practices found "
              "by meaning alone outrank the words' best match (the figures above).",
              "", f"Run time {r['seconds']} s.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
