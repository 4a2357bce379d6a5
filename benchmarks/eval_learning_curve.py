"""How much more rated texts would help the criteria model: its cross-validated Spearman when trained on part of
the realistic tune half.

Grouped 5-fold CV on the tune half (as `pipeline.training.cross_validate_criteria`, the chosen C and alpha), but
each training fold keeps only a share of its practices (both language versions together; the own rated set always
stays in). Every held-out text is scored, so the figures at 100% are the model card's. A curve still rising at
100% says that more rated texts (a new draw, or levels the secretariat reviews in the web app and adds with
`train --criteria --reviews`) would raise the figures; a flat one says they would not by much. No test half is read.

    .venv/bin/python benchmarks/eval_learning_curve.py [--repeats 3] [--criteria modelable context_sensitive]

Writes benchmarks/results/learning_curve.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from pipeline.criteria import CRITERIA, CriteriaScorer  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
SHARES = (0.5, 0.75, 1.0)


def curve(data, rated, crit: str, C: float, alpha: float, repeats: int, seed: int = 0) -> dict:
    """Spearman with the mean reading (all realistic tune texts, and those drawn like published practices) per
    share of training practices kept, averaged over `repeats` draws of the kept practices."""
    from pipeline.realistic import spearman
    from pipeline.training import UNIT_SOURCES, cv_folds, fit_criterion, held_features

    rng = np.random.default_rng(seed)
    realistic = [i for i, s in enumerate(rated.sources) if s == "realistic"]
    published = rated.published_like()
    folds = cv_folds(rated)
    out = {}
    for share in SHARES:
        figures = []
        for _ in range(repeats if share < 1 else 1):
            expected = np.zeros(len(rated.practices))
            for rows, held_rows in folds:
                units = sorted({rated.groups[i] for i in rows if rated.sources[i] == "realistic"})
                kept = set(rng.choice(units, int(round(share * len(units))), replace=False))
                rows = [i for i in rows if rated.sources[i] not in UNIT_SOURCES or rated.groups[i] in kept]
                projection, sentence_model, model = fit_criterion(data, rated, crit, rows, C, alpha)
                expected[held_rows] = model.expected_level(
                    held_features(data, crit, held_rows, projection, sentence_model))
            figures.append((spearman(expected[realistic], rated.mean_reading(crit, realistic)),
                            spearman(expected[published], rated.mean_reading(crit, published))))
        mean = np.mean(figures, axis=0)
        out[str(share)] = {"all": round(float(mean[0]), 3), "published_like": round(float(mean[1]), 3)}
    return out


def main() -> None:
    from pipeline.config import DEFAULT_CRITERIA_MODEL_DIR, DEFAULT_OUTPUT, Settings
    from pipeline.embed import make_embedder
    from pipeline.realistic import load_quotes
    from pipeline.training import criteria_features, criteria_training_set

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="draws of the kept practices per share below 100%%")
    parser.add_argument("--criteria", nargs="*", default=list(CRITERIA), choices=list(CRITERIA))
    args = parser.parse_args()
    card = json.loads((DEFAULT_CRITERIA_MODEL_DIR / "model_card.json").read_text(encoding="utf-8"))
    C, alpha = card["C"], card["alpha"]
    start = time.perf_counter()
    settings = Settings()
    rated = criteria_training_set(settings)
    embedder = make_embedder(settings.embedder, DEFAULT_OUTPUT / ".cache" / "embeddings")
    data = criteria_features(CriteriaScorer(embedder=embedder, model_dir=None, gap_model_dir=settings.criteria_model_dir), rated.practices, load_quotes())
    realistic = [i for i, s in enumerate(rated.sources) if s == "realistic"]
    units = len({rated.groups[i] for i in realistic})
    results = {}
    for crit in args.criteria:
        results[crit] = curve(data, rated, crit, C, alpha, args.repeats)
        print(crit, results[crit], flush=True)
    head = " | ".join(f"{int(float(s) * 100)}%" for s in map(str, SHARES))
    lines = ["# Criteria model: learning curve on the realistic tune half", "",
             f"Grouped 5-fold CV (C={C}, alpha={alpha}); each training fold keeps a share of its practices "
             f"({len(realistic)} texts of {units} practices in all, about {int(units * 0.8)} practices per training "
             f"fold, a practice's language versions together; {args.repeats} draws per share below 100%). Spearman of the out-of-fold expected level with "
             "the mean reading, on all tune texts and on those drawn like published practices.", "",
             f"| criterion | texts | {head} | last quarter |", "|---|---|" + "---|" * len(SHARES) + "---|"]
    for crit, row in results.items():
        for key, name in (("all", "all tune texts"), ("published_like", "drawn like published practices")):
            values = [row[str(s)][key] for s in SHARES]
            lines.append(f"| {crit} | {name} | " + " | ".join(f"{v:.3f}" for v in values)
                         + f" | {values[-1] - values[-2]:+.3f} |")
    lines += ["", f"Run time {time.perf_counter() - start:.0f} s.", ""]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "learning_curve.json").write_text(json.dumps({"C": C, "alpha": alpha, "repeats": args.repeats,
                                                             "units": units, "curve": results}, indent=2) + "\n",
                                                 encoding="utf-8")
    (RESULTS / "learning_curve.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
