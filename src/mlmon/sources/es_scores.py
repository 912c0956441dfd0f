"""The score and latency reads of :class:`~mlmon.sources.elasticsearch.ElasticsearchSource`.

Each is one ``size: 0`` search: the caller's ``search`` runs the aggregations
under the source's scope and returns the node's answer. Here: what to ask
(``histogram`` and ``range`` on the score, ``percentiles`` of the latencies per
version) and how the answer becomes the source's values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from mlmon.analysis.source import SCORE_BINS, Percentiles, ScoreBins, ScoreHistogram
from mlmon.sources.es_query import score_ranges

Search = Callable[[dict[str, Any]], dict[str, Any]]
PERCENTS = (50.0, 95.0, 99.0)


def score_histogram(search: Search, positive: str | None) -> ScoreHistogram | None:
    """Scores in :data:`SCORE_BINS` equal bins, overall and per true class."""
    histogram = {
        "histogram": {
            "field": "prediction.score",
            "interval": 1.0 / SCORE_BINS,
            "extended_bounds": {"min": 0.0, "max": 1.0},
        }
    }
    aggs: dict[str, Any] = {"all": histogram}
    if positive is not None:
        aggs["pos"] = {"filter": {"term": {"actual.label": positive}}, "aggs": {"h": histogram}}
        aggs["neg"] = {
            "filter": {
                "bool": {
                    "filter": [{"exists": {"field": "actual.label"}}],
                    "must_not": [{"term": {"actual.label": positive}}],
                }
            },
            "aggs": {"h": histogram},
        }
    found = search(aggs).get("aggregations")
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


def score_bins(search: Search, edges: Sequence[float], interval: str | None) -> ScoreBins | None:
    """One ``range`` aggregation on the score with ``edges``, under the timeline's
    ``date_histogram`` when ``interval`` is given (the window's counts are their sum)."""
    ranges = score_ranges(edges)
    if interval:
        timeline = {"field": "@timestamp", "fixed_interval": interval, "min_doc_count": 1}
        aggs = {"t": {"date_histogram": timeline, "aggs": {"s": ranges}}}
    else:
        aggs = {"s": ranges}
    found = search(aggs).get("aggregations")
    if not found:
        return None

    def counts(agg: dict[str, Any]) -> tuple[int, ...]:
        return tuple(int(b["doc_count"]) for b in agg["buckets"])

    if not interval:
        return ScoreBins(total=counts(found["s"]))
    buckets = tuple(
        (b["key_as_string"], counts(b["s"])) for b in found["t"]["buckets"] if sum(counts(b["s"]))
    )
    if not buckets:
        return ScoreBins(total=(0,) * (len(edges) - 1))
    total = tuple(int(sum(column)) for column in zip(*(c for _, c in buckets), strict=True))
    return ScoreBins(total=total, buckets=buckets)


def latency(search: Search, fields: Sequence[str]) -> dict[str, dict[str, Percentiles]] | None:
    """p50/p95/p99 of each latency field, per model version."""
    if not fields:
        return None
    found = search(
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
