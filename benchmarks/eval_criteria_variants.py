"""Other ways to read the criteria, beside the shipped criteria model: grouped CV on the realistic tune half.

Context sensitivity and modelable stay below their target on the test half (`realistic.md`). Each variant below
changes one thing of `icc-practices train --criteria` (at the shipped C and alpha) and is cross-validated as the
training does (5 folds, a practice's language versions together; Spearman of the out-of-fold level with the mean
reading, on all tune texts and on those drawn like published practices, the same with length held fixed, and how
often the first evidence sentence is one a reader quoted):

- `shipped`: the shipped model;
- `section vectors`: the ridge projection reads the mean vector of the sentences in the criterion's own parts
  instead of the whole-text vector;
- `both vectors`: the projection reads both;
- `sentence cues`: the sentence model of readers' quotes also reads which cue groups and structural counts
  (figures, names, years...) a sentence has;
- `gradient boosting` and `random forest`: the same features, read by a non-linear regressor of the level (no
  evidence: they give no per-feature weights);
- `third reading`: the levels the quote readers gave along with their quotes (`quotes/`) join the two readings as
  a third reading of each tune text in fitting (the figures still measure against the two readings);
- `all criteria's features`: the model of a criterion also reads the cue and structural features of the other five
  (a reader of context sensitivity may weigh what a text says of its need or its results; no evidence is scored).

No test half is read. Writes benchmarks/results/criteria_variants.json and .md.

    .venv/bin/python benchmarks/eval_criteria_variants.py
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from pipeline import training as T  # noqa: E402
from pipeline.config import Settings  # noqa: E402
from pipeline.criteria import CRITERIA, CriteriaScorer  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
SEED = 0


def section_vectors(data: T.CriteriaData, crit: str) -> np.ndarray:
    """Per text, the unit mean of the vectors of its sentences in the criterion's parts (or its free prose)."""
    out = np.zeros_like(data.documents)
    for i, vectors in enumerate(data.vectors):
        own = data.places[crit][i][:, :2].sum(axis=1) > 0 if len(vectors) else np.zeros(0, dtype=bool)
        if own.any():
            mean = vectors[own].mean(axis=0)
            out[i] = mean / (np.linalg.norm(mean) or 1.0)
    return out


def with_sentence_cues(data: T.CriteriaData, crit: str) -> T.CriteriaData:
    """The data with each sentence vector followed by 0/1 columns: the sentence has a cue of each group (and each
    structural count) the criterion reads."""
    cols = [k for k, name in enumerate(data.names[crit]) if name.startswith(("hits:", "per100:struct:"))]
    vectors = [np.hstack([v, (share[:, cols] > 0).astype(float)]) if len(v) else v
               for v, share in zip(data.vectors, data.shares[crit])]
    return dataclasses.replace(data, vectors=vectors, cache={})


def with_third_reading(rated: T.RatedTexts) -> T.RatedTexts:
    """The rated texts with the quote readers' levels as a third reading of the realistic tune texts (and of their
    unlabelled copies)."""
    from pipeline.realistic import load_quote_levels

    levels = load_quote_levels()
    out = dataclasses.replace(rated, ratings=[list(r) for r in rated.ratings])
    for i, (p, source) in enumerate(zip(rated.practices, rated.sources)):
        found = levels.get(p.practice_id.removesuffix(T.UNLABELLED_SUFFIX)) if source in T.UNIT_SOURCES else None
        if found:
            out.ratings[i].append(dict(found))
    return out


def with_all_features(data: T.CriteriaData, crit: str) -> T.CriteriaData:
    """The data with the criterion's matrix followed by the other criteria's cue and structural columns (not their
    quoted columns or projection, which are fitted per criterion), before its own projection column."""
    own, names = data.features[crit], list(data.names[crit])
    extra, extra_names = [], []
    for other in CRITERIA:
        if other == crit:
            continue
        fitted = set(data.quoted_columns(other)) | {data.features[other].shape[1] - 1}
        for k, name in enumerate(data.names[other]):
            if k not in fitted and name not in names and name not in ("log_words", "free_prose"):
                extra.append(data.features[other][:, k])
                extra_names.append(f"{other}:{name}")
    features = np.column_stack([own[:, :-1], *extra, own[:, -1]])
    return dataclasses.replace(data, features={**data.features, crit: features},
                               names={**data.names, crit: names[:-1] + extra_names + names[-1:]}, cache={})


def _regressor(name: str):
    from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor

    if name == "gradient boosting":
        return HistGradientBoostingRegressor(max_depth=3, learning_rate=0.05, max_iter=200, min_samples_leaf=20,
                                             random_state=SEED)
    return RandomForestRegressor(n_estimators=300, min_samples_leaf=5, max_features=0.33, random_state=SEED, n_jobs=2)


