"""``mlmon trace``: compare with a baseline, break down by slices, name the root cause.

:func:`trace` drives two :class:`~mlmon.analysis.source.Source` objects (the
window and its baseline) through the three steps and returns the whole
:class:`~mlmon.analysis.result.TraceReport`, built here and nowhere else.
Every number comes from the sources' aggregate answers, so Elasticsearch and
pandas give the same report. Pure: the sources are the only I/O, and the
caller (:mod:`mlmon._trace_request`) chose them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from mlmon.analysis import attribution as attribution_module
from mlmon.analysis import drift as drift_module
from mlmon.analysis import quality as quality_module
from mlmon.analysis.actuals import UnusableActuals
from mlmon.analysis.dimensions import Dimension
from mlmon.analysis.estimation import (
    EstimatorChoice,
    estimator_for,
)
from mlmon.analysis.evidence import EvidenceSettings, gather
from mlmon.analysis.latency import service_level
from mlmon.analysis.metrics import (
    finite,
    sample_size,
)
from mlmon.analysis.overall import (
    estimates_for,
    headline,
    overall_finding,
    timeline_points,
)
from mlmon.analysis.result import (
    BaselineInfo,
    EventsFile,
    ExplainedSlice,
    ResidualFinding,
    SearchStats,
    SliceCause,
    SliceFinding,
    TraceReport,
)
from mlmon.analysis.rootcause import explain
from mlmon.analysis.slices import ScoredSlice, SliceSettings, search
from mlmon.analysis.source import BucketRequest, Source
from mlmon.analysis.window import Window
from mlmon.errors import NoEvents, UsageError

Say = Callable[[str], None]


@dataclass(frozen=True)
class TraceSettings:
    """How a trace decides; every threshold lives here once (``alpha`` serves slices, drift
    and quality alike)."""

    alpha: float = 0.01  # family-wise error rate (Bonferroni) of each family of tests
    slices: SliceSettings = field(default_factory=SliceSettings)
    drift: drift_module.DriftSettings = field(default_factory=drift_module.DriftSettings)
    quality: quality_module.QualitySettings = field(default_factory=quality_module.QualitySettings)
    attribution: attribution_module.AttributionSettings = field(
        default_factory=attribution_module.AttributionSettings
    )
    sliding: int = 4  # timeline buckets in the sliding window
    latency_ratio: float = 2.0  # a version this many times slower (p95) is called out
    latency_min_ms: float = 20.0  # ...and at least this much slower
    min_metric_drop: float = 0.02  # overall: smaller drops are not called a degradation
    #: With fewer joined actuals than this, the window's metric is estimated (CBPE).
    min_actuals: int = 30


@dataclass(frozen=True)
class Subject:
    """What is traced against what: the report's header, resolved by the caller."""

    model: str
    version: str | None
    window: Window
    baseline: BaselineInfo
    backend: str
    positive_label: str | None
    notes: tuple[str, ...] = ()
    events_file: EventsFile | None = None
    #: actuals joined to the window that cannot score the metric (the caller counted them)
    unusable_actuals: UnusableActuals | None = None


def _slice_finding(s: ScoredSlice, metric: str) -> SliceFinding:
    return SliceFinding(
        filters=dict(s.key),
        impact=s.impact,
        arize_impact=s.arize_impact,
        current=finite(s.metric_current),
        baseline=finite(s.metric_baseline),
        baseline_from=s.baseline_from,
        volume_share=s.volume_share,
        count=int(s.current.n),
        labelled=int(sample_size(s.current, metric)),
        p_value=s.p_value,
        significant=s.significant,
        residual=_residual(s),
    )


def _residual(s: ScoredSlice) -> ResidualFinding | None:
    """What is left of a reported slice once other slices are removed (it is ranked on it)."""
    r = s.residual
    if r is None:
        return None
    return ResidualFinding(
        impact=r.impact,
        current=finite(r.metric_current),
        baseline=finite(r.metric_baseline),
        labelled=int(r.current.labelled or r.current.scored),
        p_value=r.p_value,
        without=tuple(dict(k) for k in r.excluded),
    )


def _bucket_counts(answer: dict | None) -> dict[str, float]:
    return {key[0][1]: stats.n for key, stats in (answer or {}).items()}


