"""Performance without actuals: confidence-based performance estimation (CBPE).

NannyML's method, from a score histogram instead of rows. Through the
baseline's :class:`~mlmon.analysis.calibration.CalibrationMap`, a window's rows
in score bin *b* are each positive with probability p_b, so the bin adds
n_b·p_b expected positives and n_b·(1 − p_b) expected negatives. The decision
threshold (a bin edge) splits the bins into predicted positive and negative,
which gives the expected confusion matrix, and from it accuracy, precision,
recall and F1 (ratios of expected counts, as NannyML takes them). ROC AUC is
the area under the ROC curve the expected counts trace bin by bin from the top
score down — NannyML's cumulative sums of calibrated p and 1 − p, with the
rows of one bin tied. Assumes what CBPE assumes: P(label | score) in the
window is the baseline's (covariate shift, no concept drift).

**Band.** Each estimate carries a sampling error and a band of ``sigmas``
of it (3, NannyML's default). The error is analytic, NannyML's kind: for a
share (accuracy over all rows, precision over predicted positives, recall
over actual positives) √(r(1 − r) / rows it is taken over), NannyML's
per-row standard deviation over √rows. Two of NannyML's formulas are
corrected, because a Monte Carlo check (tests/unit/test_cbpe.py) found them
off: F1 by the delta method (NannyML's rescaled indicator overstates it by
1 + TP/(TP + FP + FN), 1.5× at F1 0.67), ROC AUC with DeLong's two terms
(NannyML keeps only the positives' placement variance and understates it by
about a quarter). NannyML takes the shares from the reference; here they are
taken from the window's expected confusion matrix and expected per-bin
counts. Where the window looks like the baseline the two agree; where its
class mix moved — the case CBPE exists for — the band follows it (half the
positives, a recall band √2 wider). An analytic error was preferred to the
standard deviation over resampled reference chunks because it needs no rows,
costs nothing, and gives a band for any window size, every time bucket
included. It measures sampling noise only, not error in the calibration map.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlmon.analysis.calibration import CalibrationMap, auc_from_counts
from mlmon.errors import UsageError

METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")
SIGMAS = 3.0  # NannyML's confidence band: estimate ± 3 sampling errors


@dataclass(frozen=True)
class DecisionRule:
    """The model predicts the positive class when its score is at least ``threshold``.

    The threshold must be one of the calibration map's bin edges (below 1), so
    every bin falls wholly on one side: [a, b) bins honour ``score >= threshold``.
    """

    threshold: float = 0.5

    def first_positive_bin(self, edges: Sequence[float]) -> int:
        for index, edge in enumerate(edges[:-1]):
            if math.isclose(edge, self.threshold, rel_tol=0.0, abs_tol=1e-12):
                return index
        raise UsageError(
            f"decision threshold {self.threshold:g} is not a score bin edge below 1 "
            f"(bins of the calibration map: {len(edges) - 1} from 0 to 1)"
        )


@dataclass(frozen=True)
class FittedRule:
    rule: DecisionRule
    misses: int  # baseline rows whose predicted label the rule gets wrong
    rows: int


def fit_rule(
    predicted_positive: Sequence[int], predicted_negative: Sequence[int], edges: Sequence[float]
) -> FittedRule:
    """The model's threshold, read off the baseline: the bin edge that best separates the rows
    it predicted positive from those it predicted negative (counts per score bin, the same
    aggregation as the calibration's with the filter on the predicted label instead)."""
    pos = np.asarray(predicted_positive, dtype=np.int64)
    neg = np.asarray(predicted_negative, dtype=np.int64)
    if pos.shape != neg.shape or pos.size != len(edges) - 1:
        raise UsageError("decision rule: counts per bin do not match the score bins")
    # misses with the threshold at edge k: positives below k plus negatives from k on
    below = np.concatenate([[0], np.cumsum(pos)])[:-1]
    above = neg.sum() - np.concatenate([[0], np.cumsum(neg)])[:-1]
    misses = below + above
    best = int(np.flatnonzero(misses == misses.min())[-1])  # of tied edges, the one that
    # starts the bin of the lowest score predicted positive
    return FittedRule(
        DecisionRule(float(edges[best])), int(misses[best]), int(pos.sum() + neg.sum())
    )


@dataclass(frozen=True)
class Estimate:
    """One estimated metric: value, sampling error and band; ``None`` where undefined."""

    value: float | None
    sampling_error: float | None
    lower: float | None
    upper: float | None
    estimated: bool = True  # always: never a realized figure

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "sampling_error": self.sampling_error,
            "lower": self.lower,
            "upper": self.upper,
            "estimated": self.estimated,
        }


