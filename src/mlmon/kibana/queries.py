"""What a Lens layer asks Elasticsearch, read back from the saved object (pure).

Kibana builds a layer's request from its columns: bucket columns nest in
``columnOrder`` order, metric columns sit under the innermost bucket, a terms
column ordered by a metric carries that metric as its own sub-aggregation (so
its top values are ranked over everything beneath it, e.g. a whole date
histogram), a column filter becomes a ``filter`` aggregation, and a Lucene
query becomes a ``query_string`` query. :func:`layer_aggs` does the same, so
``mlmon kibana validate`` runs what the dashboard will run; :func:`layer_rows`
reads the answer back into rows and evaluates formulas.
"""

from __future__ import annotations

import re
from typing import Any

from mlmon.errors import UsageError

BUCKET_OPS = {"date_histogram", "terms", "range"}
FIELD_METRICS = {
    "average": "avg",
    "sum": "sum",
    "min": "min",
    "max": "max",
    "median": "percentiles",
    "percentile": "percentiles",
    "unique_count": "cardinality",
}
_CALENDAR = {"1d", "1w", "1M", "1q", "1y"}
_FIELD_IN_LUCENE = re.compile(r"(?:^|[\s(!+-])([A-Za-z@_][\w.@]*)(?=:)")


class LayerError(UsageError):
    """A Lens layer mlmon cannot read (unknown operation, broken reference)."""


def lucene(query: str) -> dict:
    """The query Kibana sends for a Lucene-language query bar or column filter."""
    return {"query_string": {"query": query, "analyze_wildcard": True}}


def lucene_fields(query: str) -> set[str]:
    """Fields a Lucene query names (``field:value`` and ``_exists_:field``)."""
    exists = set(re.findall(r"_exists_:([\w.@]+)", query))
    rest = re.sub(r"_exists_:[\w.@]+", " ", query)
    return exists | set(_FIELD_IN_LUCENE.findall(rest))


def _percent(column: dict) -> float:
    return 50.0 if column["operationType"] == "median" else float(column["params"]["percentile"])


def _metric_agg(column: dict) -> dict | None:
    """The aggregation behind one metric column (``None``: the bucket's doc_count)."""
    op = column["operationType"]
    if op == "count":
        inner = None
    elif op in FIELD_METRICS:
        body: dict[str, Any] = {"field": column["sourceField"]}
        if FIELD_METRICS[op] == "percentiles":
            body["percents"] = [_percent(column)]
        inner = {FIELD_METRICS[op]: body}
    else:
        raise LayerError(f"column operation {op!r} is not one mlmon can validate")
    query = (column.get("filter") or {}).get("query")
    if query:
        wrapped: dict[str, Any] = {"filter": lucene(query)}
        if inner:
            wrapped["aggs"] = {"value": inner}
        return wrapped
    return inner


def _order(columns: dict, order_id: str, direction: str) -> tuple[dict, dict]:
    """The terms ``order`` and the sub-aggregation it sorts on (none for a plain count)."""
    column = columns.get(order_id)
    if column is None:
        raise LayerError(f"terms column orders by missing column {order_id!r}")
    op = column["operationType"]
    if op == "count" and not column.get("filter"):
        return {"_count": direction}, {}
    if op == "count":
        path = f"{order_id}>_count"
    elif op in ("median", "percentile"):
        path = f"{order_id}[{_percent(column)}]"
    elif op in FIELD_METRICS and not column.get("filter"):
        path = order_id
    else:
        raise LayerError(f"terms column orders by {op!r} column {order_id!r}: not supported")
    return {path: direction}, {order_id: _metric_agg(column)}


def _bucket_agg(column: dict, columns: dict) -> dict:
    op, field, params = column["operationType"], column["sourceField"], column.get("params", {})
    if op == "date_histogram":
        interval = params.get("interval", "1h")
        key = "calendar_interval" if interval in _CALENDAR else "fixed_interval"
        return {"date_histogram": {"field": field, key: interval, "time_zone": "UTC"}}
    if op == "terms":
        order_by = params.get("orderBy", {"type": "alphabetical"})
        order_aggs: dict = {}
        if order_by.get("type") == "column":
            direction = params.get("orderDirection", "desc")
            order, order_aggs = _order(columns, order_by["columnId"], direction)
        else:
            order = {"_key": params.get("orderDirection", "asc")}
        terms: dict = {
            "terms": {"field": field, "size": int(params.get("size", 5)), "order": order}
        }
        if order_aggs:
            terms["aggs"] = order_aggs
        return terms
    if op == "range":
        ranges = [
            {key: edge[key] for key in ("from", "to") if edge.get(key) is not None}
            for edge in params.get("ranges", [])
        ]
        if not ranges:
            raise LayerError(f"range column on {field} has no ranges")
        return {"range": {"field": field, "ranges": ranges}}
    raise LayerError(f"bucket operation {op!r} is not one mlmon can validate")


