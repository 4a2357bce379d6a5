"""Agreement of the criteria scorer with the rated set data/eval/criteria/*.yaml.

Cut points are learned on split=tune only; the test half is scored with them untouched.
Prints and writes benchmarks/results/eval_criteria.json and .md.

    .venv/bin/python benchmarks/eval_criteria.py            # tune and test figures
    .venv/bin/python benchmarks/eval_criteria.py --tune-only  # while tuning cues: never looks at test
    .venv/bin/python benchmarks/eval_criteria.py --embedder none  # without the semantic cue
    .venv/bin/python benchmarks/eval_criteria.py --cv --C 0.1 --alpha 0.3  # the learned model, grouped CV on the tune halves

The `--cv` table is what the learned criteria model is chosen by (`pipeline/training.py`): out-of-fold Spearman
on the realistic tune half, the same with length held fixed, the word count beside it, and the level shares.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import yaml  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

from pipeline.criteria import CRITERIA, CriteriaScorer  # noqa: E402
from pipeline.records import SECTION_FIELDS, Practice  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def load_rated(folder: Path = ROOT / "data" / "eval" / "criteria") -> list[dict]:
    items = []
    for path in sorted(glob.glob(str(folder / "part*.yaml"))):
        items += yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return items


def to_practice(item: dict) -> Practice:
    """A Practice built from the yaml sections, as the segmenter would fill it."""
    sections = {name: (item.get(name) or "").strip() or None for name in SECTION_FIELDS}
    description = "\n".join(v for v in sections.values() if v)
    return Practice(practice_id=item["id"], source_file=f"{item['id']}.yaml", practice_index=1, lang=item["lang"],
                    title=item.get("title"), description=description, n_words=len(description.split()), **sections)


def agreement(rows: list[dict], items: list[dict]) -> dict:
    out = {"n": len(items), "per_criterion": {}}
    exact, within = [], []
    for crit in CRITERIA:
        by_id = {r["practice_id"]: r for r in rows if r["criterion"] == crit}
        y = np.array([i["ratings"][crit] for i in items])
        s = np.array([by_id[i["id"]]["score"] for i in items])
        lv = np.array([by_id[i["id"]]["level"] for i in items])
        rho = spearmanr(s, y).statistic if len(set(s)) > 1 else 0.0
        words = np.array([to_practice(i).n_words for i in items])  # the plain baseline: length alone
        out["per_criterion"][crit] = {
            "spearman": round(float(rho), 3),
            "word_count": round(float(spearmanr(words, y).statistic), 3),
            "exact": round(float(np.mean(lv == y)), 3),
            "within_one": round(float(np.mean(np.abs(lv - y) <= 1)), 3),
        }
        exact += list(lv == y)
        within += list(np.abs(lv - y) <= 1)
    out["mean_spearman"] = round(float(np.mean([v["spearman"] for v in out["per_criterion"].values()])), 3)
    out["mean_word_count"] = round(float(np.mean([v["word_count"] for v in out["per_criterion"].values()])), 3)
    out["exact"] = round(float(np.mean(exact)), 3)
    out["within_one"] = round(float(np.mean(within)), 3)
    return out


def markdown(result: dict) -> str:
    lines = ["| split | criterion | Spearman | word count | exact | within one |", "|---|---|---|---|---|---|"]
    for split in ("tune", "test"):
        if split not in result:
            continue
        r = result[split]
        for crit, v in r["per_criterion"].items():
            lines.append(f"| {split} | {crit} | {v['spearman']:.2f} | {v['word_count']:.2f} | {v['exact']:.2f} | {v['within_one']:.2f} |")
        lines.append(f"| {split} (n={r['n']}) | **mean / all** | **{r['mean_spearman']:.2f}** | {r['mean_word_count']:.2f} | "
                     f"{r['exact']:.2f} | {r['within_one']:.2f} |")
    return "\n".join(lines) + "\n"


def cv_table(C: float, alpha: float, embedder_spec: str) -> str:
    """Grouped cross-validation of the learned model on the tune halves only (no test half is read)."""
    from pipeline.config import Settings
    from pipeline.embed import make_embedder
    from pipeline.realistic import load_quotes
    from pipeline.training import criteria_baselines, criteria_features, criteria_training_set, cross_validate_criteria

    settings = Settings()
    rated = criteria_training_set(settings)
    embedder = make_embedder(embedder_spec, ROOT / "benchmarks" / ".cache" / "embeddings")
    data = criteria_features(CriteriaScorer(embedder=embedder, model_dir=None, gap_model_dir=settings.criteria_model_dir), rated.practices, load_quotes())
    cv = cross_validate_criteria(data, rated, C, alpha)
    base = criteria_baselines(rated)
    shares = lambda v: " / ".join(f"{x:.2f}" for x in v)  # noqa: E731
    lines = [f"C={C}, alpha={alpha}, {rated.sources.count('realistic')} realistic tune texts", "",
             "| criterion | Spearman | length held fixed | word count | levels (model) | levels (readers) |",
             "|---|---|---|---|---|---|"]
    for c in CRITERIA:
        lines.append(f"| {c} | {cv['spearman'][c]:.2f} | {cv['partial'][c]:.2f} | {base['word_count'][c]:.2f} | "
                     f"{shares(cv['levels'][c])} | {shares(base['readers_levels'][c])} |")
    lines.append(f"| mean | {cv['spearman']['mean']:.2f} | {cv['partial']['mean']:.2f} | {base['word_count']['mean']:.2f} | | |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cv", action="store_true", help="grouped CV of the learned model on the tune halves only")
    parser.add_argument("--C", type=float, default=0.1, help="with --cv: regularisation of the ordinal model")
    parser.add_argument("--alpha", type=float, default=0.3, help="with --cv: ridge penalty of the whole-text projection")
    parser.add_argument("--tune-only", action="store_true", help="report the tune split only (while tuning)")
    parser.add_argument("--embedder", default="use-multilingual", help="embedder spec, or 'none'")
    parser.add_argument("--show", action="store_true", help="print per-item levels (tune split)")
    args = parser.parse_args()
    if args.cv:
        print(cv_table(args.C, args.alpha, args.embedder))
        return

    items = load_rated()
    tune = [i for i in items if i["split"] == "tune"]
    test = [i for i in items if i["split"] == "test"]
    embedder = None
    if args.embedder != "none":
        from pipeline.embed import make_embedder

        embedder = make_embedder(args.embedder, ROOT / "benchmarks" / ".cache" / "embeddings")
    t0 = time.perf_counter()
    scorer = CriteriaScorer(embedder=embedder).fit([to_practice(i) for i in tune], [i["ratings"] for i in tune])
    result = {"embedder": embedder.model_id if embedder else None, "cut_points": scorer.cut_points_,
              "tune": agreement(scorer.score([to_practice(i) for i in tune]), tune)}
    if args.show:
        rows = scorer.score([to_practice(i) for i in tune])
        for i in tune:
            got = {r["criterion"]: (r["level"], r["score"]) for r in rows if r["practice_id"] == i["id"]}
            print(i["id"], i["lang"], " ".join(f"{c[:6]}={i['ratings'][c]}/{got[c][0]}({got[c][1]:.2f})" for c in CRITERIA))
    if not args.tune_only:
        result["test"] = agreement(scorer.score([to_practice(i) for i in test]), test)
        result["test_by_lang"] = {lang: agreement(scorer.score([to_practice(i) for i in test if i["lang"] == lang]),
                                                  [i for i in test if i["lang"] == lang])["mean_spearman"]
                                  for lang in sorted({i["lang"] for i in test})}
    result["seconds"] = round(time.perf_counter() - t0, 2)
    table = markdown(result)
    print(table)
    print(json.dumps({k: v for k, v in result.items() if k not in ("tune", "test")}, indent=1))
    if not args.tune_only:
        RESULTS.mkdir(parents=True, exist_ok=True)
        suffix = "" if args.embedder == "use-multilingual" else f"_{args.embedder.replace(':', '-').replace('/', '-')}"
        (RESULTS / f"eval_criteria{suffix}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        (RESULTS / f"eval_criteria{suffix}.md").write_text(table, encoding="utf-8")


if __name__ == "__main__":
    main()
