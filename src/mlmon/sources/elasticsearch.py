"""Traffic in Elasticsearch as a :class:`~mlmon.analysis.source.Source`: aggregations only.

Every answer is a ``size: 0`` search; bucket requests go out together in one
``_msearch`` so the cluster works on them in parallel. No scripts, runtime
fields or composite tricks: ``terms`` (categorical), ``range`` on the
baseline bins with a missing-value ``filter`` beside it (numeric; both nest
for crosses), ``stats``/``filter`` for the metric counts (the positive-class
cells only for a metric that reads them), ``date_histogram`` and
``percentiles`` (the score and latency reads: :mod:`~mlmon.sources.es_scores`).
User-supplied values (model, version, slice values) only ever travel as
``term`` values or ``include`` lists, never as query syntax.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from elasticsearch import Elasticsearch

from mlmon.analysis.dimensions import Dimension, SliceKey
from mlmon.analysis.metrics import Stats, Task, needs_positive_counts
from mlmon.analysis.source import (
    BucketRequest,
    Percentiles,
    QualityCounts,
    Scope,
    ScoreBins,
    ScoreHistogram,
)
from mlmon.baseline.profile import AttributionSums
from mlmon.errors import ClusterError, ClusterNotFound
from mlmon.es.client import shard_failure, with_backoff
from mlmon.schema.event import model_indices
from mlmon.sources import es_scores
from mlmon.sources.es_query import (
    ABS_PREFIX,
    SearchPlan,
    attribution_aggs,
    exclude_clauses,
    group_plans,
    keep_query,
    level_aggs,
    parse_attribution_sums,
    parse_stats,
    sample_probability,
    scope_query,
    stats_aggs,
    walk_buckets,
)

#: Analysis searches may scan millions of documents: give them longer than a CRUD call.
ANALYSIS_TIMEOUT = 600.0
#: Searches per _msearch: the node reduces a batch's aggregations together, and a
#: thousand crosses at once (or 64 three-way crosses of a 500-value feature) broke
#: a 1 GB heap's circuit breaker.
MSEARCH_BATCH = 16
#: Fixed, so a sampled answer is the same on every run over the same data.
SAMPLER_SEED = 20261125


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
        :data:`~mlmon.sources.es_query.MERGED_BUCKETS` buckets (estimated from what each feature
        returned before), far inside the node's ``search.max_buckets``. Sampled
        requests merge too: random_sampler keeps the same documents whatever the
        query, so a merged search counts each cross on the sample a lone one draws.
        """
        if not requests:
            return []
        plans = [self._plan(request) for request in requests]
        groups = group_plans(plans, self._estimate)
        body: list[dict[str, Any]] = []
        for group in groups:
            first = plans[group[0]]
            below = (
                first.below
                if len(first.dimensions) == 1
                else {  # several crosses, one pass: "d" (and "d~missing") of each, renamed
                    f"d{j}{name[1:]}": agg for j in group for name, agg in plans[j].below.items()
                }
            )
            inner = level_aggs("d", first.dimensions[0], first.kept[0], below)
            if first.probability is None:
                query = first.alone() if len(group) == 1 else first.query
            else:
                self.sampled += 1
                query, filters = first.sampled(alone=len(group) == 1)
                if filters:
                    inner = {"k": {"filter": {"bool": {"filter": filters}}, "aggs": inner}}
                sampler = {"probability": first.probability, "seed": SAMPLER_SEED}
                inner = {"s": {"random_sampler": sampler, "aggs": inner}}
            body.append({"index": self.index, "ignore_unavailable": True, "allow_no_indices": True})
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
                aggs = aggs["s"].get("k", aggs["s"])  # under the kept-value filter, if any
            for j in group:
                dims = plans[j].dimensions
                child = "d" if len(dims) == 1 else f"d{j}"
                out[j] = walk_buckets(aggs, "d", dims, (), self.task, child=child) if aggs else {}
                if len(dims) == 1 and plans[j].kept[0] is None:
                    self._cardinality[dims[0]] = len(out[j] or ())
        return out

    def _plan(self, request: BucketRequest) -> SearchPlan:
        """What one request needs: its query, sampling, and the levels below its first."""
        positive = self.positive if needs_positive_counts(request.metric) else None
        below = stats_aggs(self.task, positive)
        for i in reversed(range(1, len(request.dimensions))):
            below = level_aggs("d", request.dimensions[i], request.kept(i), below)
        kept = tuple(request.kept(i) for i in range(len(request.dimensions)))
        narrowing = [
            keep_query(dimension, values)
            for dimension, values in zip(request.dimensions, kept, strict=True)
            if values is not None and len(request.dimensions) > 1
        ]
        unnarrowed = scope_query(self.scope)
        if request.exclude:
            unnarrowed["bool"]["must_not"] = [
                *unnarrowed["bool"].get("must_not", []),
                *exclude_clauses(request.exclude),
            ]
        query = {**unnarrowed, "bool": {**unnarrowed["bool"]}}
        query["bool"]["filter"] = [*unnarrowed["bool"]["filter"], *narrowing[:1]]
        p = sample_probability(request.sample, self.total()) if request.sample else None
        return SearchPlan(
            request.dimensions, kept, query, p, below, tuple(narrowing[1:]),
            unnarrowed=unnarrowed, first=tuple(narrowing[:1]),
        )  # fmt: skip

    def _estimate(self, plan: SearchPlan) -> int:
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
        return es_scores.score_histogram(self._search, self.positive)

    def score_bins(self, edges: Sequence[float], interval: str | None) -> ScoreBins | None:
        return es_scores.score_bins(self._search, edges, interval)

    def latency_fields(self) -> list[str]:
        kinds = self.field_kinds(("latency_ms.*",))
        return sorted(field for field, kind in kinds.items() if kind == "double")

    def latency(self) -> dict[str, dict[str, Percentiles]] | None:
        return es_scores.latency(self._search, self.latency_fields())

    def attributions(self) -> dict[str, AttributionSums]:
        """Per feature the mapping has attributions of, its sums, in one search."""
        fields = sorted(self.field_kinds((f"{ABS_PREFIX}*",)))
        if not fields:
            return {}
        return parse_attribution_sums(self._search(attribution_aggs(fields)), fields)

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
