"""The searches of :class:`~mlmon.sources.elasticsearch.ElasticsearchSource`, as values.

Pure: a scope becomes a query, a dimension a bucketing aggregation, an
answer's buckets slice keys with their counts, and bucket requests are
grouped into the searches that can answer them together. No client here;
user-supplied values (model, version, slice values) only ever travel as
``term`` values or ``include`` lists, never as query syntax.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from mlmon.analysis.dimensions import MISSING, Dimension, SliceKey, bucket_label
from mlmon.analysis.metrics import Stats, Task
from mlmon.analysis.source import Conjunction, Scope
from mlmon.baseline.profile import AttributionSums
from mlmon.schema.document import ATTRIBUTIONS_ABS
from mlmon.schema.pairing import SHADOW

#: Suffix of the missing-value ``filter`` beside a numeric level's ``range``.
MISSING_SIBLING = "~missing"
#: Buckets one merged search may return: well under the node's search.max_buckets
#: (65,536) and its 1 GB heap's circuit breaker.
MERGED_BUCKETS = 20_000
#: The absolute attributions' fields: ``attributions_abs.<feature>``.
ABS_PREFIX = f"{ATTRIBUTIONS_ABS}."


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


def attribution_aggs(fields: Sequence[str]) -> dict[str, Any]:
    """``extended_stats`` of each absolute-attribution field: count, sum (Σ|a|) and sum of
    squares (Σa², as |a|² = a²). The absolute values are indexed beside the signed ones
    because a ``sum`` over a script would need Painless."""
    return {f"a:{i}": {"extended_stats": {"field": f}} for i, f in enumerate(fields)}


def parse_attribution_sums(
    found: dict[str, Any], fields: Sequence[str]
) -> dict[str, AttributionSums]:
    aggs = found.get("aggregations", {})
    out = {}
    for i, field in enumerate(fields):
        stats = aggs.get(f"a:{i}")
        if stats and stats["count"]:
            out[field.removeprefix(ABS_PREFIX)] = AttributionSums(
                int(stats["count"]), float(stats["sum"]), float(stats["sum_of_squares"])
            )
    return out


def level_aggs(
    name: str, dimension: Dimension, keep: frozenset[str] | None, inner: dict[str, Any]
) -> dict[str, Any]:
    """One level of bucketing, named ``name``: the values of a keyword (``terms``), or the
    baseline bins of a number (``range``, which places each document by its doc value
    once, where a ``filters`` of range queries ran a query per bin) and a sibling
    ``filter`` for the rows without one. :func:`level_buckets` reads both back."""
    if dimension.kind == "categorical":
        terms: dict[str, Any] = {
            "field": dimension.field,
            "size": len(keep) if keep is not None else dimension.max_values,
            "missing": MISSING,
        }
        if keep is not None:
            terms["include"] = sorted(keep)
        return {name: {"terms": terms, "aggs": inner}}
    ranges: list[dict[str, Any]] = []
    for label, gte, lt in dimension.bin_ranges():
        if keep is not None and label not in keep:
            continue
        bounds: dict[str, Any] = {"key": label}
        if gte is not None:
            bounds["from"] = gte
        if lt is not None:
            bounds["to"] = lt
        ranges.append(bounds)
    out: dict[str, Any] = {}
    if ranges:
        out[name] = {
            "range": {"field": dimension.field, "ranges": ranges, "keyed": True},
            "aggs": inner,
        }
    if keep is None or MISSING in keep:
        # A ``filter``, not a ``missing`` aggregation: random_sampler refuses the latter.
        absent = {"bool": {"must_not": [{"exists": {"field": dimension.field}}]}}
        out[name + MISSING_SIBLING] = {"filter": absent, "aggs": inner}
    return out


def level_buckets(aggs: dict[str, Any], name: str) -> Iterator[tuple[Any, dict[str, Any]]]:
    """(key, bucket) of the level :func:`level_aggs` named ``name``, missing included."""
    level = aggs.get(name)
    if level is not None:
        buckets = level["buckets"]
        yield from (
            buckets.items() if isinstance(buckets, dict) else ((b["key"], b) for b in buckets)
        )
    missing = aggs.get(name + MISSING_SIBLING)
    if missing is not None:
        yield MISSING, missing


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


def walk_buckets(
    aggs: dict[str, Any],
    name: str,
    dimensions: Sequence[Dimension],
    prefix: SliceKey,
    task: Task,
    *,
    child: str = "d",
) -> dict[SliceKey, Stats]:
    """Stats per slice key from the level ``name`` of ``aggs``; ``child`` names the
    level below it (``d`` further down)."""
    out: dict[SliceKey, Stats] = {}
    dimension = dimensions[0]
    for key, bucket in level_buckets(aggs, name):
        if not bucket["doc_count"]:
            continue
        path = (*prefix, (dimension.name, bucket_label(key)))
        if len(dimensions) == 1:
            out[tuple(sorted(path))] = parse_stats(bucket, task)
        else:
            out.update(walk_buckets(bucket, child, dimensions[1:], path, task))
    return out


@dataclass(frozen=True)
class SearchPlan:
    dimensions: tuple[Dimension, ...]
    kept: tuple[frozenset[str] | None, ...]
    query: dict[str, Any]
    probability: float | None
    below: dict[str, Any]  # the aggregations under the first level
    #: Filters on the other levels' kept values: a search of one request reads only
    #: those rows; merged requests share the first level's filter and bucket the rest.
    narrowing: tuple[dict[str, Any], ...] = ()
    #: ``query`` without its filter on kept values (``first``): a sampled search draws
    #: its documents on this, then filters the sample (:meth:`sampled`).
    unnarrowed: dict[str, Any] | None = None
    first: tuple[dict[str, Any], ...] = ()

    def sampled(self, alone: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """(query, filters) of a sampled search: the kept-value filters go under the
        sampler, so they run on the sampled documents only, not on every document the
        scope holds; random_sampler keeps the same documents whatever the query, so the
        counts are those of the narrowed query."""
        filters = [*self.first, *(self.narrowing if alone else ())]
        return (self.unnarrowed if self.unnarrowed is not None else self.query), filters

    def alone(self) -> dict[str, Any]:
        """The query when this request has a search of its own: narrowed on every level."""
        if not self.narrowing:
            return self.query
        query = {**self.query, "bool": dict(self.query["bool"])}
        query["bool"]["filter"] = [*query["bool"]["filter"], *self.narrowing]
        return query

    def shares_search_with(self, other: SearchPlan) -> bool:
        return (
            len(self.dimensions) > 1
            and len(other.dimensions) > 1
            and self.dimensions[0] == other.dimensions[0]
            and self.kept[0] == other.kept[0]
            # random_sampler keeps a document by a seeded walk over the segment's doc ids,
            # whatever the query; a broader query keeps the same documents of each cross
            # (tests/integration/test_trace.py compares a merged search with lone ones).
            and self.probability == other.probability
            and self.query == other.query
        )


def group_plans(
    plans: Sequence[SearchPlan], estimate: Callable[[SearchPlan], int]
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
