"""Action-area suggestions: a practice encoder and an area model on arrays, composed as a two-step pipeline.

The classifier is `encode` then `areas`:
- the practice encoder turns practices into arrays: the practice embedding (mean of its sentence vectors),
  the area names a practice's sentences use, and a zero-shot prior, one z-score per area code: how close the
  practice and its best sentences are to the area's prototypes (names, descriptions, examples and short
  prototype sentences in French and English, from resources/areas.yaml);
- the area model works on those arrays. Per code, a one-vs-rest logistic regression on the embedding, calibrated
  by `CalibratedClassifierCV`, is blended with the calibrated prior in proportion to the labels the code has, so
  rare areas lean on the prior. A threshold per code comes from out-of-fold probabilities. The suggested set is
  the main area plus further areas that pass their threshold and reach a share of the main area's probability
  (readers add an area only for substantial work, so an area far below the main one is usually a passing
  mention; sub-areas of a suggested area need only their threshold), at most `max_suggested` top-level areas in
  all unless one is very likely. The main area is its own decision: a multinomial logistic regression over the
  16 areas, on the per-area probabilities and the prior, trained on out-of-fold values (or, without main labels,
  the likeliest area).

This module predicts, on numpy alone: `FittedPracticeEncoder` and `FittedAreaModel` hold what prediction needs
and are what a saved model reads back into, so a cold `check` does not import scikit-learn. Fitting is in
pipeline/estimators.py (`PracticeEncoder`, `AreaModel`, `make_area_classifier`: scikit-learn estimators that
extend these classes); training, evaluation and model cards in pipeline/training.py and pipeline/evaluation.py.
`area_stage` is what the batch run calls: it returns the areas.parquet table and one `AreaSuggestion` per practice.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from pipeline.config import SEED, AreaSettings, Settings
from pipeline.embed import l2_normalise, split_sentences
from pipeline.normalize import FIGURE_CELL, fold
from pipeline.ordinal import as_features
from pipeline.records import Practice
from pipeline.tables import atomic_write_bytes
from pipeline.taxonomy import load_taxonomy

if TYPE_CHECKING:
    import pyarrow as pa

MODEL_FORMAT = 3
_STAGE_BATCH = 512  # practices predicted at once by the area stage
_COLD_CALIBRATION = AreaSettings().cold_calibration  # cold start: about the two best areas of a practice pass 0.5


# ----------------------------------------------------------------------------- encoding


@dataclass
class EncodedPractices:
    """Embeddings of a batch of practices: one document vector each, plus their sentences."""

    docs: np.ndarray  # (n, dim), L2-normalised
    sentences: list[list[str]]
    sentence_vectors: list[np.ndarray]  # each (n_sentences_i, dim)

    def __len__(self) -> int:
        return self.docs.shape[0]

    def subset(self, index: Sequence[int]) -> "EncodedPractices":
        index = list(index)
        return EncodedPractices(self.docs[index], [self.sentences[i] for i in index],
                                [self.sentence_vectors[i] for i in index])


def practice_sentences(practice: Practice | str) -> list[str]:
    """The sentences a practice is judged on: title and objective first, then the description sections."""
    if isinstance(practice, str):
        return split_sentences(practice) or [practice]
    out: list[str] = []
    for head in (practice.title, practice.main_objective):
        if head and head.strip():
            out.append(" ".join(head.split()))
    sections = [getattr(practice, name) for name in ("purpose", "starting_point", "process", "impact")]
    # prose beside labelled parts counts too (a form may label only its impact); references are left out
    body = [s for s in [practice.unlabelled_prose(), *sections] if s] if any(sections) else [practice.description or ""]
    for text in body:
        out.extend(split_sentences(text))
    seen: set[str] = set()
    unique = [s for s in out if not (s in seen or seen.add(s))]
    # a budget's cells say what the money went to, not what the practice is about
    cells = table_cells(unique) | np.array([_is_figure_cell(s) for s in unique], dtype=bool)
    unique = [s for s, cell in zip(unique, cells) if not cell] if not cells.all() else unique
    return unique or [practice.full_text() or " "]


def encode_practices(practices: Sequence[Practice | str], embedder) -> EncodedPractices:
    """Embed every sentence once (the cache makes re-runs free); a document is the mean of its sentences.

    Title and objective count twice: they state what the practice is about in a few words.
    """
    sentences = [practice_sentences(p) for p in practices]
    flat = [s for group in sentences for s in group]
    dim = int(embedder.dim)
    matrix = embedder.encode(flat) if flat else np.zeros((0, dim), dtype=np.float32)
    vectors: list[np.ndarray] = []
    docs = np.zeros((len(sentences), matrix.shape[1] if matrix.size else dim), dtype=np.float32)
    start = 0
    for i, (practice, group) in enumerate(zip(practices, sentences)):
        block = matrix[start:start + len(group)]
        start += len(group)
        vectors.append(block)
        n_head = 0 if isinstance(practice, str) else sum(1 for h in (practice.title, practice.main_objective) if h and h.strip())
        weights = np.ones(len(group), dtype=np.float32)
        weights[:n_head] = 2.0
        docs[i] = weights @ block
    return EncodedPractices(l2_normalise(docs), sentences, vectors)


def _embedder_from_spec(spec: str):
    from pipeline.registry import shared_embedder

    return shared_embedder(spec)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


def _codes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Area codes, their parents, and a mask of the top-level ones."""
    taxonomy = load_taxonomy()
    classes = np.array(taxonomy.codes)
    parents = np.array([taxonomy.parent(c) for c in taxonomy.codes])
    return classes, parents, parents == classes


