"""What a trace finds, as frozen values, and the one function that makes its JSON.

:class:`TraceReport` is the whole answer of ``mlmon trace``; renderers and
``mlmon check`` read its fields. :func:`to_json` turns it into the JSON
document whose keys ARCHITECTURE marks **stable** (``model``, ``window``,
``baseline``, ``overall``, ``slices``, ``drift``, ``quality``,
``root_causes``) plus the extra keys the report has always carried
(``timeline``, ``prediction_drift``, ``latency``, ``headline``, ``stats`` …), and
``importance`` / ``attribution_drift`` for models that log attributions.
Field names *are* the JSON keys; a field marked with
:data:`~mlmon.analysis.jsonkeys.OMIT_EMPTY` is left out of the JSON when it
holds nothing, as the report always did with optional keys.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlmon.analysis.attribution import AttributionDrift, FeatureImportance
from mlmon.analysis.cbpe import PerformanceEstimate
from mlmon.analysis.drift import DriftFinding
from mlmon.analysis.jsonkeys import OMIT_EMPTY, OMIT_NONE, omitted
from mlmon.analysis.quality import QualityFinding
from mlmon.analysis.rootcause import RootCause
from mlmon.analysis.window import Window

Filters = Mapping[str, str]


@dataclass(frozen=True)
class BaselineInfo:
    """What the window was compared with."""

    kind: str  # "profile", "window" or "version"
    description: str
    name: str | None = field(default=None, metadata=OMIT_EMPTY)
    profile_id: str | None = field(default=None, metadata=OMIT_EMPTY)
    rows: int | None = field(default=None, metadata=OMIT_EMPTY)
    start: str | None = field(default=None, metadata=OMIT_EMPTY)
    end: str | None = field(default=None, metadata=OMIT_EMPTY)
    version: str | None = field(default=None, metadata=OMIT_EMPTY)


@dataclass(frozen=True)
class EventsFile:
    """The ``--events FILE`` the pandas backend read, and what it refused."""

    path: str
    lines: int
    invalid: int
    unjoined_actuals: int
    first_errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Overall:
    metric: str
    current: float | None
    baseline: float | None
    estimated: bool
    count: int
    labelled: int
    baseline_count: int
    baseline_labelled: int
    metrics: Mapping[str, float | None]
    baseline_metrics: Mapping[str, float | None]
    note: str | None = field(default=None, metadata=OMIT_EMPTY)
    baseline_estimated: bool = field(default=False, metadata=OMIT_EMPTY)
    #: CBPE's estimates of every metric, with their bands, when the window (or the
    #: baseline) has too few actuals; ``current`` (``baseline``) is then its value.
    estimate: PerformanceEstimate | None = field(default=None, metadata=OMIT_NONE)
    baseline_estimate: PerformanceEstimate | None = field(default=None, metadata=OMIT_NONE)
    #: actuals joined to the window that cannot score the metric (``note`` says why)
    unused_actuals: int | None = field(default=None, metadata=OMIT_EMPTY)


@dataclass(frozen=True)
class TimelinePoint:
    start: str
    count: int
    labelled: int
    current: float | None
    cumulative: float | None
    sliding: float | None
    #: current, cumulative and sliding are CBPE estimates (the window lacks actuals)
    estimated: bool = field(default=False, metadata=OMIT_EMPTY)
    estimate: PerformanceEstimate | None = field(default=None, metadata=OMIT_NONE)


@dataclass(frozen=True)
class SliceFinding:
    """One slice with both impact scores, its metric and its baseline's."""

    filters: Filters
    impact: float
    arize_impact: float
    current: float | None
    baseline: float | None
    baseline_from: str
    volume_share: float
    count: int
    labelled: int
    p_value: float
    significant: bool
    #: What is left of a reported slice once other slices are removed (it is ranked on it).
    residual: ResidualFinding | None = field(default=None, metadata=OMIT_NONE)
    #: The verdict of a reported slice (its root cause, in short).
    cause: SliceCause | None = field(default=None, metadata=OMIT_NONE)


@dataclass(frozen=True)
class ResidualFinding:
    """A slice's metric and impact with the slices in ``without`` filtered out of it."""

    impact: float
    current: float | None
    baseline: float | None
    labelled: int
    p_value: float
    without: tuple[Filters, ...]