def cross_validate(data: T.CriteriaData, rated: T.RatedTexts, crit: str, C: float, alpha: float,
                   regressor: str | None = None, fitted_on: T.RatedTexts | None = None, evidence: bool = True) -> dict:
    """Out-of-fold figures against the readings of `rated`; the models are fitted on `fitted_on` (the same texts
    with other readings) when given. `evidence=False`: no first evidence sentence (the sentences' feature shares
    are those of the criterion's own columns)."""
    from pipeline.realistic import partial_spearman, spearman

    fit = fitted_on or rated
    realistic = [i for i, s in enumerate(rated.sources) if s == "realistic"]
    published = rated.published_like()
    expected = np.zeros(len(rated.practices))
    hits = []
    for rows, held in T.cv_folds(rated):
        projection, sentence_model, model = T.fit_criterion(data, fit, crit, rows, C, alpha)
        X = T.held_features(data, crit, held, projection, sentence_model)
        if regressor is None:
            expected[held] = model.expected_level(X)
            for i, level in zip(held, model.predict(X) if evidence else []):
                found = T._first_evidence(data, crit, i, level, model, sentence_model)
                if found:
                    hits.append(found["model"])
            continue
        # the training values of the regressor: the cross-fitted projection and quoted columns, as fitting uses
        train = data.features[crit].copy()
        train[:, -1] = T._cross_fitted_projection(data.documents, rated, crit, rows, alpha)
        quoted, _ = T._cross_fitted_quoted(data, rated, crit, rows)
        train[np.ix_(rows, data.quoted_columns(crit))] = quoted
        Xd, y, w = T._design(train, rated, crit, rows)
        expected[held] = _regressor(regressor).fit(Xd, y, sample_weight=w).predict(X)
    words = [float(rated.practices[i].n_words or 0) for i in realistic]
    ref = rated.mean_reading(crit, realistic)
    return {"spearman": spearman(expected[realistic], ref),
            "published": spearman(expected[published], rated.mean_reading(crit, published)),
            "partial": partial_spearman(expected[realistic], ref, words),
            "evidence": round(float(np.mean(hits)), 3) if hits else None}


def main() -> dict:
    from pipeline.realistic import load_quotes

    start = time.time()
    settings = Settings()
    card = json.loads((settings.criteria_model_dir / "model_card.json").read_text(encoding="utf-8"))
    C, alpha = card["C"], card["alpha"]
    rated = T.criteria_training_set(settings)
    scorer = CriteriaScorer(embedder=settings.embedder, threads=settings.threads, model_dir=None,
                            gap_model_dir=settings.criteria_model_dir)
    data = T.criteria_features(scorer, rated.practices, load_quotes())
    documents = data.documents
    third = with_third_reading(rated)
    variants = ("shipped", "section vectors", "both vectors", "sentence cues", "gradient boosting", "random forest",
                "third reading", "all criteria's features")
    runs: dict[str, dict] = {v: {} for v in variants}
    for crit in CRITERIA:
        sections = section_vectors(data, crit)
        for variant in variants:
            data.documents = {"section vectors": sections,
                              "both vectors": np.hstack([documents, sections]) / np.sqrt(2)}.get(variant, documents)
            data.cache.clear()
            used = {"sentence cues": with_sentence_cues, "all criteria's features": with_all_features}.get(
                variant, lambda d, _: d)(data, crit)
            regressor = variant if variant in ("gradient boosting", "random forest") else None
            runs[variant][crit] = cross_validate(used, rated, crit, C, alpha, regressor,
                                                 fitted_on=third if variant == "third reading" else None,
                                                 evidence=variant != "all criteria's features")
            print(crit, variant, runs[variant][crit], flush=True)
        data.documents = documents
    baselines = T.criteria_baselines(rated)
    result = {"C": C, "alpha": alpha, "runs": runs, "word_count": baselines["word_count"],
              "word_count_published": baselines.get("word_count_published"), "seconds": round(time.time() - start)}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "criteria_variants.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    lines = ["# Criteria model: other ways to read the criteria", "",
             f"Grouped 5-fold CV on the realistic tune half (C={C}, alpha={alpha}; `eval_criteria_variants.py` says "
             "what each variant changes). Per criterion and variant: Spearman on all tune texts / on those drawn like "
             "published practices / with length held fixed, and the first evidence sentence quoted by a reader "
             "(- where a variant gives no evidence). Word count beside it.", "",
             "| criterion | word count | " + " | ".join(variants) + " |", "|---|---|" + "---|" * len(variants)]
    for crit in CRITERIA:
        cells = []
        for variant in variants:
            r = runs[variant][crit]
            evidence = "-" if r["evidence"] is None else f"{r['evidence']:.2f}"
            cells.append(f"{r['spearman']:.3f} / {r['published']:.3f} / {r['partial']:.3f} / {evidence}")
        wc_pub = result["word_count_published"] or {}
        lines.append(f"| {crit} | {result['word_count'][crit]:.3f} / {wc_pub.get(crit, float('nan')):.3f} | "
                     + " | ".join(cells) + " |")
    lines += ["", f"Run time {result['seconds']} s."]
    (RESULTS / "criteria_variants.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return result


if __name__ == "__main__":
    main()
