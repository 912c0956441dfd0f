"""What the analyzer asks of a body of traffic, and the registered profile as one.

A :class:`Source` answers a handful of aggregate questions about one scope
(model, version, time window): overall counts, counts per bucket of one or
more dimensions, a timeline, quality-tag counts, a score histogram,
latency percentiles and attribution sums. Elasticsearch answers with aggregations
(:mod:`mlmon.sources.elasticsearch`), pandas with group-bys over a file
(:mod:`mlmon.sources.frame`), and a registered profile with what it stored at
registration (:class:`ProfileSource`, below). The analysis never sees an
event, so memory grows with buckets, never with traffic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from mlmon.analysis.dimensions import MISSING, Dimension, SliceKey
from mlmon.analysis.metrics import Stats
from mlmon.analysis.outcome_stats import cross_stats, performance_stats, regression_overall
from mlmon.baseline.profile import AttributionSums, BucketPerformance, FeatureProfile, Profile

#: Score histogram resolution: 100 bins of width 0.01 on [0, 1].
SCORE_BINS = 100
#: Rows where every (dimension, bucket) condition holds: a slice a backend can filter on.
Conjunction = tuple[tuple[Dimension, str], ...]


@dataclass(frozen=True)
class Scope:
    model: str
    version: str | None = None
    start: str | None = None  # ISO-8601, inclusive
    end: str | None = None  # ISO-8601, exclusive

    def describe(self) -> str:
        version = f" {self.version}" if self.version else ""
        return f"{self.model}{version} {self.start or '…'}..{self.end or '…'}"


@dataclass(frozen=True)
class BucketRequest:
    """Counts per bucket of ``dimensions`` (crossed), keeping only ``keep`` buckets of each.

    ``sample``: a backend may estimate the counts from about this many randomly
    sampled rows (scaled back up) when it holds many more; ``None`` asks for
    exact counts. Backends that cannot sample answer exactly.
    """

    dimensions: tuple[Dimension, ...]
    keep: tuple[frozenset[str] | None, ...] | None = None
    sample: int | None = None
    #: Rows in any of these slices are left out ("the slice without what is already
    #: explained"); each is a conjunction of (dimension, bucket) conditions.
    exclude: tuple[Conjunction, ...] = ()
    #: The metric the answer is read for: a backend may leave out the counts it does not
    #: stand on (accuracy needs no positive-class cells); ``None``: every count.
    metric: str | None = None

    def kept(self, index: int) -> frozenset[str] | None:
        return self.keep[index] if self.keep else None


@dataclass
class QualityCounts:
    n: int = 0
    missing: dict[str, int] = field(default_factory=dict)
    unseen: dict[str, int] = field(default_factory=dict)
    out_of_range: dict[str, int] = field(default_factory=dict)
    #: top unseen values per feature (value → count), where the source can tell
    unseen_values: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class ScoreHistogram:
    """Counts per score bin (``SCORE_BINS`` bins on [0, 1]) of all, positive and negative rows."""

    all: tuple[int, ...]
    positive: tuple[int, ...]
    negative: tuple[int, ...]


@dataclass(frozen=True)
class ScoreBins:
    """Rows per score bin on given edges (``[a, b)``; the first bin open below, the last
    above, so every scored row counts), overall and per timeline bucket (start, counts)."""

    total: tuple[int, ...]
    buckets: tuple[tuple[str, tuple[int, ...]], ...] = ()


Percentiles = dict[str, float]  # "p50" → ms


class Source(Protocol):
    scope: Scope

    def overall(self) -> Stats: ...

    def buckets(self, requests: Sequence[BucketRequest]) -> list[dict[SliceKey, Stats] | None]:
        """Per request, stats per bucket; ``None`` when the source cannot answer (crosses
        of a profile). Sent together so a backend can batch them."""
        ...

    def timeline(self, interval: str) -> list[tuple[str, Stats]]: ...

    def quality(self, features: Sequence[str]) -> QualityCounts: ...

    def score_histogram(self) -> ScoreHistogram | None: ...

    def score_bins(self, edges: Sequence[float], interval: str | None) -> ScoreBins | None:
        """Rows per score bin (CBPE's input), per ``interval`` bucket too when one is given."""
        ...

    def latency(self) -> dict[str, dict[str, Percentiles]] | None:
        """version → measure ("total", "inference", "features.<lookup>") → percentiles."""
        ...

    def attributions(self) -> dict[str, AttributionSums]:
        """Per feature with attributions in the scope: rows with one, Σ|a| and Σa²."""
        ...


class ProfileSource:
    """A registered profile answering what it stored: single-dimension buckets only."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.scope = Scope(model=profile.model, version=profile.version)
        self._cells: dict[str, list[tuple[tuple[str, ...], Any]] | None] = {}

    def overall(self) -> Stats:
        perf = self.profile.performance or {}
        n_labelled = float(perf.get("n", 0))
        if self.profile.task == "regression":
            return regression_overall(self.profile.rows, perf)
        accuracy = perf.get("accuracy")
        correct = round(accuracy * n_labelled) if accuracy is not None else 0
        return Stats(n=self.profile.rows, labelled=n_labelled, correct=correct)

    def _feature(self, dimension: Dimension) -> FeatureProfile | None:
        name = dimension.field.removeprefix("features.")
        if dimension.field.startswith("features."):
            return self.profile.features.get(name)
        return self.profile.outputs.get(dimension.field)

    def buckets(self, requests: Sequence[BucketRequest]) -> list[dict[SliceKey, Stats] | None]:
        answers: list[dict[SliceKey, Stats] | None] = []
        for request in requests:
            if request.exclude:  # a profile keeps no rows to leave out: it cannot answer
                answers.append(None)
                continue
            if len(request.dimensions) > 1:
                answers.append(self._cross_buckets(request))
                continue
            feature = self._feature(request.dimensions[0])
            answers.append(
                _feature_buckets(request.dimensions[0], feature, request.kept(0))
                if feature
                else None
            )
        return answers

    def _cross_buckets(self, request: BucketRequest) -> dict[SliceKey, Stats] | None:
        """A cross from the profile's cross table (cells it kept; None if it has none)."""
        order = sorted(range(len(request.dimensions)), key=lambda i: request.dimensions[i].name)
        dims = [request.dimensions[i] for i in order]
        if not all(d.field.startswith("features.") for d in dims):
            return None
        cells = self._cross_cells(tuple(dims))
        if cells is None:
            return None
        keeps = [request.kept(i) for i in order]
        names = [d.name for d in dims]  # sorted: a slice key lists its features by name
        return {
            tuple(zip(names, labels, strict=True)): cross_stats(sums)
            for labels, sums in cells
            if all(k is None or label in k for k, label in zip(keeps, labels, strict=True))
        }

    def _cross_cells(self, dims: tuple[Dimension, ...]) -> list[tuple[tuple[str, ...], Any]] | None:
        """A stored cross table as (bucket labels, the row's sums), labelled once per trace:
        a slice search asks the same table again for every kept combination, and only the
        cells it keeps become stats."""
        name = "|".join(d.name for d in dims)
        if name not in self._cells:
            rows = self.profile.crosses.get(name)
            cells = None
            if rows is not None:
                width = len(dims)
                labellers = [_labeller(d) for d in dims]
                cells = [
                    (tuple(f(b) for f, b in zip(labellers, row[:width], strict=True)), row[width:])
                    for row in rows
                ]
            self._cells[name] = cells
        return self._cells[name]

    def timeline(self, interval: str) -> list[tuple[str, Stats]]:
        return []

    def quality(self, features: Sequence[str]) -> QualityCounts:
        counts = QualityCounts(n=self.profile.rows)
        for name in features:
            feature = self.profile.features.get(name)
            if feature is not None:
                counts.missing[name] = feature.missing
                counts.unseen[name] = 0
                counts.out_of_range[name] = 0
        return counts

    def score_histogram(self) -> ScoreHistogram | None:
        return None

    def score_bins(self, edges: Sequence[float], interval: str | None) -> ScoreBins | None:
        return None  # the profile's own score counts are in its calibration

    def latency(self) -> dict[str, dict[str, Percentiles]] | None:
        return None

    def attributions(self) -> dict[str, AttributionSums]:
        return dict(self.profile.attributions)


def _labeller(dimension: Dimension) -> Callable[[Any], str]:
    """How a cross table names a bucket of ``dimension``: a numeric bin by its label, a
    category as it is, None (or a bin out of range) as missing."""
    if dimension.kind == "numeric":
        labels = dimension.bin_labels()

        def numeric(bucket: Any) -> str:
            if bucket is None:
                return MISSING
            index = int(bucket)
            return labels[index] if 0 <= index < len(labels) else MISSING

        return numeric
    return lambda bucket: MISSING if bucket is None else str(bucket)


def _stats(n: int, perf: BucketPerformance | None) -> Stats:
    return Stats(n=n) if perf is None else performance_stats(n, perf)


def _feature_buckets(
    dimension: Dimension, feature: FeatureProfile, keep: frozenset[str] | None
) -> dict[SliceKey, Stats]:
    out: dict[SliceKey, Stats] = {}
    if feature.kind == "numeric":
        performance = feature.performance if isinstance(feature.performance, list) else None
        for i, label in enumerate(dimension.bin_labels()):
            counts = feature.bin_counts or []
            n = counts[i] if i < len(counts) else 0
            out[((dimension.name, label),)] = _stats(n, performance[i] if performance else None)
    else:
        performance = feature.performance if isinstance(feature.performance, dict) else {}
        for value, n in (feature.vocabulary or {}).items():
            out[((dimension.name, value),)] = _stats(
                n, performance.get(value) if feature.performance is not None else None
            )
    if feature.missing:
        out[((dimension.name, MISSING),)] = _stats(feature.missing, feature.missing_performance)
    if keep is not None:
        out = {key: value for key, value in out.items() if key[0][1] in keep}
    return out