def leaf_columns(columns: dict) -> dict[str, dict]:
    """Columns that are aggregations (not buckets, formulas or math)."""
    return {
        cid: c
        for cid, c in columns.items()
        if not c.get("isBucketed") and c["operationType"] not in ("formula", "math")
    }


def layer_aggs(layer: dict) -> dict:
    """Nested aggregations for one form-based layer."""
    columns = layer["columns"]
    order = [cid for cid in layer["columnOrder"] if cid in columns]
    missing = [cid for cid in layer["columnOrder"] if cid not in columns]
    if missing:
        raise LayerError(f"columnOrder names missing columns {missing}")
    leaves = {
        cid: agg for cid, agg in ((c, _metric_agg(col)) for c, col in leaf_columns(columns).items())
    }
    aggs: dict = {cid: agg for cid, agg in leaves.items() if agg is not None}
    for cid in reversed([c for c in order if columns[c].get("isBucketed")]):
        bucket = _bucket_agg(columns[cid], columns)
        beneath = {**bucket.pop("aggs", {}), **aggs}
        if beneath:
            bucket["aggs"] = beneath
        aggs = {cid: bucket}
    return aggs


def _leaf_value(column: dict, answer: dict | None, doc_count: int) -> float | None:
    op = column["operationType"]
    if column.get("filter"):
        if answer is None:
            return None
        doc_count, answer = answer["doc_count"], answer.get("value")
    if op == "count":
        return float(doc_count) if doc_count or not column["params"].get("emptyAsNull") else None
    if answer is None:
        return None
    if FIELD_METRICS[op] == "percentiles":
        values = answer.get("values", {})
        return next(iter(values.values()), None)
    return answer.get("value")


def _math(node: Any, row: dict) -> float | None:
    if isinstance(node, int | float):
        return float(node)
    if isinstance(node, str):
        return row.get(node)
    args = [_math(arg, row) for arg in node.get("args", [])]
    if any(a is None for a in args):
        return None
    name = node.get("name")
    if name == "divide":
        return args[0] / args[1] if args[1] else None
    if name == "multiply":
        return args[0] * args[1]
    if name == "add":
        return args[0] + args[1]
    if name == "subtract":
        return args[0] - args[1]
    raise LayerError(f"formula function {name!r} is not one mlmon can validate")


def _with_formulas(row: dict, columns: dict) -> dict:
    for cid, column in columns.items():  # math before formula: Lens stores them that way round
        if column["operationType"] == "math":
            row[cid] = _math(column["params"]["tinymathAst"], row)
    for cid, column in columns.items():
        if column["operationType"] == "formula":
            refs = column.get("references", [])
            row[cid] = row.get(refs[0]) if refs else None
    return row


def layer_rows(layer: dict, aggregations: dict, total: int) -> list[dict]:
    """Flatten an answer into rows of ``column id → value`` (buckets and metrics)."""
    columns = layer["columns"]
    buckets = [c for c in layer["columnOrder"] if columns.get(c, {}).get("isBucketed")]
    leaves = leaf_columns(columns)
    rows: list[dict] = []

    def walk(level: int, node: dict, doc_count: int, keys: dict) -> None:
        if level == len(buckets):
            row = dict(keys)
            for cid, column in leaves.items():
                row[cid] = _leaf_value(column, node.get(cid), doc_count)
            rows.append(_with_formulas(row, columns))
            return
        cid = buckets[level]
        for bucket in node[cid]["buckets"]:
            if bucket["doc_count"] == 0:
                continue
            key = bucket.get("key_as_string", bucket.get("key"))
            walk(level + 1, bucket, bucket["doc_count"], {**keys, cid: key})

    walk(0, aggregations, total, {})
    return rows