@dataclass(frozen=True)
class ExpectedConfusion:
    """Expected counts of the window's confusion matrix (fractional)."""

    tp: float
    fp: float
    fn: float
    tn: float


@dataclass(frozen=True)
class PerformanceEstimate:
    count: int
    accuracy: Estimate
    precision: Estimate
    recall: Estimate
    f1: Estimate
    roc_auc: Estimate
    expected: ExpectedConfusion
    method: str = "cbpe"
    calibration: str = "isotonic"  # the map's method: isotonic, or identity (raw scores)
    threshold: float = 0.5  # the decision rule's: score >= threshold predicts the score's class
    sigmas: float = SIGMAS  # the band is value ± sigmas × sampling_error

    @property
    def metrics(self) -> dict[str, Estimate]:
        return {name: self.metric(name) for name in METRICS}

    def metric(self, name: str) -> Estimate:
        if name not in METRICS:
            raise UsageError(f"no estimate for {name!r} (estimated: {', '.join(METRICS)})")
        return getattr(self, name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "estimated": True,
            "count": self.count,
            "metrics": {name: self.metric(name).to_dict() for name in METRICS},
            "expected_confusion": self.expected.__dict__.copy(),
        }


@dataclass(frozen=True)
class EstimatedTimeline:
    overall: PerformanceEstimate
    buckets: tuple[PerformanceEstimate, ...]


def _proportion_error(hits: float, over: float) -> float | None:
    """Standard error of a share of ``over`` rows: √(r(1 − r) / over)."""
    if over <= 0:
        return None
    rate = min(max(hits / over, 0.0), 1.0)
    return math.sqrt(rate * (1 - rate) / over)


def _placement_variance(pos: np.ndarray, neg: np.ndarray) -> float:
    """Variance, over the positives, of the share of negatives each outscores (ties half)."""
    placement = (np.cumsum(neg) - neg / 2) / neg.sum()
    mean = np.sum(pos * placement) / pos.sum()
    return max(float(np.sum(pos * (placement - mean) ** 2) / pos.sum()), 0.0)


def _sampling_errors(pos: np.ndarray, neg: np.ndarray, first: int) -> dict[str, float | None]:
    """Sampling error of each metric over a population with these counts per score bin."""
    tp, fp = float(pos[first:].sum()), float(neg[first:].sum())
    fn, tn = float(pos[:first].sum()), float(neg[:first].sum())
    errors: dict[str, float | None] = {
        "accuracy": _proportion_error(tp + tn, tp + fp + fn + tn),
        "precision": _proportion_error(tp, tp + fp),
        "recall": _proportion_error(tp, tp + fn),
        "f1": None,
        "roc_auc": None,
    }
    relevant = tp + fp + fn  # F1 = 2q / (1 + q), q = TP share of the TP, FP and FN rows
    share = _proportion_error(tp, relevant)
    if share is not None and tp > 0:
        q = tp / relevant
        errors["f1"] = 2 / (1 + q) ** 2 * share  # delta method (NannyML: 2 / (1 + q))
    n_pos, n_neg = float(pos.sum()), float(neg.sum())
    if n_pos > 0 and n_neg > 0:  # DeLong: both classes' placement variances
        errors["roc_auc"] = math.sqrt(
            _placement_variance(pos, neg) / n_pos
            + _placement_variance(neg[::-1], pos[::-1]) / n_neg
        )
    return errors


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def _band(value: float | None, error: float | None, sigmas: float) -> Estimate:
    if value is None or not math.isfinite(value):
        return Estimate(None, error, None, None)
    if error is None:
        return Estimate(value, None, None, None)
    return Estimate(
        value, error, max(0.0, value - sigmas * error), min(1.0, value + sigmas * error)
    )


