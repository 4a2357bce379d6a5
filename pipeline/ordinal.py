"""The criteria models at prediction time, on numpy alone: ordinal levels, whole-text projection, quoted sentences.

These are the prediction halves of the estimators `OrdinalLogistic`, `TextProjection` and `SentenceClassifier` in
pipeline/estimators.py, which add fitting (scikit-learn). A saved model reads back into these classes, so a cold
`check` scores a form without importing scikit-learn (about a second of a check's start). Saved as JSON (no pickle).

The ordinal model is the cumulative decomposition of Frank and Hall (2001): one logistic model per threshold,
P(y >= k), on standardised features. The expected level sum_k P(y >= k) is monotone in every threshold's score,
so it ranks texts. With `level_cuts="shares"` the `level` is the expected level rescaled piecewise-linearly
through cut points set on the training texts (still monotone, so the ranking is unchanged).
"""

from __future__ import annotations

import numpy as np


def as_features(model, X) -> np.ndarray:
    """X as a float 2-D array of the width the model was fitted on."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D array, got shape {X.shape}.")
    if X.shape[1] != model.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features, but {type(model).__name__} reads {model.n_features_in_}.")
    return X


class FittedOrdinalLogistic:
    """Levels 0..n_levels-1 from features, through cumulative logistic regressions (see OrdinalLogistic).

    Parameters
    ----------
    C : inverse L2 regularisation of every threshold model (used in fitting).
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

    def cumulative_proba(self, X) -> np.ndarray:
        """P(y >= k) for k = 1..n_levels-1, made non-increasing in k."""
        Z = self._standardised(as_features(self, X))
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
        return {"C": self.C, "n_levels": self.n_levels, "level_cuts": self.level_cuts, "clip": self.clip,
                "mean": self.mean_.tolist(),
                "scale": self.scale_.tolist(), "coef": self.coef_.tolist(), "intercept": self.intercept_.tolist(),
                "cuts": self.cuts_.tolist()}

    @classmethod
    def from_dict(cls, data: dict):
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


class FittedTextProjection:
    """A ridge regression of the rated level on a whole-text embedding: one number per text (see TextProjection).

    Parameters
    ----------
    alpha : L2 penalty of the ridge regression (used in fitting; the vectors are unit length).
    """

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def predict(self, X) -> np.ndarray:
        return as_features(self, X) @ self.coef_ + self.intercept_

    def to_dict(self) -> dict:
        return {"alpha": self.alpha, "coef": [round(float(v), 6) for v in self.coef_], "intercept": self.intercept_,
                "default": self.default_}

    @classmethod
    def from_dict(cls, data: dict):
        model = cls(alpha=data["alpha"])
        model.coef_ = np.asarray(data["coef"], dtype=float)
        model.intercept_ = float(data["intercept"])
        model.default_ = float(data["default"])
        model.n_features_in_ = model.coef_.shape[0]
        return model


class FittedSentenceClassifier:
    """The chance that a reader would quote a sentence as showing a criterion (see SentenceClassifier).

    Parameters
    ----------
    C : inverse L2 regularisation (used in fitting).
    """

    def __init__(self, C: float = 1.0):
        self.C = C

    def probability(self, *blocks) -> np.ndarray:
        """P(quoted) of each row; the columns may come as consecutive blocks (no stacked copy of a large matrix)."""
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
        p = self.probability(as_features(self, X))
        return np.column_stack([1 - p, p])

    def predict(self, X) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def to_dict(self) -> dict:
        return {"C": self.C, "coef": [round(float(v), 6) for v in self.coef_], "intercept": self.intercept_}

    @classmethod
    def from_dict(cls, data: dict):
        model = cls(C=data["C"])
        model.coef_ = np.asarray(data["coef"], dtype=float)
        model.intercept_ = float(data["intercept"])
        model.classes_ = np.array([0, 1])
        model.n_features_in_ = model.coef_.shape[0]
        return model