def _parent_max(values: np.ndarray, classes: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """A parent column is at least as high as its highest sub-area (a sub-area implies its parent)."""
    out = np.array(values, dtype=float, copy=True)
    index = {c: j for j, c in enumerate(classes)}
    for j, parent in enumerate(parents):
        if parent != classes[j]:
            p = index[parent]
            out[:, p] = np.maximum(out[:, p], out[:, j])
    return out


def area_keyword_terms(classes: Sequence[str]) -> list[list[str]]:
    """Per code, the folded short names, aliases and keywords of resources/areas.yaml (four letters or more)."""
    taxonomy = load_taxonomy()
    out = []
    for code in classes:
        area = taxonomy.areas[str(code)]
        out.append(sorted({fold(t) for t in (*area.short, *area.aliases, *area.keywords) if len(t) > 3}))
    return out


_WORD_START = re.compile(r"\b\w")


@lru_cache(maxsize=8)
def _keyword_index(terms: tuple[tuple[str, ...], ...]) -> dict[str, list[tuple[str, list[int]]]]:
    """Terms by their first three letters, longest first, each with its codes: where a word starts, the first
    term of its three letters that the text continues with is the one found (like a regex alternation, without
    trying several hundred alternatives at every word)."""
    owners: dict[str, list[int]] = {}
    for j, code_terms in enumerate(terms):
        for term in code_terms:
            owners.setdefault(term, []).append(j)
    index: dict[str, list[tuple[str, list[int]]]] = {}
    for term in sorted(owners, key=lambda t: (-len(t), t)):
        index.setdefault(term[:3], []).append((term, owners[term]))
    return index


# ----------------------------------------------------------------------------- the encoder


class FittedPracticeEncoder:
    """Practices (or texts) -> [practice embedding | area names found | zero-shot prior z-score per area code].

    Parameters
    - embedder: an embedder object (with .encode, .dim, .model_id) or a spec string for make_embedder;
      None gives no prior (an array input is then passed through with zero prior columns).
    - top_sentences: best sentences averaged in the sentence part of the prior.
    - keyword_scale: weight of the area-name columns (per code, the sentences naming one of the area's short names,
      aliases or keywords in resources/areas.yaml, over the square root of the number of sentences); 0 leaves
      them out.
      The embedding mixes a practice's strands into one vector; a named strand ("anti-rumour", "médiation")
      tells the supervised models which further areas the text works in.
    """

    def __init__(self, embedder="use-multilingual", top_sentences: int = 3, keyword_scale: float = 0.3):
        self.embedder = embedder
        self.top_sentences = top_sentences
        self.keyword_scale = keyword_scale

    def _embedder(self):
        if self.embedder is None:
            return None
        return _embedder_from_spec(self.embedder) if isinstance(self.embedder, str) else self.embedder

    def _check_fitted(self) -> None:
        if not hasattr(self, "classes_"):
            raise ValueError("The practice encoder is not fitted yet: call fit.")

    def encode(self, X) -> EncodedPractices:
        """Sentences and vectors of the practices (arrays of document embeddings are taken as they are)."""
        if isinstance(X, EncodedPractices):
            return X
        if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
            raise TypeError("Sparse input is not supported: give practices, texts or dense document embeddings.")
        if isinstance(X, np.ndarray) or (len(X) and not isinstance(X[0], (Practice, str, dict))):
            docs = np.asarray(X, dtype=np.float64)
            if docs.ndim != 2:
                raise ValueError(f"Expected a 2-D array of document embeddings, got shape {docs.shape}.")
            return EncodedPractices(docs.astype(np.float32), [[] for _ in range(len(docs))],
                                    [np.zeros((0, docs.shape[1]), np.float32) for _ in range(len(docs))])
        embedder = self._embedder()
        if embedder is None:
            raise ValueError("Practices or texts need an embedder; pass embedder= or give an array of embeddings.")
        items = [Practice.from_dict(x) if isinstance(x, dict) else x for x in X]
        return encode_practices(items, embedder)

    def transform(self, X) -> np.ndarray:
        self._check_fitted()
        enc = self.encode(X)
        parts = [enc.docs.astype(np.float64)]
        if self.keyword_terms_ is not None:
            parts.append(self.keyword_scale * self.keyword_hits(enc))
        if self.prototype_vectors_ is not None:
            prior = self.prior(enc)
            if prior is None:  # document embeddings of another size than the prototypes
                prior = np.zeros((len(enc), len(self.classes_)))
            parts.append(prior)
        return np.hstack(parts)

    def n_features_out(self, dim: int) -> int:
        """Width of `transform`'s output for document vectors of `dim` dimensions."""
        k = len(self.classes_)
        return dim + k * (self.keyword_terms_ is not None) + k * (self.prototype_vectors_ is not None)

    def sentence_keywords(self, sentences: Sequence[str]) -> np.ndarray:
        """(n_sentences, n_codes): 1 where a sentence names one of the code's terms."""
        index = _keyword_index(tuple(tuple(t) for t in self.keyword_terms_))
        out = np.zeros((len(sentences), len(self.classes_)))
        for i, sentence in enumerate(sentences):
            text = fold(sentence)
            for word in _WORD_START.finditer(text):
                start = word.start()
                for term, codes in index.get(text[start:start + 3], ()):
                    if text.startswith(term, start):
                        out[i, codes] = 1.0
                        break
        return out

    def keyword_hits(self, enc: EncodedPractices) -> np.ndarray:
        """(n, n_codes): per code, the sentences that name one of its terms, over sqrt(number of sentences)."""
        out = np.zeros((len(enc), len(self.classes_)))
        for i, sentences in enumerate(enc.sentences):
            if sentences:
                out[i] = self.sentence_keywords(sentences).sum(axis=0) / np.sqrt(len(sentences))
        return out

    def _centroids(self) -> np.ndarray:
        cent = np.zeros((len(self.classes_), self.prototype_vectors_.shape[1]), dtype=np.float32)
        np.add.at(cent, self.prototype_owner_, self.prototype_vectors_)
        return l2_normalise(cent)

    def sentence_area_similarity(self, sentence_vectors: np.ndarray) -> np.ndarray:
        """(n_sentences, n_codes): each sentence's best similarity to the code's prototypes."""
        per_proto = sentence_vectors @ self.prototype_vectors_.T
        # Prototypes are stored grouped by code, so a max over each contiguous run gives the code's score.
        starts = np.flatnonzero(np.r_[True, np.diff(self.prototype_owner_) != 0])
        out = np.full((len(sentence_vectors), len(self.classes_)), -1.0, dtype=np.float32)
        out[:, self.prototype_owner_[starts]] = np.maximum.reduceat(per_proto, starts, axis=1)
        return out

    def prior(self, enc: EncodedPractices) -> np.ndarray | None:
        """Per-practice z-scores of prototype similarity across codes (None without prototypes).

        Half from the practice vector against each code's centroid, half from its best-matching sentences;
        the z-score makes practices with different overall similarity comparable.
        """
        if self.prototype_vectors_ is None or enc.docs.shape[1] != self.prototype_vectors_.shape[1]:
            return None
        doc_sim = enc.docs @ self._centroids().T
        raw = np.empty_like(doc_sim)
        for i, sv in enumerate(enc.sentence_vectors):
            if len(sv) == 0:
                raw[i] = doc_sim[i]
                continue
            top = np.sort(self.sentence_area_similarity(sv), axis=0)[::-1][: self.top_sentences]
            raw[i] = 0.5 * doc_sim[i] + 0.5 * top.mean(axis=0)
        mu = raw.mean(axis=1, keepdims=True)
        sd = raw.std(axis=1, keepdims=True) + 1e-6
        return (raw - mu) / sd


# ----------------------------------------------------------------------------- the model on arrays


class FittedAreaModel:
    """Multi-label areas and a main area, on arrays [embedding | prior z-score per code (n_prior columns)].

    Parameters (those of fitting are used by `AreaModel` in pipeline/estimators.py)
    - mode: "blend" (default), "prior" (zero-shot only) or "supervised" (no prior).
    - n_prior: trailing columns of X holding the prior (one per code); 0 for plain embeddings.
    - prior_strength: pseudo-count of the prior in the blend; the supervised weight is n / (n + prior_strength).
    - C: inverse regularisation of the logistic regressions.
    - n_splits: folds for calibration, out-of-fold probabilities and threshold tuning.
    - min_positives: fewest labelled practices a code needs to get its own supervised model.
    - threshold_shrinkage: pseudo-count pulling a code's threshold toward the pooled one.
    - max_suggested: most top-level areas suggested (the main area and further ones), unless more reach `strong`.
    - strong: probability above which an area is suggested whatever the cap.
    - threshold_scale: factor on every code's threshold in the set decision (the thresholds maximise F1 per code;
      the set is judged per practice, which favours a lower bar once the share of the main area applies).
    - relative_to_main: share of the main area's probability a further top-level area must reach (0 = no such
      rule); a sub-area of a suggested area needs only its own threshold.
    - main_model: rank the main area with its own multinomial model (when main labels exist).
    - main_C: inverse regularisation of that model.
    - random_state: seed of the folds.
    """

    def __init__(self, mode: str = "blend", n_prior: int = 0, prior_strength: float = 8.0, C: float = 2.0,
                 n_splits: int = 5, min_positives: int = 3, threshold_shrinkage: float = 4.0, max_suggested: int = 3,
                 strong: float = 0.8, threshold_scale: float = 1.0, relative_to_main: float = 0.0,
                 main_model: bool = True, main_C: float = 1.0, cold_calibration: tuple[float, float] = _COLD_CALIBRATION,
                 random_state: int = SEED):
        self.mode = mode
        self.n_prior = n_prior
        self.prior_strength = prior_strength
        self.C = C
        self.n_splits = n_splits
        self.min_positives = min_positives
        self.threshold_shrinkage = threshold_shrinkage
        self.max_suggested = max_suggested
        self.strong = strong
        self.threshold_scale = threshold_scale
        self.relative_to_main = relative_to_main
        self.main_model = main_model
        self.main_C = main_C
        self.cold_calibration = cold_calibration
        self.random_state = random_state

    # -- inputs

    def _split(self, X) -> tuple[np.ndarray, np.ndarray | None]:
        X = np.asarray(X, dtype=np.float64)
        if self.n_prior:
            return X[:, : X.shape[1] - self.n_prior], X[:, X.shape[1] - self.n_prior:]
        return X, None

    def _prior_proba(self, prior_z) -> np.ndarray | None:
        if prior_z is None or self.mode == "supervised":
            return None
        a, b = self.prior_calibration_
        return _sigmoid(a * prior_z + b)

    def _supervised_proba(self, emb: np.ndarray) -> np.ndarray | None:
        if not self.supervised_.any():
            return None
        out = np.full((len(emb), len(self.classes_)), np.nan)
        for j in np.flatnonzero(self.supervised_):
            t = self.n_members_[j]
            decision = emb @ self.sup_coef_[j, :t].T + self.sup_intercept_[j, :t]
            # sklearn's sigmoid calibration: p = 1 / (1 + exp(a * f + b)), averaged over the fold models
            out[:, j] = _sigmoid(-(self.cal_a_[j, :t] * decision + self.cal_b_[j, :t])).mean(axis=1)
        return out

    def _weights(self) -> np.ndarray:
        """Share of the supervised model in each code's probability."""
        if self.mode == "supervised" or not self.n_prior:
            return self.supervised_.astype(float)
        if self.mode == "prior":
            return np.zeros(len(self.classes_))
        n = self.n_positives_.astype(float)
        return np.where(self.supervised_, n / (n + self.prior_strength), 0.0)

    def _blend(self, sup: np.ndarray | None, prior: np.ndarray | None, n: int) -> np.ndarray:
        w = self._weights()
        sup = np.zeros((n, len(self.classes_))) if sup is None else np.nan_to_num(sup)
        prior = np.zeros((n, len(self.classes_))) if prior is None else prior
        return _parent_max(w * sup + (1.0 - w) * prior, self.classes_, self.parents_)

    def _main_features(self, proba: np.ndarray, prior_z) -> np.ndarray:
        top = self.top_level_
        logit = np.log(np.clip(proba[:, top], 1e-4, 1 - 1e-4) / (1 - np.clip(proba[:, top], 1e-4, 1 - 1e-4)))
        if prior_z is None:
            return logit
        return np.hstack([logit, _parent_max(prior_z, self.classes_, self.parents_)[:, top]])

    # -- prediction

    def _check_fitted(self) -> None:
        if not hasattr(self, "thresholds_"):
            raise ValueError("The area model is not fitted yet: call fit (with no labels for zero-shot).")

    def predict_proba(self, X) -> np.ndarray:
        """Probability of each area code (columns follow `classes_`)."""
        self._check_fitted()
        emb, prior_z = self._split(as_features(self, X))
        return self._blend(self._supervised_proba(emb), self._prior_proba(prior_z), len(emb))

    def main_proba(self, X, proba: np.ndarray | None = None) -> np.ndarray:
        """Probability that each top-level area is the main one (columns follow `main_classes_`)."""
        proba = self.predict_proba(X) if proba is None else proba
        top = proba[:, self.top_level_]
        if self.main_coef_ is None:
            return top / np.maximum(top.sum(axis=1, keepdims=True), 1e-12)
        _, prior_z = self._split(X)
        prior_z = None if self.mode == "supervised" else prior_z
        scores = self._main_features(proba, prior_z) @ self.main_coef_.T + self.main_intercept_
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return scores / scores.sum(axis=1, keepdims=True)

    def rank_main(self, X, proba: np.ndarray | None = None) -> list[list[str]]:
        """Top-level areas of each practice, likeliest main area first."""
        p = self.main_proba(X, proba)
        return [[str(self.main_classes_[j]) for j in np.argsort(-row, kind="stable")] for row in p]

    def decide(self, proba: np.ndarray, main: Sequence[str] | None = None) -> np.ndarray:
        """Indicator matrix of suggested codes: the main area, then further codes above their (scaled) threshold,
        top-level ones also at least `relative_to_main` times the main area's probability; at most `max_suggested`
        top-level areas in all unless more reach `strong`; sub-areas only under a suggested parent."""
        self._check_fitted()
        index = {c: j for j, c in enumerate(self.classes_)}
        suggested = proba >= self.thresholds_ * self.threshold_scale
        for i in range(len(proba)):
            best = main[i] if main is not None else self.classes_[self.top_level_][np.argmax(proba[i, self.top_level_])]
            b = index[str(best)]
            # a sub-area refines a suggested parent: it needs its own threshold, not a share of the main area
            suggested[i] &= (proba[i] >= self.relative_to_main * proba[i, b]) | ~self.top_level_
            further = [j for j in np.argsort(-proba[i], kind="stable") if self.top_level_[j] and suggested[i, j] and j != b]
            for r, j in enumerate(further):
                if r >= self.max_suggested - 1 and proba[i, j] < self.strong:
                    suggested[i, j] = False
            suggested[i, b] = True
            for j, parent in enumerate(self.parents_):
                if parent != self.classes_[j] and suggested[i, j] and not suggested[i, index[parent]]:
                    suggested[i, j] = False  # a sub-area only under a suggested parent
        return suggested.astype(np.int8)

    def predict(self, X) -> np.ndarray:
        proba = self.predict_proba(X)
        return self.decide(proba, [r[0] for r in self.rank_main(X, proba)])

    def directions(self, n_dims: int | None = None) -> np.ndarray | None:
        """Each supervised code's mean logistic-regression direction over the first `n_dims` features (the
        embedding, for evidence; all features by default)."""
        if not self.supervised_.any():
            return None
        n_dims = self.sup_coef_.shape[2] if n_dims is None else min(n_dims, self.sup_coef_.shape[2])
        out = np.zeros((len(self.classes_), n_dims))
        for j in np.flatnonzero(self.supervised_):
            out[j] = self.sup_coef_[j, : self.n_members_[j], :n_dims].mean(axis=0)
        return l2_normalise(out)


class FittedAreaClassifier:
    """A fitted encoder and area model, as a saved model reads back: steps named like the scikit-learn `Pipeline`
    of `make_area_classifier` (`encode`, `areas`), so that prediction takes either."""

    def __init__(self, encoder: FittedPracticeEncoder, model: FittedAreaModel):
        self.named_steps = {"encode": encoder, "areas": model}


if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

    # a saved model read back, or the scikit-learn pipeline of pipeline/estimators.py (same named steps)
    AreaClassifier = FittedAreaClassifier | Pipeline



@dataclass
class AreaPredictions:
    """What the area classifier says about a batch of practices (rows follow the practices)."""

    classes: list[str]
    proba: np.ndarray  # (n, n_codes)
    suggested: np.ndarray  # (n, n_codes) indicator
    main_ranking: list[list[str]]  # top-level areas, likeliest main area first
    evidence: list[list[str | None]]  # (n, n_codes) supporting sentence
    main_classes: list[str] = field(default_factory=list)  # top-level areas, the columns of `main_proba`
    main_proba: np.ndarray | None = None  # (n, n_top) chance of each top-level area being the main one

    def ranked(self, i: int) -> list[str]:
        """Suggested codes of practice i, main area first, then by probability."""
        order = [self.classes[j] for j in np.argsort(-self.proba[i], kind="stable") if self.suggested[i, j]]
        main = self.main_ranking[i][0]
        return [main] + [c for c in order if c != main]


def predict_areas(classifier: AreaClassifier, practices: Sequence[Practice | str] | EncodedPractices) -> AreaPredictions:
    """Probabilities, suggestions, the main-area ranking and evidence for practices, with one encoding."""
    encoder, model = classifier.named_steps["encode"], classifier.named_steps["areas"]
    enc = encoder.encode(practices)
    X = encoder.transform(enc)
    proba = model.predict_proba(X)
    main_proba = model.main_proba(X, proba)
    ranking = [[str(model.main_classes_[j]) for j in np.argsort(-row, kind="stable")] for row in main_proba]
    suggested = model.decide(proba, [r[0] for r in ranking])
    return AreaPredictions([str(c) for c in model.classes_], proba, suggested, ranking, area_evidence(classifier, enc),
                           [str(c) for c in model.main_classes_], main_proba)


MIN_EVIDENCE_WORDS = 3
_WORDS = re.compile(r"[^\W\d_]{2,}")
_LIST_NUMBER = re.compile(r"\d{1,2}[.)]")  # "2." before a list item, split from it


def _table_line(text: str) -> bool:
    """A row written on one line with bars: a bar and a figure on one line ("Formation | 8 000 €"). Read line by
    line, as a pattern tried from each digit of a long number took time growing with the square of its length."""
    return any("|" in line and any(ch.isdigit() for ch in line) for line in text.split("\n"))


def _is_figure_cell(text: str) -> bool:
    """A cell that is a figure only ("8 000 €"), not the number of a list item ("2.") split from it."""
    return bool(FIGURE_CELL.fullmatch(text.strip())) and not _LIST_NUMBER.fullmatch(text.strip())


def table_cells(sentences: Sequence[str]) -> np.ndarray:
    """Sentences that are cells of a table of figures (a budget, a timetable): a few words, not a sentence,
    beside a cell that is only a figure ("Formation des enseignants" above "8 000 €"), or a row written on one line
    with bars. They name a cost or a date, not what the practice does."""
    figures = [_is_figure_cell(text) for text in sentences]
    out = np.zeros(len(sentences), dtype=bool)
    for i, text in enumerate(sentences):
        beside = (i > 0 and figures[i - 1]) or (i + 1 < len(sentences) and figures[i + 1])
        cell = len(text.split()) <= 8 and not text.rstrip().endswith((".", "!", "?"))
        out[i] = (beside and cell) or _table_line(text)
    return out


def area_evidence(classifier: AreaClassifier, enc: EncodedPractices) -> list[list[str | None]]:
    """For each practice and code, the sentence that supports the code most.

    Support mixes the sentence's best prototype similarity (the prior's view) and its alignment with the code's
    logistic-regression direction over the embedding (the supervised view), weighted like the blend; a sentence
    that names one of the code's terms gets a little more.
    """
    encoder, model = classifier.named_steps["encode"], classifier.named_steps["areas"]
    w = model._weights()
    directions = model.directions(n_dims=enc.docs.shape[1])
    k = len(model.classes_)
    out: list[list[str | None]] = []
    for sentences, sv in zip(enc.sentences, enc.sentence_vectors):
        if len(sv) == 0:
            out.append([None] * k)
            continue
        support = np.zeros((len(sv), k))
        if encoder.prototype_vectors_ is not None and sv.shape[1] == encoder.prototype_vectors_.shape[1]:
            support += (1 - w) * encoder.sentence_area_similarity(sv)
        if directions is not None and sv.shape[1] == directions.shape[1]:
            support += w * (sv @ directions.T)
        if encoder.keyword_terms_ is not None:
            support += 0.1 * encoder.sentence_keywords(sentences)
        # A fragment ("Le" cut off by a PDF line break, a list number "2.") is no evidence to show.
        fragments = np.array([len(_WORDS.findall(text)) < MIN_EVIDENCE_WORDS for text in sentences])
        fragments |= table_cells(sentences)
        if not fragments.all():
            support[fragments] = -np.inf
        # The title and objective would win too often; prefer a sentence of the description when there is one.
        body = 2 if len(sentences) > 3 and not fragments[2:].all() else 0
        best = support[body:].argmax(axis=0) + body
        out.append([sentences[i] for i in best])
    return out


# ----------------------------------------------------------------------------- persistence (no pickle)


def save_area_classifier(classifier: AreaClassifier, model_dir: Path, extra: dict | None = None) -> None:
    """Arrays in model.npz, everything else in model.json."""
    encoder, model = classifier.named_steps["encode"], classifier.named_steps["areas"]
    model._check_fitted()
    arrays = {
        "sup_coef": model.sup_coef_.astype(np.float32), "sup_intercept": model.sup_intercept_, "cal_a": model.cal_a_,
        "cal_b": model.cal_b_, "n_members": model.n_members_, "supervised": model.supervised_,
        "thresholds": model.thresholds_, "n_positives": model.n_positives_,
    }
    if model.main_coef_ is not None:
        arrays["main_coef"], arrays["main_intercept"] = model.main_coef_, model.main_intercept_
    if encoder.prototype_vectors_ is not None:
        arrays["prototype_vectors"] = encoder.prototype_vectors_
        arrays["prototype_owner"] = encoder.prototype_owner_
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(Path(model_dir) / "model.npz", buf.getvalue())
    meta = {
        "format": MODEL_FORMAT,
        "encoder": {"top_sentences": encoder.top_sentences, "keyword_scale": encoder.keyword_scale},
        "keyword_terms": encoder.keyword_terms_, "params": model.get_params(),
        "classes": [str(c) for c in model.classes_], "embedder_id": encoder.embedder_id_,
        "n_features_in": int(model.n_features_in_), "n_train": int(model.n_train_),
        "prior_calibration": list(model.prior_calibration_), "threshold_source": model.threshold_source_,
        "pooled_threshold": float(model.pooled_threshold_), **(extra or {}),
    }
    atomic_write_bytes(Path(model_dir) / "model.json", (json.dumps(meta, indent=2) + "\n").encode("utf-8"))


def load_area_classifier(model_dir: Path, embedder=None) -> FittedAreaClassifier:
    model_dir = Path(model_dir)
    meta = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))
    if meta.get("format") != MODEL_FORMAT:
        raise ValueError(f"Unsupported model format {meta.get('format')} in {model_dir}")
    encoder = FittedPracticeEncoder(embedder=embedder, **meta["encoder"])
    model = FittedAreaModel(**meta["params"])
    classes, parents, top = _codes()
    if list(classes) != meta["classes"]:
        raise ValueError(f"The model in {model_dir} was trained on other area codes than resources/areas.yaml")
    with np.load(model_dir / "model.npz") as data:
        model.sup_coef_ = data["sup_coef"].astype(np.float64)
        for name in ("sup_intercept", "cal_a", "cal_b", "n_members", "thresholds", "n_positives"):
            setattr(model, name + "_", data[name])
        model.supervised_ = data["supervised"].astype(bool)
        model.main_coef_ = data["main_coef"] if "main_coef" in data.files else None
        model.main_intercept_ = data["main_intercept"] if "main_intercept" in data.files else None
        encoder.prototype_vectors_ = data["prototype_vectors"] if "prototype_vectors" in data.files else None
        encoder.prototype_owner_ = data["prototype_owner"] if "prototype_owner" in data.files else None
    encoder.classes_, encoder.parents_ = classes, parents
    encoder.keyword_terms_ = meta["keyword_terms"]
    encoder.embedder_id_ = meta["embedder_id"]
    model.classes_, model.parents_, model.top_level_ = classes, parents, top
    model.main_classes_ = classes[top]
    model.n_features_in_ = meta["n_features_in"]
    model.n_train_ = meta["n_train"]
    model.prior_calibration_ = tuple(meta["prior_calibration"])
    model.threshold_source_ = meta["threshold_source"]
    model.pooled_threshold_ = meta["pooled_threshold"]
    return FittedAreaClassifier(encoder, model)