def trace(
    current: Source,
    baseline: Source,
    *,
    subject: Subject,
    metric: str,
    dimensions: Sequence[Dimension],
    outputs: Sequence[Dimension] = (),
    quality_features: Sequence[str] = (),
    interval: str = "86400s",
    settings: TraceSettings = TraceSettings(),
    service: Source | None = None,
    estimator: EstimatorChoice | None = None,
    say: Say = lambda _: None,
) -> TraceReport:
    """The whole report on ``metric``; ``service`` is the window over all versions;
    ``estimator``: CBPE for windows without actuals (None: the raw scores as probabilities)."""
    say("overall metric")
    overall_current = current.overall()
    overall_baseline = baseline.overall()
    if not overall_baseline.n:
        raise UsageError(
            f"the baseline ({subject.baseline.description}) has no predictions for model "
            f"{subject.model!r}"
        )
    if not overall_current.n:
        raise NoEvents(subject.model, subject.version, subject.window)
    choice = estimator or estimator_for(None, subject.positive_label)
    estimates = estimates_for(
        current,
        overall_current,
        metric,
        choice,
        interval,
        min_actuals=settings.min_actuals,
        sliding=settings.sliding,
    )
    baseline_estimates = estimates_for(
        baseline,
        overall_baseline,
        metric,
        choice,
        None,
        min_actuals=settings.min_actuals,
        sliding=settings.sliding,
    )
    overall = overall_finding(
        current, baseline, overall_current, overall_baseline, metric, estimates, baseline_estimates
    )
    unusable = subject.unusable_actuals
    if unusable is not None and overall.labelled == 0:
        overall = replace(overall, note=unusable.reason, unused_actuals=unusable.joined)
    notes = list(subject.notes)
    if (estimates or baseline_estimates) and not choice.calibrated:
        notes.append(
            "the estimate takes the raw scores as calibrated probabilities and 0.5 as the "
            "threshold: register a baseline with --score-column and labels to calibrate them"
        )

    say("timeline")
    timeline = timeline_points(current.timeline(interval), metric, settings.sliding, estimates)

    say("slices")
    answered: dict[BucketRequest, tuple[Any, Any]] = {}

    def fetch(asked: Sequence[BucketRequest]) -> tuple[list, list]:
        """Both sides' answers; the single-feature ones drift needs too are asked once.
        Every answer here is read for ``metric`` (or for its rows alone: drift, evidence)."""
        requests = [replace(r, metric=metric) for r in asked]
        new = [r for r in requests if r not in answered]
        if new:
            pairs = zip(current.buckets(new), baseline.buckets(new), strict=True)
            answered.update(zip(new, pairs, strict=True))
        return [answered[r][0] for r in requests], [answered[r][1] for r in requests]

    singles_now, singles_before = fetch([BucketRequest((d,)) for d in dimensions])
    result = None
    if overall.labelled > 0 and overall.baseline_labelled > 0:
        result = search(
            dimensions,
            fetch,
            overall_current,
            overall_baseline,
            settings.slices,
            metric=metric,
            alpha=settings.alpha,
        )
    else:
        unused = " (the window's actuals cannot be used: see below)"
        notes.append(
            "slices need actuals in the window and a baseline with labels: skipped"
            + (unused if overall.unused_actuals else "")
        )

    say("drift")
    output_before = baseline.buckets([BucketRequest((d,)) for d in outputs])
    output_now = current.buckets([BucketRequest((d,)) for d in outputs])
    drift = _drift(dimensions, singles_now, singles_before, settings)
    prediction_drift = _drift(outputs, output_now, output_before, settings)

    say("attributions")
    importance, attribution_drift = attribution_module.compare(
        current.attributions(), baseline.attributions(), settings.attribution, alpha=settings.alpha
    )
    if importance and not any(row.baseline_count for row in importance):
        notes.append(
            "the window's predictions carry attributions and the baseline none, so feature "
            "importance is not compared: register it with --attribution-prefix"
        )

    say("data quality")
    quality = quality_module.compare(
        quality_features,
        current.quality(quality_features),
        baseline.quality(quality_features),
        settings.quality,
        alpha=settings.alpha,
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
        settings=EvidenceSettings(settings.alpha, settings.drift, settings.quality),
    )
    root_causes = explain(
        called,
        metric=metric,
        evidence=evidence,
        drift=drift,
        quality=quality,
        baseline_buckets=baseline_buckets,
        categorical={d.name for d in dimensions if d.kind == "categorical"},
    )

    say("service level")
    latency = service_level(
        service or current,
        metric,
        ratio=settings.latency_ratio,
        min_ms=settings.latency_min_ms,
    )
    return TraceReport(
        model=subject.model,
        version=subject.version,
        window=subject.window,
        baseline=subject.baseline,
        backend=subject.backend,
        positive_label=subject.positive_label,
        notes=tuple(notes),
        events_file=subject.events_file,
        overall=overall,
        timeline=timeline,
        slices=tuple(
            replace(_slice_finding(s, metric), cause=SliceCause(c.kind, c.feature, c.evidence))
            for s, c in zip(called, root_causes, strict=False)
        ),
        slices_considered=tuple(_slice_finding(s, metric) for s in result.ranked) if result else (),
        slices_explained=tuple(
            ExplainedSlice(dict(broad), dict(narrow)) for broad, narrow in result.explained.items()
        )
        if result
        else None,
        drift=drift,
        prediction_drift=prediction_drift,
        quality=quality,
        root_causes=root_causes,
        latency=latency,
        headline=headline(overall, root_causes, latency, min_metric_drop=settings.min_metric_drop)
        + attribution_module.headline_suffix(attribution_drift),
        stats=_search_stats(result) if result else None,
        importance=importance,
        attribution_drift=attribution_drift,
    )


def _drift(
    dimensions: Sequence[Dimension],
    now_answers: Sequence[Any],
    before_answers: Sequence[Any],
    settings: TraceSettings,
) -> tuple[drift_module.DriftFinding, ...]:
    rows = []
    for dimension, now_answer, before_answer in zip(
        dimensions, now_answers, before_answers, strict=False
    ):
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
    return drift_module.flag(rows, settings.drift, alpha=settings.alpha)


def _search_stats(result: Any) -> SearchStats:
    return SearchStats(
        slices_scored=result.scored,
        slice_requests=result.requests,
        slice_requests_by_level=tuple(result.levels),
        slice_top_k=tuple((dict(s.key), s.impact) for s in result.top),
        slices_sampled=result.sampled,
        slices_rescored_exactly=result.rescored,
    )


def _width(dimension: Dimension) -> float:
    edges = dimension.edges
    if len(edges) < 2:
        return 1.0
    return (edges[-1] - edges[0]) / (len(edges) - 1)
