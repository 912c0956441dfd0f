"""CBPE from score histograms: estimates against realized metrics on data with known truth."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from mlmon.analysis.calibration import (
    IDENTITY,
    CalibrationMap,
    bin_counts,
    equal_width_edges,
    fit_calibration,
)
from mlmon.analysis.cbpe import (
    METRICS,
    DecisionRule,
    Estimator,
    estimate_performance,
    estimate_timeline,
    fit_rule,
)
from mlmon.errors import UsageError

EDGES = equal_width_edges(100)
RULE = DecisionRule(0.5)


def traffic(rng: np.random.Generator, n: int, a: float, b: float):
    """q ~ Beta(a, b) is the true P(positive); the model reports q ** 0.6 (miscalibrated)."""
    q = rng.beta(a, b, n)
    return q**0.6, (rng.random(n) < q).astype(int)


def realized(scores, labels, threshold=0.5) -> dict[str, float]:
    predicted = (scores >= threshold).astype(int)
    return {
        "accuracy": accuracy_score(labels, predicted),
        "precision": precision_score(labels, predicted, zero_division=np.nan),
        "recall": recall_score(labels, predicted),
        "f1": f1_score(labels, predicted),
        "roc_auc": roc_auc_score(labels, scores),
    }


def counted(scores, labels, threshold=0.5) -> dict[str, float]:
    """The same metrics by plain counting (scikit-learn's validation is too slow for
    hundreds of Monte Carlo windows); checked against :func:`realized` below."""
    predicted = scores >= threshold
    tp = float(np.sum(predicted & (labels == 1)))
    fp = float(np.sum(predicted & (labels == 0)))
    fn = float(np.sum(~predicted & (labels == 1)))
    ranks = np.empty(len(scores))
    ranks[np.argsort(scores)] = np.arange(1, len(scores) + 1)  # continuous scores: no ties
    n_pos = float(np.sum(labels == 1))
    n_neg = len(labels) - n_pos
    return {
        "accuracy": float(np.mean(predicted == (labels == 1))),
        "precision": tp / (tp + fp),
        "recall": tp / (tp + fn),
        "f1": 2 * tp / (2 * tp + fp + fn),
        "roc_auc": (ranks[labels == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg),
    }


def baseline_map(rng, n=100_000, a=2.0, b=3.0, method="auto") -> CalibrationMap:
    scores, labels = traffic(rng, n, a, b)
    return fit_calibration(
        bin_counts(scores, EDGES, labels == 1),
        bin_counts(scores, EDGES, labels == 0),
        EDGES,
        method=method,
    )


@pytest.mark.parametrize(("a", "b"), [(2.0, 3.0), (1.2, 4.0), (3.0, 1.5)])
def test_estimates_approach_realized_under_covariate_shift(a, b):
    rng = np.random.default_rng(11)
    calibration = baseline_map(rng)
    scores, labels = traffic(rng, 100_000, a, b)  # the window's score distribution moved
    estimate = estimate_performance(calibration, bin_counts(scores, EDGES), RULE)
    truth = realized(scores, labels)
    tolerance = {"accuracy": 0.01, "roc_auc": 0.005, "precision": 0.02, "recall": 0.02, "f1": 0.02}
    for name in METRICS:
        got = estimate.metric(name)
        assert got.estimated
        assert abs(got.value - truth[name]) < tolerance[name], (name, got.value, truth[name])
        assert got.lower <= truth[name] <= got.upper, (name, got, truth[name])


def test_uncalibrated_scores_mislead_and_calibration_fixes_it():
    rng = np.random.default_rng(12)
    calibrated = baseline_map(rng)
    raw = baseline_map(rng, method=IDENTITY)
    scores, labels = traffic(rng, 50_000, 2.0, 3.0)
    counts = bin_counts(scores, EDGES)
    truth = realized(scores, labels)["accuracy"]
    off = abs(estimate_performance(raw, counts, RULE).accuracy.value - truth)
    near = abs(estimate_performance(calibrated, counts, RULE).accuracy.value - truth)
    assert off > 0.03
    assert near < 0.01


def test_with_the_windows_own_rates_the_estimate_is_the_realized_metric_on_binned_scores():
    """p_b = the window's positive rate in bin b: expected counts are the real counts, so every
    estimate must equal the metric scikit-learn gives on the binned scores, exactly."""
    rng = np.random.default_rng(13)
    scores, labels = traffic(rng, 20_000, 2.0, 3.0)
    pos = np.asarray(bin_counts(scores, EDGES, labels == 1))
    neg = np.asarray(bin_counts(scores, EDGES, labels == 0))
    rows = pos + neg
    rate = np.divide(pos, rows, out=np.zeros(len(rows)), where=rows > 0)
    own = CalibrationMap(
        edges=EDGES,
        positive=tuple(int(v) for v in pos),
        negative=tuple(int(v) for v in neg),
        probability=tuple(rate),
        method="isotonic",
    )
    estimate = estimate_performance(own, tuple(rows), RULE)
    bins = np.clip(np.searchsorted(EDGES, scores, side="right") - 1, 0, 99)
    truth = realized(scores, labels)
    assert estimate.roc_auc.value == pytest.approx(roc_auc_score(labels, bins), abs=1e-12)
    for name in ("accuracy", "precision", "recall", "f1"):
        assert estimate.metric(name).value == pytest.approx(truth[name], abs=1e-12)


def test_sampling_error_matches_the_spread_of_realized_metrics_over_windows():
    """The band's σ is the std of a metric over windows of the same size drawn from the
    baseline's population (Monte Carlo with 300 windows of 2,000 rows)."""
    rng = np.random.default_rng(14)
    calibration = baseline_map(rng, n=200_000)
    estimator = Estimator(calibration, RULE)
    size = 2_000
    spreads = {name: [] for name in METRICS}
    scores, labels = traffic(rng, size, 2.0, 3.0)
    assert counted(scores, labels) == pytest.approx(realized(scores, labels), abs=1e-12)
    for _ in range(300):
        scores, labels = traffic(rng, size, 2.0, 3.0)
        for name, value in counted(scores, labels).items():
            spreads[name].append(value)
    estimate = estimator.estimate(bin_counts(traffic(rng, size, 2.0, 3.0)[0], EDGES))
    for name in METRICS:
        observed = float(np.std(spreads[name]))
        predicted = estimate.metric(name).sampling_error
        assert predicted == pytest.approx(observed, rel=0.2), (name, predicted, observed)