# ----------------------------------------------------------------------------- the stage


@dataclass(frozen=True)
class AreaSuggestion:
    """The area columns of practices.parquet for one practice."""

    practice_id: str
    predicted_areas: list[str]
    main_area_pred: str
    area_mismatch: bool
    # chance of each top-level area being the main one: what versions of one practice share (`harmonise_versions`)
    main_scores: dict[str, float] = field(default_factory=dict, compare=False, repr=False)
    # probability of each area and sub-area, as areas.parquet gives it
    probabilities: dict[str, float] = field(default_factory=dict, compare=False, repr=False)


def harmonise_versions(suggestions: Sequence[AreaSuggestion], practices: Sequence[Practice],
                       keys: dict[str, str], settings: Settings) -> list[AreaSuggestion]:
    """The area columns with one main area for all forms of one practice (`keys`: each id's practice, as
    `similar.version_keys` gives them): the likeliest by the mean of their main-area chances.

    Readers give the two language versions of a practice one main area (196 of the 198 readings of the realistic
    tune half's pairs); read apart, one pair in five got two (`benchmarks/results/version_areas.md`: out of fold,
    paired texts 0.833 -> 0.843). Each form keeps its own further areas (one whose own text ranked another area
    first keeps that area among them), and the mismatch with its declared area is read against the shared
    ranking."""
    by_practice = {p.practice_id: p for p in practices}
    groups: dict[str, list[AreaSuggestion]] = {}
    for s in suggestions:
        groups.setdefault(keys.get(s.practice_id, s.practice_id), []).append(s)
    out: dict[str, AreaSuggestion] = {}
    for members in groups.values():
        if len(members) < 2 or not all(m.main_scores for m in members):
            out.update({m.practice_id: m for m in members})
            continue
        codes = list(members[0].main_scores)
        mean = {c: sum(m.main_scores.get(c, 0.0) for m in members) / len(members) for c in codes}
        ranking = sorted(codes, key=lambda c: -mean[c])  # stable: ties keep the model's order
        main = ranking[0]
        for m in members:
            areas = _with_main(m.predicted_areas, main)
            mismatch = declared_area_mismatch(by_practice[m.practice_id], mean, m.probabilities, areas, settings) \
                if m.practice_id in by_practice else m.area_mismatch
            out[m.practice_id] = AreaSuggestion(m.practice_id, areas, main, mismatch, mean, m.probabilities)
    return [out[s.practice_id] for s in suggestions]


