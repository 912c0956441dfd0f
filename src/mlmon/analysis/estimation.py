"""CBPE in a trace: the profile's stored calibration, and a window's estimates over time.

A profile registered with a score column and binary labels keeps a
:class:`ScoreCalibration` (its JSON form in ``Profile.calibration``): the
calibration map fitted on the baseline's counts per score bin, the decision
rule read off its predicted labels, and which class the score is a
probability of. :func:`estimator_for` turns it into an
:class:`~mlmon.analysis.cbpe.Estimator` for the trace's positive class;
without one (an old profile, no profile, a score-less baseline) the trace
falls back to the raw scores taken as probabilities (identity map,
threshold 0.5: what mlmon's estimate assumed before CBPE), and says so.

:func:`estimate_window` asks a source for the window's rows per score bin
(the map's edges, per timeline bucket) and returns the estimates for the
window, each bucket, and the cumulative and sliding windows of the timeline.
Pure over the source's answers, like the rest of the trace.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from mlmon.analysis.calibration import (
    IDENTITY,
    CalibrationMap,
    centres_of,
    equal_width_edges,
)
from mlmon.analysis.cbpe import DecisionRule, Estimate, Estimator, PerformanceEstimate
from mlmon.errors import UsageError

#: Calibration resolution at registration: width 0.005, so scores with two decimals
#: (common in exported tables) each sit inside a bin rather than on an edge.
CALIBRATION_BINS = 200
UNDEFINED = Estimate(None, None, None, None)


@dataclass(frozen=True)
class ScoreCalibration:
    """What registration stores so a window's performance can be estimated without actuals."""

    map: CalibrationMap
    rule: DecisionRule
    score_label: str  # the class the score is a probability of
    rule_misses: int | None = None  # baseline rows whose predicted label the rule gets wrong

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.map.to_dict(),
            "score_label": self.score_label,
            "threshold": self.rule.threshold,
            "rule_misses": self.rule_misses,
        }

    def describe(self) -> str:
        """One line for ``mlmon baseline register``."""
        how = "isotonic map" if self.map.method != IDENTITY else "raw scores kept (calibrated)"
        return (
            f"scores calibrated for estimates without actuals: {how} on {self.map.bins} bins, "
            f"predicts {self.score_label!r} from score {self.rule.threshold:g}"
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScoreCalibration:
        try:
            rule = DecisionRule(float(data["threshold"]))
            label = str(data["score_label"])
        except (KeyError, TypeError, ValueError) as error:
            raise UsageError(f"calibration in the profile is unreadable: {error}") from None
        calibration = CalibrationMap.from_dict(data)
        rule.first_positive_bin(calibration.edges)  # refuses a threshold off the edges
        misses = data.get("rule_misses")
        return cls(calibration, rule, label, int(misses) if misses is not None else None)


def uncalibrated_map(bins: int = 100) -> CalibrationMap:
    """The raw scores as probabilities (bin centres): no baseline counts behind it."""
    edges = equal_width_edges(bins)
    zeros = (0,) * bins
    return CalibrationMap(
        edges=edges,
        positive=zeros,
        negative=zeros,
        probability=tuple(float(c) for c in centres_of(edges)),
        method=IDENTITY,
    )


@dataclass(frozen=True)
class EstimatorChoice:
    estimator: Estimator
    calibrated: bool  # fitted on a labelled baseline (else raw scores taken as probabilities)
    classes_known: bool  # precision, recall and F1 refer to the report's positive class


def estimator_for(calibration: Mapping[str, Any] | None, positive: str | None) -> EstimatorChoice:
    """The estimator for a profile's stored calibration (None: the uncalibrated fallback)."""
    if calibration is None:
        return EstimatorChoice(Estimator(uncalibrated_map()), calibrated=False, classes_known=False)
    stored = ScoreCalibration.from_dict(calibration)
    return EstimatorChoice(
        Estimator(
            stored.map,
            stored.rule,
            score_class_positive=positive is None or positive == stored.score_label,
        ),
        calibrated=True,
        classes_known=positive is not None,
    )


@dataclass(frozen=True)
class WindowEstimates:
    overall: PerformanceEstimate
    #: timeline bucket start → (bucket, cumulative, sliding) estimates
    buckets: Mapping[str, tuple[PerformanceEstimate, PerformanceEstimate, PerformanceEstimate]]


def estimate_window(
    source: Any, choice: EstimatorChoice, interval: str | None, sliding: int = 4
) -> WindowEstimates | None:
    """Estimates from the window's score counts; None when the window has no scores."""
    estimator = choice.estimator
    counted = source.score_bins(estimator.calibration.edges, interval)
    if counted is None or not sum(counted.total):
        return None

    def estimate(counts: Sequence[float]) -> PerformanceEstimate:
        out = estimator.estimate(counts)
        if choice.classes_known:
            return out
        return replace(out, precision=UNDEFINED, recall=UNDEFINED, f1=UNDEFINED)

    starts = [start for start, _ in counted.buckets]
    rows = np.asarray([counts for _, counts in counted.buckets], dtype=float)
    buckets = {}
    for i, start in enumerate(starts):
        buckets[start] = (
            estimate(rows[i]),
            estimate(rows[: i + 1].sum(axis=0)),
            estimate(rows[max(0, i - sliding + 1) : i + 1].sum(axis=0)),
        )
    return WindowEstimates(overall=estimate(counted.total), buckets=buckets)


def band_and_basis(estimate: PerformanceEstimate, name: str, labelled: int, lead: str = "") -> str:
    """``± 0.004 (CBPE, no actuals)``: the band's half-width and what the value rests on."""
    value = estimate.metric(name)
    band = f"± {estimate.sigmas * value.sampling_error:.3f} " if value.sampling_error else ""
    why = "no actuals" if labelled == 0 else f"only {labelled:,} actuals"
    raw = ", raw scores" if estimate.calibration == IDENTITY else ""
    return f"{band}({lead}CBPE{raw}, {why})"


def describe_estimate(estimate: PerformanceEstimate, name: str, labelled: int) -> str:
    """``estimated ROC AUC 0.962 ± 0.004 (CBPE, no actuals)``: the value and its band."""
    value = estimate.metric(name).value
    title = {"roc_auc": "ROC AUC", "f1": "F1"}.get(name, name)
    if value is None:  # no rows, no predicted positives, or the score's class unknown
        return f"estimated {title}: –"
    return f"estimated {title} {value:.3f} {band_and_basis(estimate, name, labelled)}"


__all__ = [
    "CALIBRATION_BINS",
    "EstimatorChoice",
    "ScoreCalibration",
    "WindowEstimates",
    "band_and_basis",
    "describe_estimate",
    "estimate_window",
    "estimator_for",
    "uncalibrated_map",
]
