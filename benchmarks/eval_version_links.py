"""Which pairs of one city's texts in two languages the similar stage links as versions of one practice.

All texts of the realistic set are run as one batch. For each half: the EN/FR pairs of the set linked (`version` at
rank 0) and the wrong links (two different practices of one city), for the shipped rule as the stage applies it (each
the other's best match among the city's texts in that language, pair score at least `version_min_score`, and within
`similar.version_margin` of either text's best match in another city), beside the first two conditions alone at
several thresholds and the rule before them (each the other's best match in the whole batch, at 0.50). The tune half chooses the rule; the
test half is reported. Writes benchmarks/results/version_links.{json,md}.

    .venv/bin/python benchmarks/eval_version_links.py
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.cities import city_key  # noqa: E402
from pipeline.config import Settings  # noqa: E402
from pipeline.embed import make_embedder  # noqa: E402
from pipeline.realistic import load_realistic, read_back  # noqa: E402
from pipeline.similar import embed_practices, hub_adjusted, hubness, similar_stage  # noqa: E402

OUT = ROOT / "benchmarks" / "results"
THRESHOLDS = (0.45, 0.50, 0.55, 0.60)


def mutual_links(adjusted: np.ndarray, raw: np.ndarray, allowed: np.ndarray, threshold: float) -> set[tuple[int, int]]:
    """Pairs each the other's best match among the `allowed` (n x n) and with a raw pair score at `threshold`."""
    scores = np.where(allowed, adjusted, -np.inf)
    best = np.where(allowed.any(axis=1), scores.argmax(axis=1), -1)
    return {(q, int(b)) for q, b in enumerate(best) if b > q and best[b] == q and raw[q, b] >= threshold}


def main() -> dict:
    data = load_realistic()
    texts = list(data.texts)
    read = read_back(texts)
    ids = [t.id for t in texts]
    practices = [read[i] for i in ids]
    settings = Settings()
    embedder = make_embedder(settings.embedder)
    unit, half = {t.id: t.unit for t in texts}, {t.id: t.split for t in texts}
    pairs = {tuple(sorted(p)) for p in data.pairs()}

    def score(links: set[tuple[str, str]]) -> dict:
        out = {}
        for h in ("tune", "test"):
            in_half = [p for p in pairs if half[p[0]] == h]
            out[h] = {"pairs": len(in_half), "linked": sum(p in links for p in in_half),
                      "wrong": sum(1 for a, b in links if half[a] == h and unit[a] != unit[b])}
        return out

    rows = similar_stage(practices, settings, embedder)
    shipped = {tuple(sorted((r["practice_id"], r["neighbour_id"]))) for r in rows
               if r["rank"] == 0 and r["relation"] == "version"}
    vectors = embed_practices(practices, embedder, settings.similar)
    n = len(practices)
    raw = np.vstack([vectors.pair_scores(q, range(n)) for q in range(n)])
    adjusted = hub_adjusted(raw, hubness([np.delete(raw[q], q) for q in range(n)], settings.similar), settings.similar)
    cities = np.array([city_key(p.city) for p in practices], dtype=object)
    langs = np.array([p.lang for p in practices], dtype=object)
    not_self = ~np.eye(n, dtype=bool)
    same_city = (cities[:, None] == cities[None, :]) & (cities[:, None] != "") & not_self
    other_lang = langs[:, None] != langs[None, :]
    result = {"shipped": {"threshold": settings.version_min_score, **score(shipped)}, "rules": []}
    as_ids = lambda links: {tuple(sorted((ids[a], ids[b]))) for a, b in links}  # noqa: E731
    for t in THRESHOLDS:
        links = mutual_links(adjusted, raw, same_city & other_lang, t)
        result["rules"].append({"rule": "best among the city's texts in the other language", "threshold": t,
                                **score(as_ids(links))})
    whole = {(a, b) for a, b in mutual_links(adjusted, raw, not_self, 0.50) if same_city[a, b] and other_lang[a, b]}
    result["rules"].append({"rule": "best in the whole batch (before)", "threshold": 0.50, **score(as_ids(whole))})
    result["other_pairs_of_one_city"] = {h: int(sum(1 for a in range(n) for b in range(a + 1, n)
                                                     if same_city[a, b] and other_lang[a, b]
                                                     and unit[ids[a]] != unit[ids[b]] and half[ids[a]] == h))
                                         for h in ("tune", "test")}
    (OUT / "version_links.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    other = result["other_pairs_of_one_city"]
    lines = ["# Versions of one practice linked by the similar stage", "",
             f"All {n} texts of the realistic set in one batch. Pairs: the set's EN/FR pairs linked as `version`; wrong: "
             f"a link between two different practices of one city (tune {other['tune']}, test {other['test']} such "
             "pairs of one city in two languages). Scores without the hubness adjustment for the threshold, with it "
             "for the best match (as the stage reads them); the rows below are computed on the whole matrix, the "
             "shipped row by the stage itself.", "",
             "| rule | threshold | tune: linked / pairs | tune: wrong | test: linked / pairs | test: wrong |",
             "|---|---|---|---|---|---|"]
    for r in [{"rule": "shipped (`similar_stage`)", **result["shipped"]}, *result["rules"]]:
        lines.append(f"| {r['rule']} | {r['threshold']:.2f} | {r['tune']['linked']} / {r['tune']['pairs']} | "
                     f"{r['tune']['wrong']} | {r['test']['linked']} / {r['test']['pairs']} | {r['test']['wrong']} |")
    (OUT / "version_links.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return result


if __name__ == "__main__":
    main()
