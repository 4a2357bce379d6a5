"""Ordinal regression for levels 0..K: one logistic model per threshold (P(y >= k)), scikit-learn style.

The cumulative decomposition (Frank and Hall, 2001) keeps the order of the levels without a hand-written
likelihood: each threshold is a plain `LogisticRegression` on standardised features. The expected level
sum_k P(y >= k) is monotone in every threshold's score, so it ranks texts.

A regularised model pulls expected levels towards the middle, so rounding them gives the outer levels too
rarely (a text the readers put at 3 comes out at 2). With `level_cuts="shares"` the cut points between levels
are instead set on the training texts so that each level is given as often as the ratings give it; the
`level` is then the expected level rescaled piecewise-linearly through those cut points (still monotone, so
the ranking is unchanged). Saved as arrays and JSON (no pickle).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted, validate_data


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


class OrdinalLogistic(ClassifierMixin, BaseEstimator):
    """Levels 0..n_levels-1 from features, through cumulative logistic regressions.

    Parameters
    ----------
    C : inverse L2 regularisation of every threshold model.
    n_levels : number of ordered levels (4 for the criteria: 0-3).
    level_cuts : "round" (level = rounded expected level) or "shares" (cut points on the expected level that
        give each level as often as the training ratings do).
    clip : standardised features are held within +-clip (None: not held), in fitting and predicting alike, so
        that a text far outside the training texts on one feature (a process written as twenty bullets) is not
        pushed further than the most extreme training texts were.
    """

    def __init__(self, C: float = 0.3, n_levels: int = 4, level_cuts: str = "round", clip: float | None = None):
        self.C = C
        self.n_levels = n_levels
        self.level_cuts = level_cuts
        self.clip = clip

    def _standardised(self, X: np.ndarray) -> np.ndarray:
        Z = (X - self.mean_) / self.scale_
        return Z if self.clip is None else np.clip(Z, -self.clip, self.clip)

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
        """P(y >= k) for k = 1..n_levels-1, made non-increasing in k."""
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        Z = self._standardised(X)
        p = 1.0 / (1.0 + np.exp(-np.clip(Z @ self.coef_.T + self.intercept_, -30, 30)))
        return np.minimum.accumulate(p, axis=1)

    def predict_proba(self, X) -> np.ndarray:
        c = self.cumulative_proba(X)
        ones = np.ones((c.shape[0], 1))
        zeros = np.zeros((c.shape[0], 1))
        return np.hstack([ones, c]) - np.hstack([c, zeros])

    def expected_level(self, X) -> np.ndarray:
        return self.cumulative_proba(X).sum(axis=1)

    def level_value(self, X) -> np.ndarray:
        """The expected level rescaled so that each cut point falls half-way between two levels (monotone)."""
        top = self.n_levels - 1
        anchors = np.concatenate([[0.0], self.cuts_, [float(top)]])
        targets = np.concatenate([[0.0], np.arange(1, self.n_levels) - 0.5, [float(top)]])
        return np.interp(self.expected_level(X), anchors, targets)

    def predict(self, X) -> np.ndarray:
        return np.searchsorted(self.cuts_, self.expected_level(X), side="right").astype(int)

    def contributions(self, X) -> np.ndarray:
        """Per-feature push towards higher levels (standardised value x mean threshold weight)."""
        return self._standardised(np.asarray(X, dtype=np.float64)) * self.coef_.mean(axis=0)

    def to_dict(self) -> dict:
        check_is_fitted(self, "coef_")
        return {"C": self.C, "n_levels": self.n_levels, "level_cuts": self.level_cuts, "clip": self.clip,
                "mean": self.mean_.tolist(),
                "scale": self.scale_.tolist(), "coef": self.coef_.tolist(), "intercept": self.intercept_.tolist(),
                "cuts": self.cuts_.tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> "OrdinalLogistic":
        model = cls(C=data["C"], n_levels=data["n_levels"], level_cuts=data.get("level_cuts", "round"),
                    clip=data.get("clip"))
        model.mean_ = np.asarray(data["mean"], dtype=float)
        model.scale_ = np.asarray(data["scale"], dtype=float)
        model.coef_ = np.asarray(data["coef"], dtype=float)
        model.intercept_ = np.asarray(data["intercept"], dtype=float)
        # a model saved before cut points were kept rounds its expected level
        model.cuts_ = np.asarray(data.get("cuts", np.arange(1, model.n_levels) - 0.5), dtype=float)
        model.classes_ = np.arange(model.n_levels)
        model.n_features_in_ = model.mean_.shape[0]
        return model


class TextProjection(RegressorMixin, BaseEstimator):
    """A ridge regression of the rated level on a whole-text embedding: one number per text.

    The whole-text vector carries what cue lists miss (how a text is written, what it dwells on), but it has
    hundreds of dimensions for about a hundred rated texts; a strongly regularised ridge reduces it to one
    feature that `OrdinalLogistic` weighs beside the others. Saved as arrays and JSON (no pickle).

    Parameters
    ----------
    alpha : L2 penalty of the ridge regression (the vectors are unit length).
    """

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def fit(self, X, y, sample_weight=None):
        from sklearn.linear_model import Ridge

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
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X @ self.coef_ + self.intercept_

    def to_dict(self) -> dict:
        check_is_fitted(self, "coef_")
        return {"alpha": self.alpha, "coef": [round(float(v), 6) for v in self.coef_], "intercept": self.intercept_,
                "default": self.default_}

    @classmethod
    def from_dict(cls, data: dict) -> "TextProjection":
        model = cls(alpha=data["alpha"])
        model.coef_ = np.asarray(data["coef"], dtype=float)
        model.intercept_ = float(data["intercept"])
        model.default_ = float(data["default"])
        model.n_features_in_ = model.coef_.shape[0]
        return model


class SentenceClassifier(ClassifierMixin, BaseEstimator):
    """The chance that a reader would quote a sentence as showing a criterion: a logistic regression on the
    sentence's embedding and where it stands (`CriteriaScorer.sentence_places` in pipeline/criteria.py).

    Readers quoted, per text, the sentences that show a criterion (data/eval/realistic/quotes); a text-level
    model then reads how many such sentences a text has, and the evidence is the sentences it found. Saved as
    arrays and JSON (no pickle).

    Parameters
    ----------
    C : inverse L2 regularisation.
    """

    def __init__(self, C: float = 1.0):
        self.C = C

    def fit(self, X, y, sample_weight=None):
        X, y = validate_data(self, X, y, dtype=np.float64)
        self.classes_ = np.array([0, 1])
        model = LogisticRegression(C=self.C, max_iter=5000).fit(X, np.asarray(y, dtype=int), sample_weight=sample_weight)
        self.coef_ = model.coef_[0].astype(float)
        self.intercept_ = float(model.intercept_[0])
        return self

    def probability(self, *blocks) -> np.ndarray:
        """P(quoted) of each row; the columns may come as consecutive blocks (no stacked copy of a large matrix)."""
        check_is_fitted(self, "coef_")
        logit = np.full(len(blocks[0]), self.intercept_)
        start = 0
        for block in blocks:
            block = np.asarray(block)
            # in the block's own precision: float32 sentence vectors are not copied into float64
            logit += block @ self.coef_[start:start + block.shape[1]].astype(block.dtype, copy=False)
            start += block.shape[1]
        if start != len(self.coef_):
            raise ValueError(f"{start} columns given, the model reads {len(self.coef_)}")
        return 1.0 / (1.0 + np.exp(-np.clip(logit, -30, 30)))

    def predict_proba(self, X) -> np.ndarray:
        p = self.probability(validate_data(self, X, dtype=np.float64, reset=False))
        return np.column_stack([1 - p, p])

    def predict(self, X) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def to_dict(self) -> dict:
        check_is_fitted(self, "coef_")
        return {"C": self.C, "coef": [round(float(v), 6) for v in self.coef_], "intercept": self.intercept_}

    @classmethod
    def from_dict(cls, data: dict) -> "SentenceClassifier":
        model = cls(C=data["C"])
        model.coef_ = np.asarray(data["coef"], dtype=float)
        model.intercept_ = float(data["intercept"])
        model.classes_ = np.array([0, 1])
        model.n_features_in_ = model.coef_.shape[0]
        return model
