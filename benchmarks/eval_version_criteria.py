"""Should the language versions of one practice share their criteria levels? Out-of-fold on the realistic tune half.

The main area of a practice does not depend on the language it is written in, and the run gives its versions one
(`eval_version_areas.py`). Criteria levels read what a text says, and two versions of one practice need not say
the same: one may give the process step by step where the other sums it up. This benchmark asks the readers and
the model. The criteria model is fitted five times, as `cross_validate_criteria` does (folds by practice, the own
rated set always in training), and each tune text's expected level is kept; it is then scored against the mean
reading read apart (as the run does) or as the mean of the two versions' expected levels. Beside it: how often the
readers gave the two versions of a practice one level, and the Spearman of the versions' mean readings. The
versions are the set's own pairs. Writes benchmarks/results/version_criteria.{json,md}.

    .venv/bin/python benchmarks/eval_version_criteria.py
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

from pipeline import training as T  # noqa: E402
from pipeline.config import Settings  # noqa: E402
from pipeline.criteria import CRITERIA, CriteriaScorer  # noqa: E402
from pipeline.realistic import load_quotes, load_realistic, spearman  # noqa: E402

OUT = ROOT / "benchmarks" / "results"


def out_of_fold_levels(settings: Settings) -> tuple[T.RatedTexts, dict[str, np.ndarray]]:
    """Per criterion, each rated text's expected level from a model fitted without its practice (the shipped C
    and alpha)."""
    card = json.loads((settings.criteria_model_dir / "model_card.json").read_text(encoding="utf-8"))
    rated = T.criteria_training_set(settings)
    scorer = CriteriaScorer(embedder=settings.embedder, threads=settings.threads, model_dir=None,
                            gap_model_dir=settings.criteria_model_dir)
    data = T.criteria_features(scorer, rated.practices, load_quotes())
    expected = {}
    for crit in CRITERIA:
        expected[crit] = np.zeros(len(rated.practices))
        for rows, held in T.cv_folds(rated):
            projection, sentence_model, model = T.fit_criterion(data, rated, crit, rows, card["C"], card["alpha"])
            expected[crit][held] = model.expected_level(T.held_features(data, crit, held, projection, sentence_model))
    return rated, expected


def main() -> dict:
    settings = Settings()
    rated, expected = out_of_fold_levels(settings)
    realistic = [i for i, s in enumerate(rated.sources) if s == "realistic"]
    row = {rated.practices[i].practice_id: i for i in realistic}
    pairs = [(row[a], row[b]) for a, b in load_realistic().pairs() if a in row and b in row]
    partner = {a: b for a, b in pairs} | {b: a for a, b in pairs}
    paired = [i for i in realistic if i in partner]
    result: dict = {"texts": len(realistic), "pairs": len(pairs), "criteria": {}}
    for crit in CRITERIA:
        mean = dict(zip(realistic, rated.mean_reading(crit, realistic)))
        apart = expected[crit]
        shared = apart.copy()
        for i in paired:
            shared[i] = (apart[i] + apart[partner[i]]) / 2
        same = [r_a[crit] == r_b[crit] for a, b in pairs
                for r_a, r_b in zip(rated.ratings[a], rated.ratings[b])]
        result["criteria"][crit] = {
            "readers_same_level": round(float(np.mean(same)), 3),
            "readers_versions_spearman": spearman([mean[a] for a, _ in pairs], [mean[b] for _, b in pairs]),
            "all": {"apart": spearman(apart[realistic], [mean[i] for i in realistic]),
                    "shared": spearman(shared[realistic], [mean[i] for i in realistic])},
            "paired": {"apart": spearman(apart[paired], [mean[i] for i in paired]),
                       "shared": spearman(shared[paired], [mean[i] for i in paired])},
        }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "version_criteria.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    lines = ["# Criteria levels of the versions of one practice", "",
             f"Realistic tune half, out of fold (5 folds by practice): {len(realistic)} texts, {len(pairs)} practices "
             "in two languages. Readers: the share of readings giving both versions one level (each reader with "
             "themself), and the Spearman of the two versions' mean readings. Model: Spearman of the expected level "
             "with the mean reading, each version read apart (as the run does) or given the mean of both versions.", "",
             "| criterion | readers: one level | readers: versions' Spearman | all texts: apart | all texts: shared "
             "| texts in a pair: apart | texts in a pair: shared |",
             "|---|---|---|---|---|---|---|"]
    for crit, r in result["criteria"].items():
        lines.append(f"| {crit} | {r['readers_same_level']:.2f} | {r['readers_versions_spearman']:.2f} | "
                     f"{r['all']['apart']:.3f} | {r['all']['shared']:.3f} | {r['paired']['apart']:.3f} | "
                     f"{r['paired']['shared']:.3f} |")
    lines.append("")
    (OUT / "version_criteria.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return result


if __name__ == "__main__":
    main()