def _with_main(areas: list[str], main: str) -> list[str]:
    """A form's suggested codes with `main` first and as many top-level areas as the model gave it: a main area
    it did not suggest takes the place of its least likely top-level area (and that area's sub-areas), which for
    a form with one area is the area its own text put first."""
    taxonomy = load_taxonomy()
    family = lambda code: taxonomy.parent(code) if code in taxonomy.areas else code  # noqa: E731
    top = [c for c in areas if family(c) == c]
    if main in areas or not top:
        return [main, *(c for c in areas if c != main)]
    return [main, *(c for c in areas if family(c) != top[-1])]


def with_suggested_as_listed(table: "pa.Table", suggestions: Sequence[AreaSuggestion]) -> "pa.Table":
    """areas.parquet with `suggested` set as `predicted_areas` lists them for the practices given: a main area
    shared with a practice's other versions may be one its own text did not suggest (and another area made way
    for it), and the two tables must agree."""
    import pyarrow as pa

    listed = {s.practice_id: set(s.predicted_areas) for s in suggestions}
    flags = table.column("suggested").to_pylist()
    changed = False
    for k, (practice_id, area) in enumerate(zip(table.column("practice_id").to_pylist(), table.column("area").to_pylist())):
        if practice_id in listed and flags[k] != (area in listed[practice_id]):
            flags[k], changed = not flags[k], True
    if not changed:
        return table
    return table.set_column(table.schema.get_field_index("suggested"), table.schema.field("suggested"),
                            pa.array(flags, type=pa.bool_()))


