"""Isotonic calibration over score-bin counts, checked against scikit-learn on the same bins."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import roc_auc_score

from mlmon.analysis.calibration import (
    IDENTITY,
    ISOTONIC,
    CalibrationMap,
    auc_from_counts,
    bin_counts,
    centres_of,
    equal_width_edges,
    fit_calibration,
    isotonic_probabilities,
    pool_adjacent_violators,
)
from mlmon.errors import UsageError

EDGES = equal_width_edges(100)


def miscalibrated(rng: np.random.Generator, n: int, a: float = 2.0, b: float = 5.0):
    """True probabilities q ~ Beta(a, b), labels ~ Bernoulli(q), scores sqrt(q) (over-confident)."""
    q = rng.beta(a, b, n)
    return np.sqrt(q), (rng.random(n) < q).astype(int), q


def binned(scores, labels, edges=EDGES):
    return bin_counts(scores, edges, labels == 1), bin_counts(scores, edges, labels == 0)


def test_pav_hand_example():
    assert pool_adjacent_violators([1, 3, 2, 4], [1, 1, 1, 1]).tolist() == [1, 2.5, 2.5, 4]
    # a heavy violator pulls its lighter neighbour to the weighted mean
    assert pool_adjacent_violators([0.0, 0.9, 0.3], [1, 1, 3]).tolist() == pytest.approx(
        [0.0, 0.45, 0.45]
    )


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(-10, 10), st.floats(0.01, 100)), min_size=1, max_size=40))
def test_pav_matches_sklearn_and_is_monotone(points):
    values = [v for v, _ in points]
    weights = [w for _, w in points]
    mine = pool_adjacent_violators(values, weights)
    assert np.all(np.diff(mine) >= -1e-9)
    x = np.arange(len(values), dtype=float)
    oracle = IsotonicRegression().fit(x, values, sample_weight=weights).predict(x)
    np.testing.assert_allclose(mine, oracle, atol=1e-7 * (1 + np.abs(oracle).max()))


def test_pav_refuses_bad_weights():
    with pytest.raises(ValueError):
        pool_adjacent_violators([1, 2], [1, 0])


def test_isotonic_on_bins_equals_sklearn_on_rows_of_those_bins():
    rng = np.random.default_rng(1)
    scores, labels, _ = miscalibrated(rng, 20_000)
    pos, neg = binned(scores, labels)
    assert 0 in np.add(pos, neg)  # some bins are empty: interpolation is checked too
    centres = centres_of(EDGES)
    row_centre = centres[np.clip(np.searchsorted(EDGES, scores, side="right") - 1, 0, 99)]
    sklearn = IsotonicRegression(out_of_bounds="clip").fit(row_centre, labels)
    mine = isotonic_probabilities(pos, neg, centres)
    np.testing.assert_allclose(mine, sklearn.predict(centres), atol=1e-12)
    assert np.all(np.diff(mine) >= 0)


def test_fitted_map_recovers_the_true_calibration():
    rng = np.random.default_rng(2)
    scores, labels, _ = miscalibrated(rng, 200_000)
    pos, neg = binned(scores, labels)
    calibration = fit_calibration(pos, neg, EDGES)
    assert calibration.method == ISOTONIC  # the check found the raw scores miscalibrated
    assert calibration.check.ece_calibrated < calibration.check.ece_raw
    centres = centres_of(EDGES)
    rows = np.add(pos, neg)
    busy = rows >= 2_000
    truth = centres[busy] ** 2  # the score is sqrt(q), so q = score²
    error = np.abs(np.asarray(calibration.probability)[busy] - truth)
    assert error.max() < 0.03
    assert np.average(error, weights=rows[busy]) < 0.01


def test_calibrated_scores_need_no_map_when_separable():
    pos = [0] * 50 + [100] * 50
    neg = [100] * 50 + [0] * 50
    calibration = fit_calibration(pos, neg, EDGES)
    assert calibration.method == IDENTITY
    assert calibration.probability == tuple(centres_of(EDGES))


def test_bin_counts_match_numpy_histogram_and_refuse_bad_scores():
    rng = np.random.default_rng(3)
    scores = np.concatenate([rng.random(5_000), [0.0, 1.0, 0.5, 0.99]])
    expected, _ = np.histogram(scores, bins=np.asarray(EDGES))  # last bin closed, like ours
    assert bin_counts(scores, EDGES) == tuple(expected)
    for bad in (1.2, -0.01, float("nan")):
        with pytest.raises(UsageError, match=r"outside \[0, 1\]"):
            bin_counts([0.2, bad], EDGES)
    with pytest.raises(UsageError, match="from 0 to 1"):
        bin_counts([0.2], [0.0, 0.5, 0.9])


def test_auc_from_counts_equals_sklearn_on_binned_scores():
    rng = np.random.default_rng(4)
    scores, labels, _ = miscalibrated(rng, 10_000)
    pos, neg = binned(scores, labels)
    bins = np.clip(np.searchsorted(EDGES, scores, side="right") - 1, 0, 99)
    assert auc_from_counts(pos, neg) == pytest.approx(roc_auc_score(labels, bins), abs=1e-12)
    assert np.isnan(auc_from_counts([1, 2], [0, 0]))


def test_one_class_baseline_is_refused():
    with pytest.raises(UsageError, match="every labelled baseline row is positive"):
        fit_calibration([5] * 100, [0] * 100, EDGES)
    with pytest.raises(UsageError, match="every labelled baseline row is negative"):
        fit_calibration([0] * 100, [5] * 100, EDGES)


def test_counts_must_match_bins():
    with pytest.raises(UsageError, match="for 100 score bins"):
        fit_calibration([1] * 99, [1] * 99, EDGES)
    with pytest.raises(UsageError, match="negative"):
        fit_calibration([-1] + [1] * 99, [1] * 100, EDGES)


def test_map_round_trips_through_json():
    rng = np.random.default_rng(5)
    scores, labels, _ = miscalibrated(rng, 30_000)
    calibration = fit_calibration(*binned(scores, labels), EDGES)
    again = CalibrationMap.from_dict(json.loads(json.dumps(calibration.to_dict())))
    assert again == calibration
    identity = fit_calibration(*binned(scores, labels), EDGES, method=IDENTITY)
    assert CalibrationMap.from_dict(json.loads(json.dumps(identity.to_dict()))) == identity


def test_unreadable_map_is_refused():
    good = fit_calibration([1] * 100, [2] * 100, EDGES, method=ISOTONIC).to_dict()
    with pytest.raises(UsageError, match="unreadable"):
        CalibrationMap.from_dict({k: v for k, v in good.items() if k != "edges"})
    with pytest.raises(UsageError, match="do not match"):
        CalibrationMap.from_dict({**good, "positive": good["positive"][:-1]})
    with pytest.raises(UsageError, match="unknown method"):
        CalibrationMap.from_dict({**good, "method": "platt"})
