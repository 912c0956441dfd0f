"""Performance metrics from sufficient statistics that aggregations can count.

A :class:`Stats` is what one bucket (a window, a day, a slice) needs for
every metric: counts for classification (a confusion matrix on the positive
class) and sums for regression. Elasticsearch fills it from ``stats`` and
``filter`` aggregations, pandas from group-bys; both backends then share
these functions, so they agree exactly. Stats add and subtract, which gives
"the window without this slice" for free.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, fields
from typing import Literal

from mlmon.analysis import stats as st

Task = Literal["classification", "regression"]

CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")
REGRESSION_METRICS = ("mae", "rmse", "mape")
METRICS = CLASSIFICATION_METRICS + REGRESSION_METRICS
#: Metrics where lower is better (an increase is a degradation).
LOWER_IS_BETTER = frozenset(REGRESSION_METRICS)


def finite(value: float | None) -> float | None:
    """The value, or None where it is NaN or infinite (JSON never carries NaN)."""
    return value if value is not None and math.isfinite(value) else None


@dataclass(frozen=True)
class Stats:
    """Counts of one bucket; every field is additive."""

    n: float = 0  # predictions
    labelled: float = 0  # predictions with a joined actual label
    correct: float = 0
    tp: float = 0  # positive class: predicted and actual
    predicted_positive: float = 0  # among labelled
    actual_positive: float = 0  # among labelled
    scored: float = 0  # predictions with a joined actual value (regression)
    sum_abs_error: float = 0
    sum_squared_error: float = 0
    percentage_scored: float = 0
    sum_abs_percentage_error: float = 0

    def __add__(self, other: Stats) -> Stats:
        return Stats(*map(operator.add, _values(self), _values(other)))

    def __sub__(self, other: Stats) -> Stats:
        return Stats(*map(operator.sub, _values(self), _values(other)))

    @property
    def errors(self) -> float:
        return self.labelled - self.correct


#: Field names in order, looked up once: a slice search adds and subtracts ~10⁴ Stats.
_FIELDS = tuple(f.name for f in fields(Stats))
_values = operator.attrgetter(*_FIELDS)


def default_metric(task: Task | None) -> str:
    return "mae" if task == "regression" else "accuracy"


def task_of(metric: str) -> Task:
    return "regression" if metric in REGRESSION_METRICS else "classification"


def metric_value(stats: Stats, metric: str) -> float:
    """The metric of one bucket; NaN when the bucket has nothing to measure it on.

    ROC AUC needs score histograms, not counts: it is computed at the window
    level only (:func:`mlmon.analysis.stats.auc_from_histograms`); for a
    bucket, it falls back to accuracy, and reports say so.
    """
    if metric in ("accuracy", "roc_auc"):
        return stats.correct / stats.labelled if stats.labelled else math.nan
    if metric in ("precision", "recall", "f1"):
        tp = stats.tp
        fp = stats.predicted_positive - tp
        fn = stats.actual_positive - tp
        tn = stats.labelled - tp - fp - fn
        return st.binary_metrics(tp, fp, fn, tn)[metric]
    if metric in REGRESSION_METRICS:
        return st.regression_metrics(
            stats.scored,
            stats.sum_abs_error,
            stats.sum_squared_error,
            stats.sum_abs_percentage_error,
            stats.percentage_scored,
        )[metric]
    raise ValueError(f"unknown metric {metric!r} (one of {', '.join(METRICS)})")


#: (successes, trials) of the proportion each classification metric is tested
#: on; F1 and ROC AUC have no proportion of their own and use accuracy's.
_PROPORTIONS = {"precision": ("tp", "predicted_positive"), "recall": ("tp", "actual_positive")}
_ACCURACY = ("correct", "labelled")


def _proportion(stats: Stats, metric: str) -> tuple[int, int]:
    hits, trials = _PROPORTIONS.get(metric, _ACCURACY)
    return int(getattr(stats, hits)), int(getattr(stats, trials))


def needs_positive_counts(metric: str | None) -> bool:
    """Whether ``metric`` reads the positive-class cells (tp, predicted and actual
    positives): precision, recall and F1 do; accuracy (and ROC AUC per bucket) do not."""
    return metric is None or metric in ("precision", "recall", "f1")


def sample_size(stats: Stats, metric: str) -> float:
    """How many rows the metric stands on (labels for classification, values for regression)."""
    if metric in REGRESSION_METRICS:
        return stats.scored
    return getattr(stats, _PROPORTIONS.get(metric, _ACCURACY)[1])


def degradation(baseline: float, current: float, metric: str) -> float:
    """How much worse ``current`` is than ``baseline`` (positive = worse), either direction."""
    return current - baseline if metric in LOWER_IS_BETTER else baseline - current


def material_degradation(baseline: float, current: float, metric: str) -> float:
    """The degradation thresholds are set on: in the metric's own units for the
    proportions (accuracy 0.90 → 0.85 is 0.05), relative to the baseline for the
    error metrics (MAE 3.0 → 3.3 is 0.10), whose units are the target's own.
    """
    change = degradation(baseline, current, metric)
    if metric not in LOWER_IS_BETTER or not math.isfinite(change):
        return change
    if baseline > 0:
        return change / baseline
    return math.inf if change > 0 else 0.0


def loss_mass(stats: Stats, metric: str) -> float:
    """An upper bound on ``n × degradation`` that can only shrink when a slice is narrowed.

    For accuracy, the errors (a slice's baseline accuracy is at most 1); for
    the regression metrics, the summed absolute error; for the others, the
    rows themselves (every proportion lies in [0, 1]). This is what makes the
    pruned slice search exact: a child's score never exceeds its parents' bound.
    """
    if metric in ("accuracy", "roc_auc"):
        return stats.errors
    if metric in REGRESSION_METRICS:
        if metric == "mae":
            return stats.sum_abs_error
        return math.inf
    return sample_size(stats, metric)


def change_pvalue(current: Stats, baseline: Stats, metric: str) -> float:
    """Two-sided p-value that the metric differs between two buckets.

    Proportions (accuracy, precision, recall) use the pooled two-proportion
    z-test; F1 and ROC AUC are tested on accuracy; regression metrics use a
    z-test on the mean absolute error (its variance comes from the squared
    errors, which the stats carry).
    """
    if metric in REGRESSION_METRICS:
        return _mean_abs_error_pvalue(current, baseline)
    return st.two_proportion_pvalue(*_proportion(current, metric), *_proportion(baseline, metric))


def _mean_abs_error_pvalue(current: Stats, baseline: Stats) -> float:
    from scipy.special import ndtr  # norm.sf(x) is ndtr(-x), without importing scipy.stats

    if current.scored < 2 or baseline.scored < 2:
        return 1.0

    def moments(s: Stats) -> tuple[float, float]:
        mean = s.sum_abs_error / s.scored
        variance = max(s.sum_squared_error / s.scored - mean * mean, 0.0)
        return mean, variance / s.scored

    m1, v1 = moments(current)
    m2, v2 = moments(baseline)
    if v1 + v2 == 0:
        return 1.0 if m1 == m2 else 0.0
    z = (m1 - m2) / math.sqrt(v1 + v2)
    return float(2 * ndtr(-abs(z)))