def load_or_zero_shot(settings: Settings, embedder) -> tuple[AreaClassifier, str]:
    """The shipped model when it was trained with this embedder, else the zero-shot classifier (and why)."""
    model_dir = Path(settings.model_dir)
    reason = f"no trained model in {model_dir}"
    if (model_dir / "model.json").exists():
        try:
            model = load_area_classifier(model_dir, embedder=embedder)
            encoder = model.named_steps["encode"]
            if encoder.embedder_id_ == embedder.model_id and model.named_steps["areas"].n_features_in_ == encoder.n_features_out(embedder.dim):
                return model, f"area-classifier:{model_tag(model_dir)}:{embedder.model_id}"
            reason = f"model trained with {encoder.embedder_id_}, not {embedder.model_id}"
        except (OSError, ValueError, KeyError) as exc:
            reason = f"model unreadable ({type(exc).__name__}: {exc})"
    from pipeline.estimators import zero_shot_classifier

    return zero_shot_classifier(embedder, settings.areas.cold_calibration), f"area-classifier:zero-shot:{embedder.model_id} ({reason})"


def model_tag(model_dir: Path) -> str:
    """The first 12 hex digits of the saved model's own files: two models fitted on the same data differ."""
    digest = hashlib.sha256()
    for name in ("model.json", "model.npz"):
        try:
            digest.update((model_dir / name).read_bytes())
        except OSError:
            return "trained"
    return digest.hexdigest()[:12]


