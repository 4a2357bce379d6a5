"""The project's scikit-learn estimators: fitting.

Each estimator extends the class of its stage module that predicts from fitted arrays with numpy alone
(`FittedPracticeEncoder` and `FittedAreaModel` in pipeline/classify.py; `FittedOrdinalLogistic`,
`FittedTextProjection` and `FittedSentenceClassifier` in pipeline/ordinal.py) and adds `fit`, scikit-learn's
input checks and tags. A saved model reads back into the fitted classes, so predicting from it, as a cold
`check` does, never imports scikit-learn; training and cross-validation use these estimators.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from pipeline.classify import _COLD_CALIBRATION, FittedAreaModel, FittedPracticeEncoder, _codes, area_keyword_terms
from pipeline.ordinal import FittedOrdinalLogistic, FittedSentenceClassifier, FittedTextProjection
from pipeline.taxonomy import load_taxonomy

_THRESHOLD_GRID = np.round(np.arange(0.10, 0.91, 0.025), 3)


# ----------------------------------------------------------------------------- areas


class PracticeEncoder(TransformerMixin, BaseEstimator, FittedPracticeEncoder):
    """Practices (or texts) -> [practice embedding | area names found | zero-shot prior z-score per area code].

    Fitting embeds the area prototypes of resources/areas.yaml; parameters as `FittedPracticeEncoder`.
    """

    def fit(self, X=None, y=None):
        self.classes_, self.parents_, _ = _codes()
        self.keyword_terms_ = area_keyword_terms(self.classes_) if self.keyword_scale else None
        embedder = self._embedder()
        self.embedder_id_ = getattr(embedder, "model_id", None)
        self.prototype_vectors_ = None
        self.prototype_owner_ = None
        if embedder is not None:
            taxonomy = load_taxonomy()
            texts, owner = [], []
            for j, code in enumerate(self.classes_):
                for text in taxonomy.areas[code].prototypes():
                    texts.append(text)
                    owner.append(j)
            self.prototype_vectors_ = np.asarray(embedder.encode(texts), dtype=np.float32)
            self.prototype_owner_ = np.asarray(owner)
            self.n_dims_ = self.prototype_vectors_.shape[1]
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "classes_"):
            raise NotFittedError("PracticeEncoder is not fitted yet: call fit.")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        return tags


class AreaModel(ClassifierMixin, BaseEstimator, FittedAreaModel):
    """Multi-label areas and a main area, on arrays [embedding | prior z-score per code (n_prior columns)].

    y: code lists per practice, main area first (sub-areas imply their parents), or an indicator matrix with
    one column per code (then the main area is the likeliest one). No labels gives the zero-shot model.
    Parameters as `FittedAreaModel`.
    """

    # -- inputs

    def _targets(self, y, n: int) -> tuple[np.ndarray, list[str | None]]:
        """Indicator matrix over the codes, and the main area of each practice (None when not given)."""
        classes = list(self.classes_)
        out = np.zeros((n, len(classes)), dtype=np.int8)
        if y is None:
            return out, [None] * n
        if isinstance(y, np.ndarray) and y.ndim == 2:
            if y.shape != (n, len(classes)):
                raise ValueError(f"y has shape {y.shape}; expected ({n}, {len(classes)}).")
            return (y > 0).astype(np.int8), [None] * n
        if len(y) != n:
            raise ValueError(f"Found {n} samples but {len(y)} label sets.")
        taxonomy = load_taxonomy()
        index = {c: j for j, c in enumerate(classes)}
        mains: list[str | None] = []
        for i, codes in enumerate(y):
            if isinstance(codes, (str, int, np.integer, np.floating)):
                codes = [int(codes) if isinstance(codes, np.floating) and float(codes).is_integer() else codes]
            codes = [str(c) for c in codes if str(c) in taxonomy.areas]
            mains.append(taxonomy.parent(codes[0]) if codes else None)
            for code in taxonomy.with_parents(codes):
                out[i, index[code]] = 1
        return out, mains

    # -- fitting

    def fit(self, X, y=None, sample_weight=None):
        with threadpool_limits(limits=1):
            return self._fit(X, y, sample_weight)

    def _fit(self, X, y, sample_weight):
        if self.mode not in ("blend", "prior", "supervised"):
            raise ValueError(f"mode must be blend, prior or supervised, not {self.mode!r}")
        self.classes_, self.parents_, self.top_level_ = _codes()
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=0)  # no samples: the zero-shot model
        emb, prior_z = self._split(X)
        if prior_z is not None and prior_z.shape[1] != len(self.classes_):
            raise ValueError(f"n_prior must equal the number of area codes ({len(self.classes_)}).")
        Y, mains = self._targets(y, len(emb))
        w = np.ones(len(emb)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        self.n_positives_ = Y.sum(axis=0).astype(int)
        self.n_train_ = len(emb)
        use_prior = prior_z is not None and self.mode != "supervised"
        self.prior_calibration_ = self._fit_prior_calibration(prior_z if use_prior else None, Y)
        oof_sup = self._fit_supervised(emb, Y, w)
        self._fit_thresholds(Y, oof_sup, prior_z if use_prior else None)
        self._fit_main(Y, mains, oof_sup, prior_z if use_prior else None, w)
        return self

    def _fit_prior_calibration(self, prior_z, Y) -> tuple[float, float]:
        """Platt scaling of the prior: one slope and intercept shared by all codes."""
        if prior_z is None or Y.sum() < 5 or Y.sum() == Y.size:
            slope, offset = self.cold_calibration
            return float(slope), float(offset)
        lr = LogisticRegression(C=1.0, solver="liblinear", intercept_scaling=10.0).fit(prior_z.reshape(-1, 1), Y.reshape(-1))
        return float(lr.coef_[0, 0]), float(lr.intercept_[0])

    def _cv(self, y: np.ndarray) -> StratifiedKFold | None:
        n_pos = int(y.sum())
        splits = min(self.n_splits, n_pos, len(y) - n_pos)
        if splits < 2:
            return None
        return StratifiedKFold(n_splits=splits, shuffle=True, random_state=self.random_state)

    def _calibrated(self, y: np.ndarray) -> CalibratedClassifierCV:
        # liblinear: exact and fast on a few hundred rows, and single-threaded.
        base = LogisticRegression(C=self.C, class_weight="balanced", solver="liblinear", random_state=self.random_state)
        return CalibratedClassifierCV(base, method="sigmoid", cv=self._cv(y))

    def _fit_supervised(self, emb: np.ndarray, Y: np.ndarray, w: np.ndarray) -> np.ndarray:
        """A calibrated logistic regression per code with enough positives, stored as arrays; out-of-fold
        probabilities returned for the thresholds and the main-area model."""
        n, k = Y.shape
        m = max(2, self.n_splits)
        self.sup_coef_ = np.zeros((k, m, emb.shape[1]))
        self.sup_intercept_ = np.zeros((k, m))
        self.cal_a_ = np.zeros((k, m))
        self.cal_b_ = np.zeros((k, m))
        self.n_members_ = np.zeros(k, dtype=int)
        self.supervised_ = np.zeros(k, dtype=bool)
        oof = np.full((n, k), np.nan)
        if self.mode == "prior":
            return oof
        for j in range(k):
            y = Y[:, j]
            if y.sum() < self.min_positives or (n - y.sum()) < self.min_positives or self._cv(y) is None:
                continue
            model = self._calibrated(y).fit(emb, y, sample_weight=w)
            members = model.calibrated_classifiers_
            for t, member in enumerate(members):
                self.sup_coef_[j, t] = member.estimator.coef_[0]
                self.sup_intercept_[j, t] = member.estimator.intercept_[0]
                self.cal_a_[j, t] = member.calibrators[0].a_
                self.cal_b_[j, t] = member.calibrators[0].b_
            self.n_members_[j] = len(members)
            self.supervised_[j] = True
            for train, test in self._cv(y).split(emb, y):
                if self._cv(y[train]) is None:
                    continue
                fold = self._calibrated(y[train]).fit(emb[train], y[train], sample_weight=w[train])
                oof[test, j] = fold.predict_proba(emb[test])[:, 1]
        return oof

    def _fit_thresholds(self, Y: np.ndarray, oof_sup: np.ndarray, prior_z) -> None:
        """Per-code thresholds maximising F1 on out-of-fold probabilities, shrunk toward a pooled threshold."""
        k = len(self.classes_)
        self.threshold_source_ = "default"
        self.thresholds_ = np.full(k, 0.5)
        self.pooled_threshold_ = 0.5
        prior = self._prior_proba(prior_z)
        if Y.sum() == 0 or (prior is None and not self.supervised_.any()):
            return
        oof = self._blend(oof_sup if self.supervised_.any() else None, prior, len(Y))
        pooled = _best_threshold(Y.reshape(-1), oof.reshape(-1))
        self.pooled_threshold_ = pooled
        n_pos = Y.sum(axis=0)
        for j in range(k):
            own = _best_threshold(Y[:, j], oof[:, j]) if n_pos[j] > 0 else pooled
            m = self.threshold_shrinkage
            self.thresholds_[j] = (n_pos[j] * own + m * pooled) / (n_pos[j] + m)
        self.threshold_source_ = "cross-validation"

    def _fit_main(self, Y, mains, oof_sup, prior_z, w) -> None:
        """The main-area model: multinomial over the top-level areas, on out-of-fold per-area probabilities."""
        self.main_coef_ = None
        self.main_intercept_ = None
        self.main_classes_ = self.classes_[self.top_level_]
        labelled = [i for i, m in enumerate(mains) if m is not None]
        if not self.main_model or len({mains[i] for i in labelled}) < 2 or len(labelled) < 20:
            return
        proba = self._blend(oof_sup if self.supervised_.any() else None, self._prior_proba(prior_z), len(Y))
        features = self._main_features(proba, prior_z)
        target = np.array([list(self.main_classes_).index(mains[i]) for i in labelled])
        model = LogisticRegression(C=self.main_C, max_iter=5000).fit(features[labelled], target, sample_weight=w[labelled])
        coef = np.zeros((len(self.main_classes_), features.shape[1]))
        intercept = np.full(len(self.main_classes_), -30.0)  # an area never seen as main stays last
        coef[model.classes_] = model.coef_ if len(model.classes_) > 2 else np.vstack([-model.coef_, model.coef_])
        intercept[model.classes_] = model.intercept_ if len(model.classes_) > 2 else np.r_[-model.intercept_, model.intercept_]
        self.main_coef_, self.main_intercept_ = coef, intercept

    # -- prediction (the fitted model's, with scikit-learn's input checks)

    def _check_fitted(self) -> None:
        if not hasattr(self, "thresholds_"):
            raise NotFittedError("AreaModel is not fitted yet: call fit (with no labels for zero-shot).")

    def predict_proba(self, X) -> np.ndarray:
        """Probability of each area code (columns follow `classes_`)."""
        self._check_fitted()
        return super().predict_proba(validate_data(self, X, dtype=np.float64, reset=False))

    def score(self, X, y, sample_weight=None) -> float:
        """Micro-averaged F1 of the suggested code sets."""
        from sklearn.metrics import f1_score

        Y, _ = self._targets(y, len(np.asarray(X)))
        return float(f1_score(Y, self.predict(X), average="micro", sample_weight=sample_weight, zero_division=0))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False  # no labels = zero-shot
        tags.target_tags.multi_output = True
        tags.classifier_tags.multi_label = True
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


def make_area_classifier(embedder="use-multilingual", **params) -> Pipeline:
    """The area classifier: practices -> arrays -> areas. With no labels, `fit` gives the zero-shot model."""
    n_codes = len(load_taxonomy().codes)
    return Pipeline([("encode", PracticeEncoder(embedder=embedder)),
                     ("areas", AreaModel(n_prior=n_codes if embedder is not None else 0, **params))])


def zero_shot_classifier(embedder, cold_calibration: tuple[float, float] = _COLD_CALIBRATION) -> Pipeline:
    """The cold-start classifier: area prototypes only, no labels."""
    return make_area_classifier(embedder, mode="prior", cold_calibration=cold_calibration).fit(np.zeros((0, int(embedder.dim)), dtype=np.float32))



# ----------------------------------------------------------------------------- criteria levels



def _weighted_cuts(values: np.ndarray, weights: np.ndarray, below: np.ndarray) -> np.ndarray:
    """Cut points that leave a share `below` of the (weighted) values under each cut.

    Each cut lies half-way between two neighbouring values, so no training text sits on a boundary.
    """
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cum = np.cumsum(w) / w.sum()
    cuts = []
    for q in below:
        if q <= 0:
            cuts.append(v[0] - 1e-3)
        elif q >= 1:
            cuts.append(v[-1] + 1e-3)
        else:
            idx = int(np.argmin(np.abs(cum - q)))  # texts 0..idx fall below the cut
            cuts.append((v[idx] + v[min(idx + 1, len(v) - 1)]) / 2)
    return np.asarray(cuts, dtype=float)


class OrdinalLogistic(ClassifierMixin, BaseEstimator, FittedOrdinalLogistic):
    """Levels 0..n_levels-1 from features, through cumulative logistic regressions (Frank and Hall, 2001).

    The cumulative decomposition keeps the order of the levels without a hand-written likelihood: each threshold
    is a plain `LogisticRegression` on standardised features. A regularised model pulls expected levels towards
    the middle, so rounding them gives the outer levels too rarely (a text the readers put at 3 comes out at 2);
    with `level_cuts="shares"` the cut points between levels are set on the training texts so that each level is
    given as often as the ratings give it. Parameters as `FittedOrdinalLogistic`.
    """

    def fit(self, X, y, sample_weight=None):
        X, y = validate_data(self, X, y, dtype=np.float64)
        y = np.asarray(y, dtype=float)
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if self.level_cuts not in ("round", "shares"):
            raise ValueError(f"level_cuts must be 'round' or 'shares', not {self.level_cuts!r}")
        self.classes_ = np.arange(self.n_levels)
        self.mean_ = X.mean(axis=0)
        self.scale_ = X.std(axis=0)
        self.scale_[self.scale_ < 1e-9] = 1.0
        Z = self._standardised(X)
        coefs, intercepts = [], []
        for k in range(1, self.n_levels):
            target = (y >= k).astype(int)
            if target.min() == target.max():
                # every text is on one side of this threshold: a constant model with the observed rate
                rate = np.clip(np.average(target, weights=w), 1e-3, 1 - 1e-3)
                coefs.append(np.zeros(X.shape[1]))
                intercepts.append(float(np.log(rate / (1 - rate))))
                continue
            model = LogisticRegression(C=self.C, max_iter=5000).fit(Z, target, sample_weight=w)
            coefs.append(model.coef_[0])
            intercepts.append(float(model.intercept_[0]))
        self.coef_ = np.vstack(coefs)
        self.intercept_ = np.asarray(intercepts)
        self.cuts_ = np.arange(1, self.n_levels) - 0.5
        if self.level_cuts == "shares":
            self.cuts_ = self._share_cuts(self.expected_level(X), y, w)
        return self

    def _share_cuts(self, expected: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Cut points on the expected level that give each level the (weighted) share the ratings give it."""
        below = np.array([w[y < k].sum() for k in range(1, self.n_levels)]) / w.sum()
        cuts = _weighted_cuts(expected, w, below)
        # a level the ratings never give keeps its place between its neighbours; cuts stay strictly ordered
        # and inside (0, n_levels - 1) so the rescaling below is defined
        cuts = np.clip(cuts, 1e-3, self.n_levels - 1 - 1e-3)
        for k in range(1, len(cuts)):
            cuts[k] = max(cuts[k], cuts[k - 1] + 1e-3)
        return cuts

    def cumulative_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "coef_")
        return super().cumulative_proba(validate_data(self, X, dtype=np.float64, reset=False))

    def level_value(self, X) -> np.ndarray:
        check_is_fitted(self, "coef_")
        return super().level_value(X)

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self, "coef_")
        return super().predict(X)

    def to_dict(self) -> dict:
        check_is_fitted(self, "coef_")
        return super().to_dict()


