"""The criteria estimators (ordinal levels, whole-text projection, quoted sentences): order, level shares, saving
as data, and reading back into the numpy-only fitted classes the stages predict with."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.estimators import OrdinalLogistic, SentenceClassifier, TextProjection
from pipeline.ordinal import FittedOrdinalLogistic, FittedSentenceClassifier, FittedTextProjection


def ordered_data(n: int = 300, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    latent = 1.5 + 1.2 * x[:, 0] + 0.5 * rng.normal(size=n)
    # many texts at the outer levels, as the readers give them
    y = np.digitize(latent, [0.2, 1.0, 1.8])
    return x, y


def test_share_cut_points_give_each_level_as_often_as_the_ratings():
    x, y = ordered_data()
    rounded = OrdinalLogistic(C=0.01).fit(x, y)
    matched = OrdinalLogistic(C=0.01, level_cuts="shares").fit(x, y)
    truth = np.bincount(y, minlength=4) / len(y)
    gap = lambda model: np.abs(np.bincount(model.predict(x), minlength=4) / len(y) - truth).sum()  # noqa: E731
    # strong regularisation pulls rounded levels to the middle; matched cut points undo it
    assert gap(matched) < 0.1 < gap(rounded)
    # the ranking is the same: cut points only move the boundaries between levels
    np.testing.assert_allclose(matched.expected_level(x), rounded.expected_level(x))
    assert np.all(np.diff(matched.cuts_) > 0)


def test_level_value_is_monotone_and_rounds_to_the_level():
    x, y = ordered_data(seed=1)
    model = OrdinalLogistic(C=0.1, level_cuts="shares").fit(x, y)
    order = np.argsort(model.expected_level(x))
    values = model.level_value(x)
    assert np.all(np.diff(values[order]) >= -1e-12)
    np.testing.assert_array_equal(np.floor(values + 0.5), model.predict(x))


def test_sample_weights_move_the_cut_points():
    x, y = ordered_data(seed=2)
    w = np.where(y == 3, 5.0, 1.0)
    plain = OrdinalLogistic(C=0.1, level_cuts="shares").fit(x, y)
    weighted = OrdinalLogistic(C=0.1, level_cuts="shares").fit(x, y, sample_weight=w)
    assert (weighted.predict(x) == 3).mean() > (plain.predict(x) == 3).mean()


def test_ordinal_round_trip_through_json_keeps_cut_points():
    x, y = ordered_data(seed=3)
    model = OrdinalLogistic(C=0.3, level_cuts="shares").fit(x, y)
    clone = FittedOrdinalLogistic.from_dict(json.loads(json.dumps(model.to_dict())))
    np.testing.assert_allclose(clone.predict_proba(x), model.predict_proba(x))
    np.testing.assert_array_equal(clone.predict(x), model.predict(x))
    np.testing.assert_allclose(clone.contributions(x), model.contributions(x))
    with pytest.raises(ValueError, match="features"):
        clone.predict(x[:, :2])
    # a model saved without cut points rounds its expected level
    old = {k: v for k, v in model.to_dict().items() if k not in ("cuts", "level_cuts")}
    legacy = FittedOrdinalLogistic.from_dict(old)
    np.testing.assert_array_equal(legacy.predict(x), np.clip(np.rint(legacy.expected_level(x)), 0, 3))


def test_clipped_features_push_no_further_than_the_clip_and_the_clip_is_saved():
    x, y = ordered_data(seed=3)
    model = OrdinalLogistic(C=1.0, clip=3.0).fit(x, y)
    free = OrdinalLogistic(C=1.0).fit(x, y)
    far, edge = x[:1].copy(), x[:1].copy()
    far[0, 0] = model.mean_[0] + 40 * model.scale_[0]  # a text far outside the training texts on one feature
    edge[0, 0] = model.mean_[0] + 3 * model.scale_[0]
    np.testing.assert_allclose(model.expected_level(far), model.expected_level(edge))
    assert free.expected_level(far)[0] > free.expected_level(edge)[0]
    again = FittedOrdinalLogistic.from_dict(json.loads(json.dumps(model.to_dict())))
    assert again.clip == 3.0
    np.testing.assert_allclose(again.expected_level(far), model.expected_level(far))


def test_unknown_level_cuts_is_refused():
    x, y = ordered_data()
    with pytest.raises(ValueError):
        OrdinalLogistic(level_cuts="median").fit(x, y)


def test_text_projection_learns_a_direction_and_saves_as_data():
    rng = np.random.default_rng(4)
    vectors = rng.normal(size=(200, 20))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    y = 1.5 + 3 * vectors[:, 0]
    projection = TextProjection(alpha=0.1).fit(vectors[:150], y[:150])
    held = projection.predict(vectors[150:])
    assert np.corrcoef(held, y[150:])[0, 1] > 0.8
    # a stronger penalty shrinks the projection towards its mean
    assert np.std(TextProjection(alpha=100.0).fit(vectors[:150], y[:150]).predict(vectors[150:])) < np.std(held)
    clone = FittedTextProjection.from_dict(json.loads(json.dumps(projection.to_dict())))
    np.testing.assert_allclose(clone.predict(vectors[150:]), held, atol=1e-4)
    assert clone.default_ == pytest.approx(projection.predict(vectors[:150]).mean())


def test_sentence_classifier_learns_and_saves_as_data():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 5))
    y = (x[:, 2] + 0.3 * rng.normal(size=400) > 0.5).astype(int)
    model = SentenceClassifier(C=1.0)
    assert model.fit(x, y) is model
    p = model.probability(x)
    assert ((p > 0.5) == y).mean() > 0.85 and np.argmax(np.abs(model.coef_)) == 2
    clone = FittedSentenceClassifier.from_dict(json.loads(json.dumps(model.to_dict())))
    np.testing.assert_allclose(clone.probability(x), p, atol=1e-5)
    np.testing.assert_allclose(clone.predict_proba(x).sum(axis=1), 1.0)
    np.testing.assert_allclose(model.probability(x[:, :3], x[:, 3:]), p)  # columns in blocks, no stacked copy
    with pytest.raises(ValueError, match="columns"):
        model.probability(x[:, :3])


@pytest.mark.parametrize("make", [lambda: OrdinalLogistic(C=0.3, level_cuts="shares"), lambda: TextProjection(alpha=1.0),
                                  lambda: SentenceClassifier(C=1.0)], ids=["ordinal", "projection", "sentences"])
def test_criteria_estimators_pass_scikit_learns_checks(make):
    from sklearn.utils import estimator_checks as ec

    estimator = make()
    name = type(estimator).__name__
    for check in (ec.check_no_attributes_set_in_init, ec.check_parameters_default_constructible,
                  ec.check_get_params_invariance, ec.check_set_params, ec.check_estimators_unfitted,
                  ec.check_dont_overwrite_parameters, ec.check_fit_idempotent, ec.check_n_features_in,
                  ec.check_estimators_nan_inf, ec.check_fit_check_is_fitted, ec.check_mixin_order,
                  ec.check_estimator_cloneable, ec.check_n_features_in_after_fitting):
        check(name, make())