def likely_enough(probability: float, settings: Settings) -> bool:
    """Whether an area is likely enough to be shown with its sentence and not called unlikely
    (`areas.mismatch_min_probability`), compared as shown, to two decimals: 0.1991 is shown 0.20."""
    return round(probability, 2) >= settings.areas.mismatch_min_probability


def declared_area_mismatch(practice: Practice, main_scores: dict[str, float], probabilities: dict[str, float],
                           suggested: Sequence[str], settings: Settings) -> bool:
    """Whether none of the areas the city declared is one its text is likely about: suggested, with a probability
    of at least `areas.mismatch_min_probability`, or among the `area_top_n_for_mismatch` likeliest main areas
    with a chance of at least `areas.mismatch_min_main_chance`. Every declared area counts, not the first alone:
    "Sport and leisure / refugees" is not flagged for a text chiefly about refugees."""
    if not practice.declared_areas:
        return False
    taxonomy, spec = load_taxonomy(), settings.areas
    ranking = sorted(main_scores, key=lambda c: -main_scores[c])[:settings.area_top_n_for_mismatch]
    # compared as shown, to two decimals: a declared area shown at 0.20 is not called unlikely at 0.1991
    likely = {code for code in ranking if round(main_scores[code], 2) >= spec.mismatch_min_main_chance}
    likely |= {code for code, p in probabilities.items() if likely_enough(p, settings)}
    likely |= set(suggested)
    likely |= {taxonomy.parent(code) for code in likely if code in taxonomy.areas}
    return not any(code in likely or taxonomy.parent(code) in likely for code in practice.declared_areas)