@dataclass(frozen=True)
class SliceCause:
    kind: str
    feature: str
    evidence: str


@dataclass(frozen=True)
class ExplainedSlice:
    """A broad slice left out because a narrower one carries its impact."""

    filters: Filters
    explained_by: Filters


@dataclass(frozen=True)
class LatencyFinding:
    version: str
    compared_with: str
    p95_ms: float
    baseline_p95_ms: float
    ratio: float
    evidence: str


@dataclass(frozen=True)
class Latency:
    #: version → measure ("total", "inference", "features.<lookup>") → "p50"/"p95"/"p99" → ms
    by_version: Mapping[str, Mapping[str, Mapping[str, float]]]
    metric_by_version: Mapping[str, float | None]
    findings: tuple[LatencyFinding, ...] = ()


@dataclass(frozen=True)
class SearchStats:
    """How much work the slice search did (figures for bench/ and the curious)."""

    slices_scored: int
    slice_requests: int
    slice_requests_by_level: tuple[int, ...]
    slice_top_k: tuple[tuple[Filters, float], ...]  # what pruning keeps
    slices_sampled: bool
    slices_rescored_exactly: int


@dataclass(frozen=True)
class UpstreamLink:
    """A feature that carries an upstream model's output (found on sampled links)."""

    feature: str
    model: str
    version: str | None
    matched: int
    sampled: int


@dataclass(frozen=True)
class UpstreamFinding:
    """The top slice's or a drifted feature is an upstream model's output: what it did."""

    feature: str
    model: str
    version: str | None
    reason: str  # "top slice" or "drifted"
    metric: str | None
    current: float | None
    baseline: float | None
    prediction_psi: float | None
    evidence: str


@dataclass(frozen=True)
class TraceReport:
    model: str
    version: str | None
    window: Window
    baseline: BaselineInfo
    backend: str  # "elasticsearch" or "pandas"
    positive_label: str | None
    overall: Overall
    timeline: tuple[TimelinePoint, ...]
    slices: tuple[SliceFinding, ...]
    slices_considered: tuple[SliceFinding, ...]
    drift: tuple[DriftFinding, ...]
    prediction_drift: tuple[DriftFinding, ...]
    quality: tuple[QualityFinding, ...]
    root_causes: tuple[RootCause, ...]
    latency: Latency
    headline: str
    notes: tuple[str, ...] = field(default=(), metadata=OMIT_EMPTY)
    events_file: EventsFile | None = field(default=None, metadata=OMIT_EMPTY)
    #: None when the slice search did not run (no actuals, or a baseline without labels)
    slices_explained: tuple[ExplainedSlice, ...] | None = field(default=None, metadata=OMIT_NONE)
    stats: SearchStats | None = field(default=None, metadata=OMIT_EMPTY)
    upstream: tuple[UpstreamFinding, ...] = field(default=(), metadata=OMIT_EMPTY)
    #: Features ranked by mean |attribution| in the window, beside the baseline's (only
    #: when the window's predictions carry attributions)
    importance: tuple[FeatureImportance, ...] = field(default=(), metadata=OMIT_EMPTY)
    #: Features whose importance changed significantly and materially
    attribution_drift: tuple[AttributionDrift, ...] = field(default=(), metadata=OMIT_EMPTY)


#: The order the JSON has always had: who and what first, then the findings.
_TOP_ORDER = (
    "model",
    "version",
    "window",
    "baseline",
    "backend",
    "positive_label",
    "notes",
    "events_file",
    "overall",
    "timeline",
    "slices",
    "slices_considered",
    "slices_explained",
    "drift",
    "prediction_drift",
    "importance",
    "attribution_drift",
    "quality",
    "root_causes",
    "upstream",
    "latency",
    "headline",
    "stats",
)


def to_json(report: TraceReport) -> dict[str, Any]:
    """The report as the JSON document (plain dicts, lists, strings and numbers)."""
    out = _plain(report)
    return {key: out[key] for key in _TOP_ORDER if key in out}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if omitted(f.metadata, item):
                continue
            out[f.name] = _plain(item)
        return out
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_plain(item) for item in value]
    return value