class TextProjection(RegressorMixin, BaseEstimator, FittedTextProjection):
    """A ridge regression of the rated level on a whole-text embedding: one number per text.

    The whole-text vector carries what cue lists miss (how a text is written, what it dwells on), but it has
    hundreds of dimensions for about a hundred rated texts; a strongly regularised ridge reduces it to one
    feature that `OrdinalLogistic` weighs beside the others. Parameters as `FittedTextProjection`.
    """

    def fit(self, X, y, sample_weight=None):
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        model = Ridge(alpha=self.alpha).fit(X, y, sample_weight=w)
        self.coef_ = model.coef_.astype(float)
        self.intercept_ = float(model.intercept_)
        # the value given to a text without a vector: the average training prediction
        self.default_ = float(np.average(X @ self.coef_ + self.intercept_, weights=w))
        return self

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self, "coef_")
        return super().predict(validate_data(self, X, dtype=np.float64, reset=False))

    def to_dict(self) -> dict:
        check_is_fitted(self, "coef_")
        return super().to_dict()


class SentenceClassifier(ClassifierMixin, BaseEstimator, FittedSentenceClassifier):
    """The chance that a reader would quote a sentence as showing a criterion: a logistic regression on the
    sentence's embedding and where it stands (`CriteriaScorer.sentence_places` in pipeline/criteria.py).

    Readers quoted, per text, the sentences that show a criterion (data/eval/realistic/quotes); a text-level
    model then reads how many such sentences a text has, and the evidence is the sentences it found.
    Parameters as `FittedSentenceClassifier`.
    """

    def fit(self, X, y, sample_weight=None):
        X, y = validate_data(self, X, y, dtype=np.float64)
        self.classes_ = np.array([0, 1])
        model = LogisticRegression(C=self.C, max_iter=5000).fit(X, np.asarray(y, dtype=int), sample_weight=sample_weight)
        self.coef_ = model.coef_[0].astype(float)
        self.intercept_ = float(model.intercept_[0])
        return self

    def probability(self, *blocks) -> np.ndarray:
        check_is_fitted(self, "coef_")
        return super().probability(*blocks)

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "coef_")
        return super().predict_proba(validate_data(self, X, dtype=np.float64, reset=False))

    def to_dict(self) -> dict:
        check_is_fitted(self, "coef_")
        return super().to_dict()