def area_suggestions(pred: AreaPredictions, practices: Sequence[Practice], settings: Settings) -> list[AreaSuggestion]:
    """The area columns of each practice from the classifier's predictions (rows follow the practices)."""
    out = []
    for i, practice in enumerate(practices):
        ranking = pred.main_ranking[i]
        scores = ({} if pred.main_proba is None
                  else dict(zip(pred.main_classes, (float(x) for x in pred.main_proba[i]))))
        probabilities = dict(zip(pred.classes, (float(x) for x in pred.proba[i])))
        # without main-area chances (a model that ranks only), the ranking's order stands for them
        chances = scores or {code: 1.0 - k / len(ranking) for k, code in enumerate(ranking)}
        mismatch = declared_area_mismatch(practice, chances, probabilities, pred.ranked(i), settings)
        out.append(AreaSuggestion(practice.practice_id, pred.ranked(i), ranking[0], mismatch, scores, probabilities))
    return out


def area_rows(practices: Sequence[Practice], classifier: AreaClassifier,
              settings: Settings) -> tuple[list[dict], list[AreaSuggestion]]:
    """Rows of areas.parquet (one per practice and area code) and the area columns of each practice."""
    pred = predict_areas(classifier, practices)
    rows: list[dict] = []
    suggestions = area_suggestions(pred, practices, settings)
    for i, practice in enumerate(practices):
        for j, code in enumerate(pred.classes):
            # four decimals, as the similar and criteria scores: a text embedded in a batch of another size differs
            # in the eighth, so that a resumed run's table is the same as a fresh one's
            probability = round(float(pred.proba[i, j]), 4)
            # a sentence beside an unlikely area would seem to support it (a budget line for area 1 at 0.00): the
            # evidence of an area neither suggested nor shown as likely (`areas.mismatch_min_probability`) is left out
            shown = pred.suggested[i, j] or likely_enough(probability, settings)
            rows.append({"practice_id": practice.practice_id, "area": code, "probability": probability,
                         "suggested": bool(pred.suggested[i, j]), "evidence": pred.evidence[i][j] if shown else None})
    return rows, suggestions


def area_stage(practices: list[Practice], settings: Settings, embedder) -> tuple["pa.Table", list[AreaSuggestion], str]:
    """The areas.parquet table, the area columns of each practice, and the model id."""
    from pipeline.tables import to_table

    if not practices:
        return to_table("areas", []), [], "area-classifier:none"
    classifier, model_id = load_or_zero_shot(settings, embedder)
    tables = []
    suggestions: list[AreaSuggestion] = []
    # In batches: each practice is predicted on its own, and the sentence vectors of a batch are dropped after
    # it; its rows (one per practice and area) are kept as an Arrow table, not as dictionaries.
    for start in range(0, len(practices), _STAGE_BATCH):
        rows, batch_suggestions = area_rows(practices[start:start + _STAGE_BATCH], classifier, settings)
        suggestions += batch_suggestions
        tables.append(to_table("areas", rows))
    import pyarrow as pa

    return pa.concat_tables(tables), suggestions, model_id
