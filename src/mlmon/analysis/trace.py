"""``mlmon trace``: compare with a baseline, break down by slices, name the root cause.

:func:`trace` drives two :class:`~mlmon.analysis.source.Source` objects (the
window and its baseline) through the three steps and returns the report as a
plain dict whose keys are the stable JSON of ARCHITECTURE (``model``,
``window``, ``baseline``, ``overall``, ``slices``, ``drift``, ``quality``,
``root_causes``) plus ``timeline``, ``prediction_drift``, ``latency``,
``headline`` and ``stats``. Every number comes from the sources' aggregate
answers, so Elasticsearch and pandas give the same report.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlmon.analysis import drift as drift_module
from mlmon.analysis import quality as quality_module
from mlmon.analysis import stats as st
from mlmon.analysis.dimensions import Dimension, describe
from mlmon.analysis.evidence import EvidenceSettings, gather
from mlmon.analysis.metrics import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    Stats,
    degradation,
    metric_value,
    sample_size,
    task_of,
)
from mlmon.analysis.rootcause import explain
from mlmon.analysis.slices import ScoredSlice, SliceSettings, search
from mlmon.analysis.source import BucketRequest, ScoreHistogram, Source
from mlmon.errors import UsageError

Say = Callable[[str], None]


@dataclass(frozen=True)
class TraceSettings:
    metric: str = "accuracy"
    slices: SliceSettings = field(default_factory=SliceSettings)
    drift: drift_module.DriftSettings = field(default_factory=drift_module.DriftSettings)
    quality: quality_module.QualitySettings = field(default_factory=quality_module.QualitySettings)
    sliding: int = 4  # timeline buckets in the sliding window
    latency_ratio: float = 2.0  # a version this many times slower (p95) is called out
    latency_min_ms: float = 20.0  # ...and at least this much slower
    min_metric_drop: float = 0.02  # overall: smaller drops are not called a degradation


def _finite(value: float) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _metrics(stats: Stats, task: str, histogram: ScoreHistogram | None) -> dict[str, float | None]:
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
        out[name] = _finite(value)
    return out


def estimated_accuracy(histogram: ScoreHistogram | None) -> float | None:
    """Confidence-based estimate for a calibrated binary classifier: E[max(p, 1 − p)].

    Uses the score histogram's bin centres, so the estimate is within half a
    bin (0.005) of the per-row mean. Only meaningful when scores are
    calibrated probabilities of the positive class.
    """
    if histogram is None or not sum(histogram.all):
        return None
    bins = len(histogram.all)
    centres = [(i + 0.5) / bins for i in range(bins)]
    total = sum(histogram.all)
    return sum(n * max(c, 1 - c) for n, c in zip(histogram.all, centres, strict=False)) / total


def _slice_json(s: ScoredSlice, metric: str) -> dict[str, Any]:
    return {
        "filters": dict(s.key),
        "impact": s.impact,
        "arize_impact": s.arize_impact,
        "current": _finite(s.metric_current),
        "baseline": _finite(s.metric_baseline),
        "baseline_from": s.baseline_from,
        "volume_share": s.volume_share,
        "count": int(s.current.n),
        "labelled": int(sample_size(s.current, metric)),
        "p_value": s.p_value,
        "significant": s.significant,
        **_residual_json(s),
    }


def _residual_json(s: ScoredSlice) -> dict[str, Any]:
    """What is left of a reported slice once other slices are removed (it is ranked on it)."""
    r = s.residual
    if r is None:
        return {}
    return {
        "residual": {
            "impact": r.impact,
            "current": _finite(r.metric_current),
            "baseline": _finite(r.metric_baseline),
            "labelled": int(r.current.labelled or r.current.scored),
            "p_value": r.p_value,
            "without": [dict(k) for k in r.excluded],
        }
    }


def _timeline(points: list[tuple[str, Stats]], metric: str, sliding: int) -> list[dict[str, Any]]:
    out = []
    cumulative = Stats()
    for i, (start, stats) in enumerate(points):
        if not stats.n:
            continue
        cumulative = cumulative + stats
        window = Stats()
        for _, earlier in points[max(0, i - sliding + 1) : i + 1]:
            window = window + earlier
        out.append(
            {
                "start": start,
                "count": int(stats.n),
                "labelled": int(sample_size(stats, metric)),
                "current": _finite(metric_value(stats, metric)),
                "cumulative": _finite(metric_value(cumulative, metric)),
                "sliding": _finite(metric_value(window, metric)),
            }
        )
    return out


def _bucket_counts(answer: dict | None) -> dict[str, float]:
    return {key[0][1]: stats.n for key, stats in (answer or {}).items()}


def _latency_findings(
    latency: dict[str, dict[str, dict[str, float]]] | None,
    accuracy_by_version: dict[str, float | None],
    settings: TraceSettings,
    metric: str,
) -> list[dict[str, Any]]:
    if not latency or len(latency) < 2:
        return []
    p95 = {v: m.get("total", {}).get("p95") for v, m in latency.items()}
    known = {v: x for v, x in p95.items() if x is not None}
    if len(known) < 2:
        return []
    fastest = min(known, key=known.get)
    findings = []
    for version, value in sorted(known.items()):
        if version == fastest:
            continue
        ratio = value / known[fastest] if known[fastest] else math.inf
        if ratio >= settings.latency_ratio and value - known[fastest] >= settings.latency_min_ms:
            mine, theirs = accuracy_by_version.get(version), accuracy_by_version.get(fastest)
            gain = ""
            if mine is not None and theirs is not None:
                gain = f" for {metric} {mine:.3f} against {theirs:.3f}"
            findings.append(
                {
                    "version": version,
                    "compared_with": fastest,
                    "p95_ms": value,
                    "baseline_p95_ms": known[fastest],
                    "ratio": ratio,
                    "evidence": (
                        f"{version} is {ratio:.1f}× slower than {fastest} at p95 "
                        f"({value:.0f} ms against {known[fastest]:.0f} ms){gain}."
                    ),
                }
            )
    return findings


def trace(
    current: Source,
    baseline: Source,
    *,
    dimensions: Sequence[Dimension],
    outputs: Sequence[Dimension] = (),
    quality_features: Sequence[str] = (),
    interval: str = "86400s",
    settings: TraceSettings = TraceSettings(),
    service: Source | None = None,
    describe: dict[str, Any] | None = None,
    say: Say = lambda _: None,
) -> dict[str, Any]:
    """The whole report (see module docstring); ``service`` is the window over all versions."""
    metric = settings.metric
    task = task_of(metric)
    say("overall metric")
    overall_current = current.overall()
    if not overall_current.n:
        raise UsageError(
            f"no predictions for {current.scope.describe()}: check --model, --version and --window"
        )
    overall_baseline = baseline.overall()
    has_actuals = sample_size(overall_current, metric) > 0
    histogram = current.score_histogram()
    base_histogram = baseline.score_histogram()

    report: dict[str, Any] = dict(describe or {})
    metrics_now = _metrics(overall_current, task, histogram)
    metrics_before = _metrics(overall_baseline, task, base_histogram)
    overall: dict[str, Any] = {
        "metric": metric,
        "current": metrics_now.get(metric),
        "baseline": metrics_before.get(metric),
        "estimated": False,
        "count": int(overall_current.n),
        "labelled": int(sample_size(overall_current, metric)),
        "baseline_count": int(overall_baseline.n),
        "baseline_labelled": int(sample_size(overall_baseline, metric)),
        "metrics": metrics_now,
        "baseline_metrics": metrics_before,
    }
    if not has_actuals:
        estimate = estimated_accuracy(histogram) if task == "classification" else None
        overall.update(
            current=estimate,
            estimated=estimate is not None,
            note="no actuals joined in this window: the current value is an estimate from the "
            "scores (confidence-based, assumes calibrated probabilities)",
        )
    if sample_size(overall_baseline, metric) == 0 and task == "classification":
        before = estimated_accuracy(base_histogram)
        if before is not None:  # compare estimate with estimate, like with like
            overall.update(baseline=before, baseline_estimated=True)
    report["overall"] = overall

    say("timeline")
    report["timeline"] = _timeline(current.timeline(interval), metric, settings.sliding)

    say("slices")
    slice_settings = SliceSettings(**{**settings.slices.__dict__, "metric": metric})

    answered: dict[BucketRequest, tuple[Any, Any]] = {}

    def fetch(requests: Sequence[BucketRequest]) -> tuple[list, list]:
        """Both sides' answers; the single-feature ones drift needs too are asked once."""
        new = [r for r in requests if r not in answered]
        if new:
            pairs = zip(current.buckets(new), baseline.buckets(new), strict=True)
            answered.update(zip(new, pairs, strict=True))
        return [answered[r][0] for r in requests], [answered[r][1] for r in requests]

    singles_now, singles_before = fetch([BucketRequest((d,)) for d in dimensions])
    result = None
    if has_actuals and sample_size(overall_baseline, metric) > 0:
        result = search(dimensions, fetch, overall_current, overall_baseline, slice_settings)
        report["slices"] = [_slice_json(s, metric) for s in result.called]
        report["slices_considered"] = [_slice_json(s, metric) for s in result.ranked]
        report["slices_explained"] = [
            {"filters": dict(broad), "explained_by": dict(narrow)}
            for broad, narrow in result.explained.items()
        ]
    else:
        report["slices"] = []
        report["slices_considered"] = []
        report.setdefault("notes", []).append(
            "slices need actuals in the window and a baseline with labels: skipped"
        )

    say("drift")
    drift_rows = []
    output_rows = []
    output_before = baseline.buckets([BucketRequest((d,)) for d in outputs])
    output_now = current.buckets([BucketRequest((d,)) for d in outputs])
    for rows, dims, now_answers, before_answers in (
        (drift_rows, dimensions, singles_now, singles_before),
        (output_rows, outputs, output_now, output_before),
    ):
        answers = zip(dims, now_answers, before_answers, strict=False)
        for dimension, now_answer, before_answer in answers:
            if before_answer is None:
                continue
            row = drift_module.measure(
                dimension,
                _bucket_counts(before_answer),
                _bucket_counts(now_answer),
                settings=settings.drift,
                low=(dimension.edges[0] - _width(dimension)) if dimension.edges else None,
                high=(dimension.edges[-1] + _width(dimension)) if dimension.edges else None,
            )
            if row is not None:
                rows.append(row)
    report["drift"] = drift_module.flag(drift_rows, settings.drift)
    report["prediction_drift"] = drift_module.flag(output_rows, settings.drift)

    say("data quality")
    report["quality"] = quality_module.compare(
        quality_features,
        current.quality(quality_features),
        baseline.quality(quality_features),
        settings.quality,
    )

    say("root cause")
    baseline_buckets = {
        d.name: _bucket_counts(answer)
        for d, answer in zip(dimensions, singles_before, strict=False)
        if answer is not None
    }
    called = result.called if result else []
    evidence = gather(
        called,
        dimensions,
        fetch,
        overall_current=overall_current,
        overall_baseline=overall_baseline,
        baseline_buckets=baseline_buckets,
        settings=EvidenceSettings(
            alpha=settings.drift.alpha,
            psi=settings.drift.psi,
            missing_rise=settings.quality.missing_rise,
            unseen_rise=settings.quality.unseen_rise,
        ),
    )
    report["root_causes"] = explain(
        called,
        metric=metric,
        evidence=evidence,
        drift=report["drift"],
        quality=report["quality"],
        baseline_buckets=baseline_buckets,
        categorical={d.name for d in dimensions if d.kind == "categorical"},
    )
    for row, cause in zip(report["slices"], report["root_causes"], strict=False):
        row["cause"] = {k: cause[k] for k in ("kind", "feature", "evidence")}

    say("service level")
    service = service or current
    latency = service.latency()
    by_version = service.buckets(
        [BucketRequest((Dimension("version", "model.version", "categorical"),))]
    )[0]
    accuracy_by_version = {
        key[0][1]: _finite(metric_value(stats, metric)) for key, stats in (by_version or {}).items()
    }
    report["latency"] = {
        "by_version": latency or {},
        "metric_by_version": accuracy_by_version,
        "findings": _latency_findings(latency, accuracy_by_version, settings, metric),
    }
    report["headline"] = headline(report, settings)
    if result is not None:
        report["stats"] = {
            "slices_scored": result.scored,
            "slice_requests": result.requests,
            "slice_requests_by_level": result.levels,
            "slice_top_k": [[dict(s.key), s.impact] for s in result.top],  # what pruning keeps
            "slices_sampled": result.sampled,
            "slices_rescored_exactly": result.rescored,
        }
    return report


