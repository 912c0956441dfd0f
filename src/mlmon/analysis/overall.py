"""The overall figure of a trace: the metric now and before, over time, and the headline.

Pure over :class:`~mlmon.analysis.metrics.Stats` and the sources' score
answers; CBPE stands in for the metric where actuals are too few.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from mlmon.analysis import stats as st
from mlmon.analysis.dimensions import describe
from mlmon.analysis.estimation import (
    EstimatorChoice,
    WindowEstimates,
    band_and_basis,
    describe_estimate,
    estimate_window,
)
from mlmon.analysis.metrics import (
    CLASSIFICATION_METRICS,
    LOWER_IS_BETTER,
    REGRESSION_METRICS,
    Stats,
    finite,
    material_degradation,
    metric_value,
    sample_size,
    task_of,
)
from mlmon.analysis.result import Latency, Overall, TimelinePoint
from mlmon.analysis.rootcause import RootCause
from mlmon.analysis.source import ScoreHistogram, Source


def metrics_of(
    stats: Stats, task: str, histogram: ScoreHistogram | None
) -> dict[str, float | None]:
    names = REGRESSION_METRICS if task == "regression" else CLASSIFICATION_METRICS
    out = {}
    for name in names:
        if name == "roc_auc":
            value = (
                st.auc_from_histograms(histogram.positive, histogram.negative)
                if histogram and sum(histogram.positive) and sum(histogram.negative)
                else math.nan
            )
        else:
            value = metric_value(stats, name)
        out[name] = finite(value)
    return out


def overall_finding(
    current: Source,
    baseline: Source,
    now: Stats,
    before: Stats,
    metric: str,
    estimates: WindowEstimates | None,
    baseline_estimates: WindowEstimates | None,
) -> Overall:
    """The metric now and in the baseline (estimated from the scores where actuals lack)."""
    task = task_of(metric)
    metrics_now = metrics_of(now, task, current.score_histogram())
    metrics_before = metrics_of(before, task, baseline.score_histogram())
    value_now, value_before = metrics_now.get(metric), metrics_before.get(metric)
    labelled = int(sample_size(now, metric))
    note = None
    if estimates is not None:
        value_now = estimates.overall.metric(metric).value
        note = (
            describe_estimate(estimates.overall, metric, labelled) + ": the current value is "
            "an estimate from the window's scores through the baseline's calibration "
            "(CBPE: assumes P(label | score) has not changed)"
        )
    elif task == "classification" and labelled == 0:
        note = "no actuals and no scores in this window: nothing to estimate the metric from"
    elif labelled == 0:  # an error has no estimate from scores
        note = f"no actuals with values in this window: {metric} needs them"
    if baseline_estimates is not None:  # compare estimate with estimate, like with like
        value_before = baseline_estimates.overall.metric(metric).value
    return Overall(
        metric=metric,
        current=value_now,
        baseline=value_before,
        estimated=estimates is not None,
        count=int(now.n),
        labelled=labelled,
        baseline_count=int(before.n),
        baseline_labelled=int(sample_size(before, metric)),
        metrics=metrics_now,
        baseline_metrics=metrics_before,
        note=note,
        baseline_estimated=baseline_estimates is not None,
        estimate=estimates.overall if estimates else None,
        baseline_estimate=baseline_estimates.overall if baseline_estimates else None,
    )


def estimates_for(
    source: Source,
    stats: Stats,
    metric: str,
    choice: EstimatorChoice,
    interval: str | None,
    *,
    min_actuals: int,
    sliding: int,
) -> WindowEstimates | None:
    """CBPE for a side with too few actuals for ``metric`` (classification only)."""
    if task_of(metric) != "classification" or sample_size(stats, metric) >= min_actuals:
        return None
    return estimate_window(source, choice, interval, sliding)


def timeline_points(
    points: list[tuple[str, Stats]],
    metric: str,
    sliding: int,
    estimates: WindowEstimates | None = None,
) -> tuple[TimelinePoint, ...]:
    out = []
    cumulative = Stats()
    for i, (start, stats) in enumerate(points):
        if not stats.n:
            continue
        cumulative = cumulative + stats
        window = Stats()
        for _, earlier in points[max(0, i - sliding + 1) : i + 1]:
            window = window + earlier
        point = TimelinePoint(
            start=start,
            count=int(stats.n),
            labelled=int(sample_size(stats, metric)),
            current=finite(metric_value(stats, metric)),
            cumulative=finite(metric_value(cumulative, metric)),
            sliding=finite(metric_value(window, metric)),
        )
        estimated = estimates.buckets.get(start) if estimates else None
        if estimated is not None:  # the window is estimated: so is every point of it
            bucket, so_far, recent = (e.metric(metric).value for e in estimated)
            point = replace(
                point,
                current=bucket,
                cumulative=so_far,
                sliding=recent,
                estimated=True,
                estimate=estimated[0],
            )
        out.append(point)
    return tuple(out)


def headline(
    overall: Overall,
    root_causes: Sequence[RootCause],
    latency: Latency,
    *,
    min_metric_drop: float,
) -> str:
    """The answer first, in one sentence."""
    metric = overall.metric
    now, before = overall.current, overall.baseline
    estimate = (
        " " + band_and_basis(overall.estimate, metric, overall.labelled, lead="estimated: ")
        if overall.estimate is not None
        else ""
    )
    if now is None:
        head = f"{metric} cannot be computed for this window."
    elif before is None:
        head = f"{metric} is {now:.3f}{estimate}; the baseline has no {metric} to compare with."
    else:
        change = material_degradation(before, now, metric)
        worse = "rose" if metric in LOWER_IS_BETTER else "fell"
        if change >= min_metric_drop:
            head = f"{metric} {worse} from {before:.3f} to {now:.3f}{estimate}."
        elif -change >= min_metric_drop:
            head = f"{metric} improved from {before:.3f} to {now:.3f}{estimate}."
        else:
            head = f"{metric} is steady: {now:.3f}{estimate} against {before:.3f}."
    if root_causes:
        first = root_causes[0]
        where = first.slice or {"feature": first.feature}
        if first.kind == "unexplained":
            head += f" Top slice: {describe(where.items())}, cause unexplained."
        else:
            head += f" Top cause: {first.kind} ({describe(where.items())})."
        if len(root_causes) > 1:
            head += f" {len(root_causes) - 1} more below."
    else:
        head += " No slice, drift or data-quality change is significant."
    if latency.findings:
        head += " " + latency.findings[0].evidence
    return head
