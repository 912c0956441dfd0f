"""A small sample of downstream predictions and the upstream predictions they consumed.

Both backends take the same sample (the first ``limit`` linked predictions of
the scope by ``prediction_id``), so they find the same links. Elasticsearch:
one search of ``limit`` documents and one ``ids`` lookup across every model's
predictions; pandas: the same rows of the loaded file. pandas is imported by
the file side only: an Elasticsearch trace process never loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from elasticsearch import Elasticsearch

from mlmon.analysis.chain import Sample
from mlmon.analysis.source import Scope
from mlmon.schema.event import PREDICTIONS_INDEX_PATTERN, model_indices
from mlmon.sources.es_query import scope_query

if TYPE_CHECKING:
    import pandas as pd

LIMIT = 50
PARENT = "trace.parent_prediction_id"


def es_samples(client: Elasticsearch, scope: Scope, limit: int = LIMIT) -> list[Sample]:
    query = scope_query(scope)
    query["bool"]["filter"].append({"exists": {"field": PARENT}})
    hits = client.search(
        index=model_indices("predictions", scope.model),
        query=query,
        size=limit,
        sort=[{"prediction_id": "asc"}],
        source=["features", PARENT],
        allow_no_indices=True,
        ignore_unavailable=True,
    )["hits"]["hits"]
    wanted = sorted({hit["_source"]["trace"]["parent_prediction_id"] for hit in hits})
    if not wanted:
        return []
    parents = client.search(
        index=PREDICTIONS_INDEX_PATTERN,
        query={"bool": {"filter": [{"ids": {"values": wanted}}]}},
        size=len(wanted),
        source=["model", "prediction"],
        allow_no_indices=True,
        ignore_unavailable=True,
    )["hits"]["hits"]
    found = {hit["_id"]: hit["_source"] for hit in parents}
    return [
        (hit["_source"].get("features") or {}, found[parent])
        for hit in hits
        if (parent := hit["_source"]["trace"]["parent_prediction_id"]) in found
    ]


def frame_samples(frame: pd.DataFrame, scope: Scope, limit: int = LIMIT) -> list[Sample]:
    import pandas as pd

    from mlmon.sources.frame import _in_scope

    rows = _in_scope(frame, scope)
    if rows.empty or PARENT not in rows.columns:
        return []
    rows = rows[rows[PARENT].notna()].sort_values("prediction_id").head(limit)
    parents = frame.set_index("prediction_id")
    out: list[Sample] = []
    features = [c for c in rows.columns if c.startswith("features.")]
    for _, row in rows.iterrows():
        if row[PARENT] not in parents.index:
            continue
        parent = parents.loc[row[PARENT]]
        out.append(
            (
                {c.removeprefix("features."): _value(row[c]) for c in features if pd.notna(row[c])},
                {
                    "model": {"name": parent["model.name"], "version": parent["model.version"]},
                    "prediction": {
                        key: _value(parent[f"prediction.{key}"])
                        for key in ("score", "value", "label")
                        if f"prediction.{key}" in parents.columns
                        and pd.notna(parent[f"prediction.{key}"])
                    },
                },
            )
        )
    return out


def _value(value: Any) -> Any:
    """numpy scalars as the JSON Elasticsearch returns them (floats and strings)."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


__all__ = ["LIMIT", "es_samples", "frame_samples"]