def _width(dimension: Dimension) -> float:
    edges = dimension.edges
    if len(edges) < 2:
        return 1.0
    return (edges[-1] - edges[0]) / (len(edges) - 1)


def headline(report: dict[str, Any], settings: TraceSettings) -> str:
    """The answer first, in one sentence."""
    overall = report["overall"]
    metric = overall["metric"]
    now, before = overall["current"], overall["baseline"]
    estimate = " (estimated)" if overall.get("estimated") else ""
    if now is None:
        head = f"{metric} cannot be computed for this window."
    elif before is None:
        head = f"{metric} is {now:.3f}{estimate}; the baseline has no {metric} to compare with."
    else:
        change = degradation(before, now, metric)
        if change >= settings.min_metric_drop:
            head = f"{metric} fell from {before:.3f} to {now:.3f}{estimate}."
        elif -change >= settings.min_metric_drop:
            head = f"{metric} improved from {before:.3f} to {now:.3f}{estimate}."
        else:
            head = f"{metric} is steady: {now:.3f}{estimate} against {before:.3f}."
    causes = report["root_causes"]
    if causes:
        first = causes[0]
        where = first["slice"] or {"feature": first["feature"]}
        if first["kind"] == "unexplained":
            head += f" Top slice: {describe(where.items())}, cause unexplained."
        else:
            head += f" Top cause: {first['kind']} ({describe(where.items())})."
        if len(causes) > 1:
            head += f" {len(causes) - 1} more below."
    else:
        head += " No slice, drift or data-quality change is significant."
    if report.get("latency", {}).get("findings"):
        head += " " + report["latency"]["findings"][0]["evidence"]
    return head
