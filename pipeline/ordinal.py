"""Ordinal regression for levels 0..K: one logistic model per threshold (P(y >= k)), scikit-learn style.

The cumulative decomposition (Frank and Hall, 2001) keeps the order of the levels without a hand-written
likelihood: each threshold is a plain `LogisticRegression` on standardised features. The expected level
sum_k P(y >= k) is monotone in every threshold's score, so it ranks texts; the predicted level is the
expected level rounded. Saved as arrays and JSON (no pickle).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted, validate_data


class OrdinalLogistic(ClassifierMixin, BaseEstimator):
    """Levels 0..n_levels-1 from features, through cumulative logistic regressions.

    Parameters
    ----------
    C : inverse L2 regularisation of every threshold model.
    n_levels : number of ordered levels (4 for the criteria: 0-3).
    """

    def __init__(self, C: float = 0.3, n_levels: int = 4):
        self.C = C
        self.n_levels = n_levels

    def fit(self, X, y, sample_weight=None):
        X, y = validate_data(self, X, y, dtype=np.float64)
        y = np.asarray(y, dtype=float)
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        self.classes_ = np.arange(self.n_levels)
        self.mean_ = X.mean(axis=0)
        self.scale_ = X.std(axis=0)
        self.scale_[self.scale_ < 1e-9] = 1.0
        Z = (X - self.mean_) / self.scale_
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
        return self

    def cumulative_proba(self, X) -> np.ndarray:
        """P(y >= k) for k = 1..n_levels-1, made non-increasing in k."""
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        Z = (X - self.mean_) / self.scale_
        p = 1.0 / (1.0 + np.exp(-np.clip(Z @ self.coef_.T + self.intercept_, -30, 30)))
        return np.minimum.accumulate(p, axis=1)

    def predict_proba(self, X) -> np.ndarray:
        c = self.cumulative_proba(X)
        ones = np.ones((c.shape[0], 1))
        zeros = np.zeros((c.shape[0], 1))
        return np.hstack([ones, c]) - np.hstack([c, zeros])

    def expected_level(self, X) -> np.ndarray:
        return self.cumulative_proba(X).sum(axis=1)

    def predict(self, X) -> np.ndarray:
        return np.clip(np.rint(self.expected_level(X)), 0, self.n_levels - 1).astype(int)

    def contributions(self, X) -> np.ndarray:
        """Per-feature push towards higher levels (standardised value x mean threshold weight)."""
        X = np.asarray(X, dtype=np.float64)
        return ((X - self.mean_) / self.scale_) * self.coef_.mean(axis=0)

    def to_dict(self) -> dict:
        check_is_fitted(self, "coef_")
        return {"C": self.C, "n_levels": self.n_levels, "mean": self.mean_.tolist(), "scale": self.scale_.tolist(),
                "coef": self.coef_.tolist(), "intercept": self.intercept_.tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> "OrdinalLogistic":
        model = cls(C=data["C"], n_levels=data["n_levels"])
        model.mean_ = np.asarray(data["mean"], dtype=float)
        model.scale_ = np.asarray(data["scale"], dtype=float)
        model.coef_ = np.asarray(data["coef"], dtype=float)
        model.intercept_ = np.asarray(data["intercept"], dtype=float)
        model.classes_ = np.arange(model.n_levels)
        model.n_features_in_ = model.mean_.shape[0]
        return model