def test_band_is_three_sampling_errors_and_clipped():
    rng = np.random.default_rng(15)
    calibration = baseline_map(rng)
    estimate = estimate_performance(calibration, bin_counts(traffic(rng, 500, 2, 3)[0], EDGES))
    for name in METRICS:
        e = estimate.metric(name)
        assert e.lower == pytest.approx(max(0.0, e.value - 3 * e.sampling_error))
        assert e.upper == pytest.approx(min(1.0, e.value + 3 * e.sampling_error))
    narrow = estimate_performance(
        calibration, bin_counts(traffic(rng, 500, 2, 3)[0], EDGES), sigmas=1.0
    )
    assert narrow.accuracy.upper - narrow.accuracy.lower < estimate.accuracy.upper - (
        estimate.accuracy.lower
    )


def test_timeline_per_bucket_and_overall():
    rng = np.random.default_rng(16)
    calibration = baseline_map(rng)
    buckets = [bin_counts(traffic(rng, 3_000, a, 3.0)[0], EDGES) for a in (2.0, 1.0, 0.5)]
    timeline = estimate_timeline(calibration, buckets, RULE)
    assert [b.count for b in timeline.buckets] == [3_000] * 3
    assert timeline.overall.count == 9_000
    summed = tuple(np.sum(buckets, axis=0))
    assert timeline.overall == estimate_performance(calibration, summed, RULE)
    accuracy = [b.accuracy.value for b in timeline.buckets]
    assert accuracy == sorted(accuracy)  # fewer positives: easier negatives, higher accuracy
    # a smaller window has a wider band
    assert timeline.buckets[0].accuracy.sampling_error > timeline.overall.accuracy.sampling_error


def test_empty_window_and_empty_timeline():
    rng = np.random.default_rng(17)
    calibration = baseline_map(rng, n=20_000)
    empty = estimate_performance(calibration, (0,) * 100)
    assert empty.count == 0
    for name in METRICS:
        assert empty.metric(name).value is None
        assert empty.metric(name).estimated
    assert estimate_timeline(calibration, []).overall.count == 0
    payload = empty.to_dict()
    assert payload["estimated"] is True
    assert payload["metrics"]["accuracy"]["value"] is None


def test_window_predicted_all_negative_has_no_precision():
    rng = np.random.default_rng(18)
    calibration = baseline_map(rng, n=20_000)
    counts = [10] * 50 + [0] * 50  # every score below 0.5
    estimate = estimate_performance(calibration, counts, RULE)
    assert estimate.precision.value is None
    assert estimate.accuracy.value is not None
    assert estimate.recall.value == 0.0


def test_bad_inputs_are_refused():
    rng = np.random.default_rng(19)
    calibration = baseline_map(rng, n=20_000)
    with pytest.raises(UsageError, match="not a score bin edge"):
        estimate_performance(calibration, (1,) * 100, DecisionRule(0.505))
    with pytest.raises(UsageError, match="not a score bin edge"):
        estimate_performance(calibration, (1,) * 100, DecisionRule(1.0))
    with pytest.raises(UsageError, match="has 50 bins, the calibration map 100"):
        estimate_performance(calibration, (1,) * 50)
    with pytest.raises(UsageError, match="non-negative"):
        estimate_performance(calibration, (-1,) + (1,) * 99)
    with pytest.raises(UsageError, match="no estimate for 'mae'"):
        estimate_performance(calibration, (1,) * 100).metric("mae")


def test_the_models_threshold_is_read_off_the_baseline_counts():
    rng = np.random.default_rng(20)
    scores = rng.random(10_000)
    predicted = scores >= 0.65
    fitted = fit_rule(
        bin_counts(scores, EDGES, predicted), bin_counts(scores, EDGES, ~predicted), EDGES
    )
    assert fitted.rule == DecisionRule(0.65)
    assert (fitted.misses, fitted.rows) == (0, 10_000)
    flipped = predicted.copy()
    flipped[:7] = ~flipped[:7]  # seven rows disagree with any threshold
    fitted = fit_rule(
        bin_counts(scores, EDGES, flipped), bin_counts(scores, EDGES, ~flipped), EDGES
    )
    assert fitted.rule == DecisionRule(0.65)
    assert fitted.misses == 7
    everything = fit_rule(bin_counts(scores, EDGES), (0,) * 100, EDGES)
    assert everything.rule == DecisionRule(0.0)
    with pytest.raises(UsageError, match="do not match"):
        fit_rule((1,) * 10, (1,) * 10, EDGES)