def _window_counts(calibration: CalibrationMap, counts: Sequence[int]) -> np.ndarray:
    array = np.asarray(counts, dtype=float)
    if array.ndim != 1 or array.size != calibration.bins:
        raise UsageError(
            f"score histogram has {array.size} bins, the calibration map {calibration.bins}: "
            "count the window on the map's edges"
        )
    if np.any(array < 0) or not np.all(np.isfinite(array)):
        raise UsageError("score histogram: counts must be non-negative numbers")
    return array


class Estimator:
    """CBPE for one calibration map and decision rule.

    The map gives P(score's class | bin). ``score_class_positive=False`` reports
    precision, recall and F1 for the *other* class (the report's positive class
    is not the one the score is a probability of): the bins are read from the top
    score down with the classes swapped, which leaves accuracy and ROC AUC as
    they are.
    """

    def __init__(
        self,
        calibration: CalibrationMap,
        rule: DecisionRule = DecisionRule(),
        sigmas: float = SIGMAS,
        *,
        score_class_positive: bool = True,
    ):
        self.calibration = calibration
        self.rule = rule
        self.first = rule.first_positive_bin(calibration.edges)
        self.sigmas = float(sigmas)
        self.probability = np.asarray(calibration.probability, dtype=float)
        self.score_class_positive = score_class_positive

    def estimate(self, counts: Sequence[int]) -> PerformanceEstimate:
        """Estimates for one window from its rows per score bin (the map's edges)."""
        n = _window_counts(self.calibration, counts)
        rows = round(float(n.sum()))
        expected_pos = n * self.probability
        expected_neg = n - expected_pos
        first = self.first
        if not self.score_class_positive:  # the other class, its bins from the top down
            expected_pos, expected_neg = expected_neg[::-1], expected_pos[::-1]
            first = n.size - first
        tp, fp = float(expected_pos[first:].sum()), float(expected_neg[first:].sum())
        fn, tn = float(expected_pos[:first].sum()), float(expected_neg[:first].sum())
        auc = auc_from_counts(expected_pos, expected_neg) if rows else math.nan
        values = {
            "accuracy": _ratio(tp + tn, float(n.sum())),
            "precision": _ratio(tp, tp + fp),
            "recall": _ratio(tp, tp + fn),
            "f1": _ratio(tp, tp + 0.5 * (fp + fn)),
            "roc_auc": auc if math.isfinite(auc) else None,
        }
        errors = _sampling_errors(expected_pos, expected_neg, first) if rows else {}
        bands = {name: _band(values[name], errors.get(name), self.sigmas) for name in METRICS}
        return PerformanceEstimate(
            count=rows,
            expected=ExpectedConfusion(tp, fp, fn, tn),
            calibration=self.calibration.method,
            threshold=self.rule.threshold,
            sigmas=self.sigmas,
            **bands,
        )

    def timeline(self, buckets: Sequence[Sequence[int]]) -> EstimatedTimeline:
        """Estimates per time bucket, and overall on the buckets' summed histogram."""
        per_bucket = tuple(self.estimate(counts) for counts in buckets)
        if buckets:
            summed = np.sum([_window_counts(self.calibration, c) for c in buckets], axis=0)
        else:
            summed = np.zeros(self.calibration.bins)
        return EstimatedTimeline(overall=self.estimate(summed), buckets=per_bucket)


def estimate_performance(
    calibration: CalibrationMap,
    counts: Sequence[int],
    rule: DecisionRule = DecisionRule(),
    *,
    sigmas: float = SIGMAS,
) -> PerformanceEstimate:
    """CBPE estimates for one window (see the module docstring)."""
    return Estimator(calibration, rule, sigmas).estimate(counts)


def estimate_timeline(
    calibration: CalibrationMap,
    buckets: Sequence[Sequence[int]],
    rule: DecisionRule = DecisionRule(),
    *,
    sigmas: float = SIGMAS,
) -> EstimatedTimeline:
    """CBPE estimates per time bucket and overall."""
    return Estimator(calibration, rule, sigmas).timeline(buckets)
