"""Traffic in Elasticsearch as a :class:`~mlmon.analysis.source.Source`: aggregations only.

Every answer is a ``size: 0`` search; bucket requests go out together in one
``_msearch`` so the cluster works on them in parallel. No scripts, runtime
fields or composite tricks: ``terms`` (categorical), ``filters`` of ``range``
queries on the baseline bins (numeric, plus a ``(missing)`` filter, so
buckets nest for crosses), ``stats``/``filter`` for the metric counts,
``date_histogram``, ``histogram`` and ``percentiles``. User-supplied values
(model, version, slice values) only ever travel as ``term`` values or
``include`` lists, never as query syntax.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch

from mlmon.analysis.dimensions import MISSING, Dimension, SliceKey, bucket_label
from mlmon.analysis.metrics import Stats, Task
from mlmon.analysis.source import (
    SCORE_BINS,
    BucketRequest,
    Conjunction,
    Percentiles,
    QualityCounts,
    Scope,
    ScoreBins,
    ScoreHistogram,
)
from mlmon.errors import ClusterError, ClusterNotFound
from mlmon.es.client import shard_failure, with_backoff
from mlmon.schema.event import model_indices
from mlmon.schema.pairing import SHADOW

PERCENTS = (50.0, 95.0, 99.0)
#: Analysis searches may scan millions of documents: give them longer than a CRUD call.
ANALYSIS_TIMEOUT = 600.0
#: Searches per _msearch: the node reduces a batch's aggregations together, and a
#: thousand crosses at once (or 64 three-way crosses of a 500-value feature) broke
#: a 1 GB heap's circuit breaker.
MSEARCH_BATCH = 16
#: Buckets one merged search may return: well under the node's search.max_buckets
#: (65,536) and its 1 GB heap's circuit breaker.
MERGED_BUCKETS = 20_000
#: Fixed, so a sampled answer is the same on every run over the same data.
SAMPLER_SEED = 20261125


def scope_query(scope: Scope) -> dict[str, Any]:
    filters: list[dict[str, Any]] = [
        {"term": {"event.kind": "prediction"}},
        {"term": {"model.name": scope.model}},
    ]
    if scope.version:
        filters.append({"term": {"model.version": scope.version}})
    if scope.start or scope.end:
        bounds = {}
        if scope.start:
            bounds["gte"] = scope.start
        if scope.end:
            bounds["lt"] = scope.end
        filters.append({"range": {"@timestamp": bounds}})
    if scope.version:
        return {"bool": {"filter": filters}}
    # All versions means the traffic served: a shadow answered the same requests again.
    return {"bool": {"filter": filters, "must_not": [{"term": {"model.deployment": SHADOW}}]}}


def stats_aggs(task: Task, positive: str | None) -> dict[str, Any]:
    """Sub-aggregations that fill a :class:`Stats` for any bucket."""
    if task == "regression":
        return {
            "ae": {"stats": {"field": "actual.abs_error"}},
            "se": {"sum": {"field": "actual.squared_error"}},
            "pe": {"stats": {"field": "actual.abs_percentage_error"}},
        }
    aggs: dict[str, Any] = {"ok": {"stats": {"field": "actual.correct"}}}
    if positive is not None:
        for name, field in (("pp", "prediction.label"), ("ap", "actual.label")):
            aggs[name] = {
                "filter": {"term": {field: positive}},
                "aggs": {"ok": {"stats": {"field": "actual.correct"}}},
            }
    return aggs


def parse_stats(bucket: dict[str, Any], task: Task) -> Stats:
    n = bucket["doc_count"]
    if task == "regression":
        return Stats(
            n=n,
            scored=bucket["ae"]["count"],
            sum_abs_error=bucket["ae"]["sum"] or 0.0,
            sum_squared_error=bucket["se"]["value"] or 0.0,
            percentage_scored=bucket["pe"]["count"],
            sum_abs_percentage_error=bucket["pe"]["sum"] or 0.0,
        )
    ok = bucket["ok"]
    labelled, correct = ok["count"], ok["sum"] or 0
    tp = predicted_positive = actual_positive = 0
    if "pp" in bucket:
        tp = bucket["pp"]["ok"]["sum"] or 0
        predicted_positive = bucket["pp"]["ok"]["count"]
        actual_positive = bucket["ap"]["ok"]["count"]
    return Stats(
        n=n,
        labelled=labelled,
        correct=correct,
        tp=tp,
        predicted_positive=predicted_positive,
        actual_positive=actual_positive,
    )


def dimension_agg(
    dimension: Dimension, keep: frozenset[str] | None, inner: dict[str, Any]
) -> dict[str, Any]:
    """One level of bucketing: values of a keyword, or baseline bins of a number."""
    if dimension.kind == "categorical":
        terms: dict[str, Any] = {
            "field": dimension.field,
            "size": len(keep) if keep is not None else dimension.max_values,
            "missing": MISSING,
        }
        if keep is not None:
            terms["include"] = sorted(keep)
        return {"terms": terms, "aggs": inner}
    filters: dict[str, Any] = {}
    for label, gte, lt in dimension.bin_ranges():
        if keep is not None and label not in keep:
            continue
        bounds = {k: v for k, v in (("gte", gte), ("lt", lt)) if v is not None}
        filters[label] = (
            {"range": {dimension.field: bounds}}
            if bounds
            else {"exists": {"field": dimension.field}}
        )
    if keep is None or MISSING in keep:
        filters[MISSING] = {"bool": {"must_not": [{"exists": {"field": dimension.field}}]}}
    return {"filters": {"filters": filters}, "aggs": inner}


def keep_query(dimension: Dimension, keep: frozenset[str]) -> dict[str, Any]:
    """Only documents in the kept buckets: the query narrows what ES reads at all,
    where ``include`` alone would still visit every document of the scope."""
    should: list[dict[str, Any]] = []
    if dimension.kind == "categorical":
        values = sorted(v for v in keep if v != MISSING)
        if values:
            should.append({"terms": {dimension.field: values}})
    else:
        for label, gte, lt in dimension.bin_ranges():
            if label in keep:
                bounds = {k: v for k, v in (("gte", gte), ("lt", lt)) if v is not None}
                should.append(
                    {"range": {dimension.field: bounds}}
                    if bounds
                    else {"exists": {"field": dimension.field}}
                )
    if MISSING in keep:
        should.append({"bool": {"must_not": [{"exists": {"field": dimension.field}}]}})
    return {"bool": {"should": should, "minimum_should_match": 1}}


def exclude_clauses(exclude: Sequence[Conjunction]) -> list[dict[str, Any]]:
    """``must_not`` clauses leaving out every row of each excluded slice."""
    return [
        {"bool": {"filter": [keep_query(d, frozenset((bucket,))) for d, bucket in conjunction]}}
        for conjunction in exclude
    ]


def score_ranges(edges: Sequence[float]) -> dict[str, Any]:
    """A ``range`` aggregation on the score, one bucket per bin ``[a, b)``: the first open
    below, the last open above, so every scored row counts (as the pandas backend's)."""
    inner = list(edges[1:-1])
    ranges: list[dict[str, float]] = []
    for i in range(len(inner) + 1):
        bounds = {}
        if i > 0:
            bounds["from"] = float(inner[i - 1])
        if i < len(inner):
            bounds["to"] = float(inner[i])
        ranges.append(bounds)
    return {"range": {"field": "prediction.score", "ranges": ranges, "keyed": False}}


def sample_probability(target: int | None, total: int) -> float | None:
    """``random_sampler`` takes p < 0.5 (or 1); sample only where it saves at least half."""
    if not target or total <= 0:
        return None
    p = target / total
    return p if p < 0.5 else None


def _walk(
    agg: dict[str, Any],
    dimensions: Sequence[Dimension],
    prefix: SliceKey,
    task: Task,
    *,
    child: str = "d",
) -> dict[SliceKey, Stats]:
    """Stats per slice key; ``child`` names this level's sub-aggregation (``d`` below)."""
    out: dict[SliceKey, Stats] = {}
    dimension = dimensions[0]
    buckets = agg["buckets"]
    items = buckets.items() if isinstance(buckets, dict) else ((b["key"], b) for b in buckets)
    for key, bucket in items:
        if not bucket["doc_count"]:
            continue
        path = (*prefix, (dimension.name, bucket_label(key)))
        if len(dimensions) == 1:
            out[tuple(sorted(path))] = parse_stats(bucket, task)
        else:
            out.update(_walk(bucket[child], dimensions[1:], path, task))
    return out


@dataclass(frozen=True)
class _SearchPlan:
    dimensions: tuple[Dimension, ...]
    kept: tuple[frozenset[str] | None, ...]
    query: dict[str, Any]
    probability: float | None
    below: dict[str, Any]  # the aggregations under the first level
    #: Filters on the other levels' kept values: a search of one request reads only
    #: those rows; merged requests share the first level's filter and bucket the rest.
    narrowing: tuple[dict[str, Any], ...] = ()

    def alone(self) -> dict[str, Any]:
        """The query when this request has a search of its own: narrowed on every level."""
        if not self.narrowing:
            return self.query
        query = {**self.query, "bool": dict(self.query["bool"])}
        query["bool"]["filter"] = [*query["bool"]["filter"], *self.narrowing]
        return query

    def shares_search_with(self, other: _SearchPlan) -> bool:
        return (
            len(self.dimensions) > 1
            and len(other.dimensions) > 1
            and self.dimensions[0] == other.dimensions[0]
            and self.kept[0] == other.kept[0]
            # A sample is drawn from the rows a query matches: a merged (broader) query
            # would draw other rows and estimate other leaders. Only exact counts merge.
            and self.probability is None
            and other.probability is None
            and self.query == other.query
        )


def _groups(
    plans: Sequence[_SearchPlan], estimate: Callable[[_SearchPlan], int]
) -> list[list[int]]:
    """Indices of the plans, grouped into searches (order kept within a group)."""
    groups: list[list[int]] = []
    open_groups: list[tuple[list[int], int]] = []  # (members, estimated buckets)
    for j, plan in enumerate(plans):
        size = estimate(plan)
        for k, (members, buckets) in enumerate(open_groups):
            if buckets + size <= MERGED_BUCKETS and plans[members[0]].shares_search_with(plan):
                members.append(j)
                open_groups[k] = (members, buckets + size)
                break
        else:
            members = [j]
            groups.append(members)
            open_groups.append((members, size))
    return groups


class ElasticsearchSource:
    def __init__(
        self,
        client: Elasticsearch,
        scope: Scope,
        *,
        task: Task = "classification",
        positive: str | None = None,
        index: str | None = None,
    ) -> None:
        """``index``: the predictions index pattern, when the caller already made it."""
        self.client = client
        self.scope = scope
        self.task = task
        self.positive = positive
        self.index = index or model_indices("predictions", scope.model)
        self.requests = 0  # searches sent (each _msearch body counts its searches)
        self.sampled = 0  # of those, estimated on a random sample
        self._total: int | None = None
        #: Buckets each feature returned on its own: bounds a merged search's size.
        self._cardinality: dict[Dimension, int] = {}

    def _search(self, aggs: dict[str, Any]) -> dict[str, Any]:
        self.requests += 1
        client = self.client.options(request_timeout=ANALYSIS_TIMEOUT)
        answer = with_backoff(
            lambda: (
                client.search(
                    index=self.index,
                    size=0,
                    query=scope_query(self.scope),
                    aggs=aggs,
                    track_total_hits=True,
                    allow_no_indices=True,
                    ignore_unavailable=True,
                ).body
            )
        )
        refused = shard_failure(answer)
        if refused:  # counts from some shards only would be silently wrong
            raise ClusterError(f"search over {self.index}: {refused}")
        return answer

    def overall(self) -> Stats:
        found = self._search(
            {"all": {"filter": {"match_all": {}}, "aggs": stats_aggs(self.task, self.positive)}}
        )
        if "aggregations" not in found:  # no index matches: no traffic yet, or retention
            self._total = 0
            return Stats()
        self._total = found["aggregations"]["all"]["doc_count"]
        return parse_stats(found["aggregations"]["all"], self.task)

    def total(self) -> int:
        if self._total is None:
            self.overall()
        assert self._total is not None
        return self._total

    def buckets(self, requests: Sequence[BucketRequest]) -> list[dict[SliceKey, Stats] | None]:
        """Answer crosses that share their query and first feature in one search each.

        A trace's pair level is ~190 requests over the same documents; grouped by
        their first feature they are ~20 searches, each reading the documents
        once for all its sub-aggregations. A group stays under
        :data:`MERGED_BUCKETS` buckets (estimated from what each feature
        returned before), far inside the node's ``search.max_buckets``. Sampled
        requests keep a search each, narrowed on every level, so their sample is
        the one an unmerged request draws.
        """
        if not requests:
            return []
        plans = [self._plan(request) for request in requests]
        groups = _groups(plans, self._estimate)
        body: list[dict[str, Any]] = []
        for group in groups:
            first = plans[group[0]]
            below = (
                first.below
                if len(first.dimensions) == 1
                else {f"d{j}": plans[j].below["d"] for j in group}  # several crosses, one pass
            )
            inner = {"d": dimension_agg(first.dimensions[0], first.kept[0], below)}
            if first.probability is not None:
                self.sampled += 1
                sampler = {"probability": first.probability, "seed": SAMPLER_SEED}
                inner = {"s": {"random_sampler": sampler, "aggs": inner}}
            body.append({"index": self.index, "ignore_unavailable": True, "allow_no_indices": True})
            query = first.alone() if len(group) == 1 else first.query
            body.append({"size": 0, "query": query, "aggs": inner})
        self.requests += len(groups)
        client = self.client.options(request_timeout=ANALYSIS_TIMEOUT)
        responses: list[dict[str, Any]] = []
        step = 2 * MSEARCH_BATCH  # header and body lines per search
        for start in range(0, len(body), step):
            part = body[start : start + step]
            responses += with_backoff(lambda p=part: client.msearch(searches=p).body)["responses"]
        out: list[dict[SliceKey, Stats] | None] = [None] * len(requests)
        for group, response in zip(groups, responses, strict=True):
            field = plans[group[0]].dimensions[0].field
            if "error" in response:
                reason = response["error"].get("reason") or response["error"]
                raise ClusterError(f"aggregation over {field} failed: {reason}")
            refused = shard_failure(response)
            if refused:  # counts from some shards only would be silently wrong
                raise ClusterError(f"aggregation over {field}: {refused}")
            aggs = response.get("aggregations")
            if aggs and "s" in aggs:  # sampled: counts come back scaled to the whole
                aggs = aggs["s"]
            for j in group:
                dims = plans[j].dimensions
                child = "d" if len(dims) == 1 else f"d{j}"
                out[j] = _walk(aggs["d"], dims, (), self.task, child=child) if aggs else {}
                if len(dims) == 1 and plans[j].kept[0] is None:
                    self._cardinality[dims[0]] = len(out[j] or ())
        return out

    def _plan(self, request: BucketRequest) -> _SearchPlan:
        """What one request needs: its query, sampling, and the levels below its first."""
        below = stats_aggs(self.task, self.positive)
        for i in reversed(range(1, len(request.dimensions))):
            below = {"d": dimension_agg(request.dimensions[i], request.kept(i), below)}
        kept = tuple(request.kept(i) for i in range(len(request.dimensions)))
        narrowing = [
            keep_query(dimension, values)
            for dimension, values in zip(request.dimensions, kept, strict=True)
            if values is not None and len(request.dimensions) > 1
        ]
        query = scope_query(self.scope)
        query["bool"]["filter"] += narrowing[:1]
        if request.exclude:
            query["bool"].setdefault("must_not", []).extend(exclude_clauses(request.exclude))
        p = sample_probability(request.sample, self.total()) if request.sample else None
        return _SearchPlan(request.dimensions, kept, query, p, below, tuple(narrowing[1:]))

    def _estimate(self, plan: _SearchPlan) -> int:
        """Buckets a request may return: kept values, else what the feature had alone."""
        total = 1
        for dimension, kept in zip(plan.dimensions, plan.kept, strict=True):
            if kept is not None:
                size = len(kept)
            elif dimension.kind == "numeric":
                size = len(dimension.edges) + 2
            else:
                size = self._cardinality.get(dimension, dimension.max_values) + 1
            total *= size
        return total

    def timeline(self, interval: str) -> list[tuple[str, Stats]]:
        found = self._search(
            {
                "t": {
                    "date_histogram": {"field": "@timestamp", "fixed_interval": interval},
                    "aggs": stats_aggs(self.task, self.positive),
                }
            }
        )
        return [
            (b["key_as_string"], parse_stats(b, self.task))
            for b in found.get("aggregations", {}).get("t", {}).get("buckets", [])
        ]

    def quality(self, features: Sequence[str]) -> QualityCounts:
        size = max(len(features), 1)
        found = self._search(
            {
                "missing": {"terms": {"field": "quality.missing", "size": size}},
                "unseen": {
                    "terms": {"field": "quality.unseen", "size": size},
                },
                "out_of_range": {"terms": {"field": "quality.out_of_range", "size": size}},
                **{
                    f"values:{i}": {
                        "filter": {"term": {"quality.unseen": name}},
                        "aggs": {"top": {"terms": {"field": f"features.{name}", "size": 5}}},
                    }
                    for i, name in enumerate(features)
                },
            }
        )
        counts = QualityCounts(n=found["hits"]["total"]["value"])
        aggs = found.get("aggregations")
        if not aggs:
            return counts
        wanted = set(features)
        for kind in ("missing", "unseen", "out_of_range"):
            target = getattr(counts, kind)
            for name in features:
                target[name] = 0
            for bucket in aggs[kind]["buckets"]:
                if bucket["key"] in wanted:
                    target[bucket["key"]] = bucket["doc_count"]
        for i, name in enumerate(features):
            top = aggs[f"values:{i}"]["top"]["buckets"]
            if top:
                counts.unseen_values[name] = {str(b["key"]): b["doc_count"] for b in top}
        return counts

    def score_histogram(self) -> ScoreHistogram | None:
        histogram = {
            "histogram": {
                "field": "prediction.score",
                "interval": 1.0 / SCORE_BINS,
                "extended_bounds": {"min": 0.0, "max": 1.0},
            }
        }
        aggs: dict[str, Any] = {"all": histogram}
        if self.positive is not None:
            aggs["pos"] = {
                "filter": {"term": {"actual.label": self.positive}},
                "aggs": {"h": histogram},
            }
            aggs["neg"] = {
                "filter": {
                    "bool": {
                        "filter": [{"exists": {"field": "actual.label"}}],
                        "must_not": [{"term": {"actual.label": self.positive}}],
                    }
                },
                "aggs": {"h": histogram},
            }
        found = self._search(aggs).get("aggregations")
        if not found:
            return None

        def counts(buckets: list[dict[str, Any]]) -> tuple[int, ...]:
            out = [0] * SCORE_BINS
            for b in buckets:
                i = min(max(round(b["key"] * SCORE_BINS), 0), SCORE_BINS - 1)
                out[i] += b["doc_count"]
            return tuple(out)

        all_counts = counts(found["all"]["buckets"])
        if not sum(all_counts):
            return None
        empty = (0,) * SCORE_BINS
        return ScoreHistogram(
            all=all_counts,
            positive=counts(found["pos"]["h"]["buckets"]) if "pos" in found else empty,
            negative=counts(found["neg"]["h"]["buckets"]) if "neg" in found else empty,
        )

    def score_bins(self, edges: Sequence[float], interval: str | None) -> ScoreBins | None:
        """One ``range`` aggregation on the score with ``edges``, under the timeline's
        ``date_histogram`` when ``interval`` is given (the window's counts are their sum)."""
        ranges = score_ranges(edges)
        if interval:
            aggs = {
                "t": {
                    "date_histogram": {
                        "field": "@timestamp",
                        "fixed_interval": interval,
                        "min_doc_count": 1,
                    },
                    "aggs": {"s": ranges},
                }
            }
        else:
            aggs = {"s": ranges}
        found = self._search(aggs).get("aggregations")
        if not found:
            return None

        def counts(agg: dict[str, Any]) -> tuple[int, ...]:
            return tuple(int(b["doc_count"]) for b in agg["buckets"])

        if not interval:
            return ScoreBins(total=counts(found["s"]))
        buckets = tuple(
            (b["key_as_string"], counts(b["s"]))
            for b in found["t"]["buckets"]
            if sum(counts(b["s"]))
        )
        if not buckets:
            return ScoreBins(total=(0,) * (len(edges) - 1))
        total = tuple(int(sum(column)) for column in zip(*(c for _, c in buckets), strict=True))
        return ScoreBins(total=total, buckets=buckets)

    def latency_fields(self) -> list[str]:
        kinds = self.field_kinds(("latency_ms.*",))
        return sorted(field for field, kind in kinds.items() if kind == "double")

    def latency(self) -> dict[str, dict[str, Percentiles]] | None:
        fields = self.latency_fields()
        if not fields:
            return None
        found = self._search(
            {
                "v": {
                    "terms": {"field": "model.version", "size": 50},
                    "aggs": {
                        f"f:{i}": {"percentiles": {"field": field, "percents": list(PERCENTS)}}
                        for i, field in enumerate(fields)
                    },
                }
            }
        )
        out: dict[str, dict[str, Percentiles]] = {}
        for bucket in found.get("aggregations", {}).get("v", {}).get("buckets", []):
            measures: dict[str, Percentiles] = {}
            for i, field in enumerate(fields):
                values = bucket[f"f:{i}"]["values"]
                if all(v is None for v in values.values()):
                    continue
                measures[field.removeprefix("latency_ms.")] = {
                    f"p{int(p)}": values[f"{p}"] for p in PERCENTS
                }
            out[str(bucket["key"])] = measures
        return out or None

    def field_kinds(self, prefixes: Sequence[str] = ("features.*", "tags.*")) -> dict[str, str]:
        """field → "keyword" or "double" for the model's features and tags, from the mapping.

        No index at all (no traffic yet, or retention removed it) is no fields: the
        node answers that with a 404 despite ``allow_no_indices``.
        """
        try:
            mapping = self.client.indices.get_field_mapping(
                index=self.index,
                fields=",".join(prefixes),
                allow_no_indices=True,
                ignore_unavailable=True,
            ).body
        except ClusterNotFound:
            return {}
        kinds: dict[str, str] = {}
        for index in mapping.values():
            for field, spec in index.get("mappings", {}).items():
                leaf = spec.get("mapping", {}).get(field.rsplit(".", 1)[-1], {})
                kind = leaf.get("type")
                if kind == "keyword":
                    kinds[field] = "keyword"
                elif kind in ("double", "float", "long", "integer"):
                    kinds[field] = "double"
        return kinds

    def quantiles(self, fields: Sequence[str], bins: int = 10) -> dict[str, list[float]]:
        """Interior quantile cut points per numeric field (TDigest: approximate)."""
        if not fields:
            return {}
        percents = [100.0 * i / bins for i in range(1, bins)]
        found = self._search(
            {
                f"q:{i}": {"percentiles": {"field": f, "percents": percents}}
                for i, f in enumerate(fields)
            }
        ).get("aggregations", {})
        return {
            field: sorted({v for v in found[f"q:{i}"]["values"].values() if v is not None})
            for i, field in enumerate(fields)
            if f"q:{i}" in found
        }
