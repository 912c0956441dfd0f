"""Paired requests (shadows and their live partner) as counts, from either backend.

The shadows' ``pair`` block (:mod:`mlmon.schema.pairing`) makes every paired
count a filter or ``terms`` count over the shadow documents: Elasticsearch
answers with ``filter``, ``terms`` and ``extended_stats`` aggregations (per
slice as sub-aggregations of the slice buckets the trace uses, all in one
``_msearch``); pandas with the same sums over the same columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import numpy as np
import pandas as pd
from elasticsearch import Elasticsearch

from mlmon.analysis.compare_result import PairCounts
from mlmon.analysis.dimensions import Dimension
from mlmon.analysis.source import Percentiles, Scope
from mlmon.errors import ClusterError
from mlmon.es.client import shard_failure, with_backoff
from mlmon.schema.event import model_indices
from mlmon.sources.elasticsearch import ANALYSIS_TIMEOUT
from mlmon.sources.es_query import level_aggs, level_buckets, scope_query
from mlmon.sources.es_scores import PERCENTS
from mlmon.sources.frame import _column, _in_scope, bucket_column

#: The live prediction's latency as the pairing stored it, beside the shadow's own.
LATENCY_FIELDS = ("latency_ms.total", "pair.latency_ms")


def paired_query(scope: Scope, against: str) -> dict[str, Any]:
    """Shadows of ``scope`` (the candidate) paired with a live prediction of ``against``."""
    query = scope_query(scope)
    query["bool"]["filter"] += [
        {"exists": {"field": "trace.shadow_of"}},
        {"term": {"pair.version": against}},
    ]
    return query


PAIR_AGGS: dict[str, Any] = {
    "agree": {"filter": {"term": {"pair.agree": True}}},
    "compared": {"filter": {"exists": {"field": "pair.agree"}}},
    "outcome": {"terms": {"field": "pair.outcome", "size": 4}},
    "diff": {
        "filter": {"exists": {"field": "pair.abs_error_diff"}},
        "aggs": {
            "d": {"extended_stats": {"field": "pair.abs_error_diff"}},
            "c": {"sum": {"field": "actual.abs_error"}},
            "a": {"sum": {"field": "pair.abs_error"}},
        },
    },
}


def parse_pairs(bucket: dict[str, Any]) -> PairCounts:
    cells = {b["key"]: b["doc_count"] for b in bucket["outcome"]["buckets"]}
    diff = bucket["diff"]
    return PairCounts(
        requests=bucket["doc_count"],
        compared=bucket["compared"]["doc_count"],
        agree=bucket["agree"]["doc_count"],
        both=cells.get("both", 0),
        candidate_only=cells.get("candidate", 0),
        against_only=cells.get("against", 0),
        neither=cells.get("neither", 0),
        scored=diff["d"]["count"],
        sum_diff=diff["d"]["sum"] or 0.0,
        sum_diff_squared=diff["d"]["sum_of_squares"] or 0.0,
        sum_abs_candidate=diff["c"]["value"] or 0.0,
        sum_abs_against=diff["a"]["value"] or 0.0,
    )


class ElasticsearchPairs:
    def __init__(self, client: Elasticsearch, scope: Scope, against: str) -> None:
        self.client = client.options(request_timeout=ANALYSIS_TIMEOUT)
        self.scope, self.against = scope, against
        self.index = model_indices("predictions", scope.model)

    def _body(self, aggs: dict[str, Any]) -> dict[str, Any]:
        return {"size": 0, "query": paired_query(self.scope, self.against), "aggs": aggs}

    def _checked(self, response: dict[str, Any]) -> dict[str, Any]:
        if "error" in response:
            raise ClusterError(f"paired aggregation failed: {response['error'].get('reason')}")
        refused = shard_failure(response)
        if refused:  # counts from some shards only would be silently wrong
            raise ClusterError(f"paired aggregation over {self.index}: {refused}")
        return response.get("aggregations") or {}

    def pairs_by(self, dimensions: Sequence[Dimension]) -> tuple[PairCounts, list[dict]]:
        """The overall counts and, per dimension, counts per bucket: one ``_msearch``."""
        header = {"index": self.index, "ignore_unavailable": True, "allow_no_indices": True}
        searches: list[dict[str, Any]] = [
            header,
            self._body({"all": {"filter": {"match_all": {}}, "aggs": PAIR_AGGS}}),
        ]
        for dimension in dimensions:
            searches += [header, self._body(level_aggs("d", dimension, None, PAIR_AGGS))]
        responses = with_backoff(lambda: self.client.msearch(searches=searches).body)["responses"]
        first = self._checked(responses[0])
        overall = parse_pairs(first["all"]) if first else PairCounts()
        per_dimension = []
        for dimension, response in zip(dimensions, responses[1:], strict=True):
            aggs = self._checked(response)
            items = level_buckets(aggs, "d") if aggs else ()
            per_dimension.append(
                {
                    ((dimension.name, key if isinstance(key, str) else str(key)),): parse_pairs(b)
                    for key, b in items
                    if b["doc_count"]
                }
            )
        return overall, per_dimension

    def latency(self) -> tuple[Percentiles | None, Percentiles | None]:
        """p50/p95/p99 of the candidate's total latency and the live one's, same requests."""
        aggs = {
            f"l{i}": {"percentiles": {"field": f, "percents": list(PERCENTS)}}
            for i, f in enumerate(LATENCY_FIELDS)
        }
        found = with_backoff(
            lambda: (
                self.client.search(
                    index=self.index,
                    allow_no_indices=True,
                    ignore_unavailable=True,
                    **self._body(aggs),
                ).body
            )
        )
        aggs_found = self._checked(found)
        out: list[Percentiles | None] = []
        for i in range(len(LATENCY_FIELDS)):
            values = (aggs_found.get(f"l{i}") or {}).get("values") or {}
            known = {f"p{int(p)}": values.get(f"{p}") for p in PERCENTS}
            out.append(known if all(v is not None for v in known.values()) else None)
        return out[0], out[1]


class FramePairs:
    """The same counts with pandas, over the shadows of a loaded events file."""

    def __init__(self, frame: pd.DataFrame, scope: Scope, against: str) -> None:
        rows = _in_scope(frame, scope)
        if not rows.empty:
            paired = _column(rows, "trace.shadow_of").notna() & (
                _column(rows, "pair.version") == against
            )
            rows = rows[paired]
        self.frame = rows
        self.cells = _cells(rows)

    def pairs_by(self, dimensions: Sequence[Dimension]) -> tuple[PairCounts, list[dict]]:
        overall = _counts(self.cells.sum())
        per_dimension = []
        for dimension in dimensions:
            if self.frame.empty:
                per_dimension.append({})
                continue
            column = bucket_column(self.frame, dimension)
            if dimension.kind == "categorical":  # the terms aggregation's top buckets
                ranked = sorted(column.value_counts().items(), key=lambda kv: (-kv[1], kv[0]))
                column = column[column.isin([k for k, _ in ranked[: dimension.max_values]])]
            grouped = self.cells.loc[column.index].groupby(column).sum()
            per_dimension.append(
                {((dimension.name, str(key)),): _counts(row) for key, row in grouped.iterrows()}
            )
        return overall, per_dimension

    def latency(self) -> tuple[Percentiles | None, Percentiles | None]:
        out: list[Percentiles | None] = []
        for name in LATENCY_FIELDS:
            values = pd.to_numeric(_column(self.frame, name), errors="coerce").dropna().to_numpy()
            out.append(
                {f"p{p}": float(np.percentile(values, p)) for p in (50, 95, 99)}
                if values.size
                else None
            )
        return out[0], out[1]


def _cells(rows: pd.DataFrame) -> pd.DataFrame:
    """Per-shadow 0/1 and error columns whose sums are a :class:`PairCounts`."""
    out = pd.DataFrame(index=rows.index)
    agree = _column(rows, "pair.agree")
    outcome = _column(rows, "pair.outcome")
    diff = pd.to_numeric(_column(rows, "pair.abs_error_diff"), errors="coerce")
    scored = diff.notna()
    out["requests"] = 1
    out["compared"] = agree.notna().astype(int)
    out["agree"] = (agree == True).astype(int)  # noqa: E712 (object column of True/False/NaN)
    for name, cell in (
        ("both", "both"),
        ("candidate_only", "candidate"),
        ("against_only", "against"),
        ("neither", "neither"),
    ):
        out[name] = (outcome == cell).astype(int)
    out["scored"] = scored.astype(int)
    out["sum_diff"] = diff.fillna(0.0)
    out["sum_diff_squared"] = (diff * diff).fillna(0.0)
    for name, column in (
        ("sum_abs_candidate", "actual.abs_error"),
        ("sum_abs_against", "pair.abs_error"),
    ):
        values = pd.to_numeric(_column(rows, column), errors="coerce")
        out[name] = values.where(scored, 0.0).fillna(0.0)
    return out


def _counts(row: pd.Series) -> PairCounts:
    return PairCounts(
        **{
            f.name: (int if f.type == "int" else float)(row.get(f.name, 0))
            for f in fields(PairCounts)
        }
    )


__all__ = ["PAIR_AGGS", "ElasticsearchPairs", "FramePairs", "paired_query", "parse_pairs"]
