"""Join late actuals to their predictions with plain bulk partial updates.

No scripts, no update-by-query, no enrich: the local test distribution has
none of them, and mlmon needs none. The design never loses an actual or a
prediction whatever arrives first:

1. every actual is indexed into ``mlmon-actuals-*`` under its prediction's
   id and stays there (``join.joined_at`` absent = pending);
2. a join pass pages through pending actuals, finds their predictions with
   one ``ids`` query per page, bulk-updates each found prediction with a
   partial ``{"actual": …}`` doc, and only then marks the actual joined;
3. an actual whose prediction is not indexed yet stays pending and is joined
   by a later pass (the SDK's Elasticsearch sink, ``mlmon ingest``,
   ``mlmon join`` and the analyzer all run one).

Every step is idempotent: a pass interrupted between 2's two bulk requests
re-applies the same partial update next time. Predictions are written with
``create``, so a replayed prediction never overwrites a joined actual.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from elasticsearch import Elasticsearch

from mlmon.es.bulk import Operation, execute
from mlmon.schema.document import score_outcome
from mlmon.schema.event import (
    ACTUALS_INDEX_PATTERN,
    PREDICTIONS_INDEX_PATTERN,
    format_timestamp,
    model_indices,
)


@dataclass(frozen=True)
class JoinResult:
    joined: int
    pending: int  # actuals whose prediction is not indexed yet
    failed: int  # updates refused for another reason (see errors)
    errors: tuple[str, ...] = ()


def pending_query(model: str | None) -> dict[str, Any]:
    filters: list[dict[str, Any]] = [{"term": {"event.kind": "actual"}}]
    if model:
        filters.append({"term": {"model.name": model}})
    return {"bool": {"filter": filters, "must_not": [{"exists": {"field": "join.joined_at"}}]}}


def prediction_update(actual: dict[str, Any], prediction: dict[str, Any] | None) -> dict[str, Any]:
    """The partial document written onto the prediction (pure): the actual, scored."""
    block = {k: v for k, v in actual.get("actual", {}).items() if k in ("label", "value")}
    block.update(score_outcome(prediction, block))
    block["timestamp"] = actual["@timestamp"]
    return {"actual": block}


def join_pending(
    client: Elasticsearch,
    *,
    model: str | None = None,
    page_size: int = 1000,
    now: datetime | None = None,
) -> JoinResult:
    """One pass over the pending actuals (of ``model``, or of all models)."""
    actuals = model_indices("actuals", model) if model else ACTUALS_INDEX_PATTERN
    predictions = model_indices("predictions", model) if model else PREDICTIONS_INDEX_PATTERN
    stamp = format_timestamp(now or datetime.now(timezone.utc))
    joined = pending = failed = 0
    errors: list[str] = []
    client.indices.refresh(
        index=f"{actuals},{predictions}", allow_no_indices=True, ignore_unavailable=True
    )
    search_after = None
    while True:
        page = client.search(
            index=actuals,
            query=pending_query(model),
            size=page_size,
            sort=[{"prediction_id": "asc"}],
            search_after=search_after,
            source=["@timestamp", "actual", "model.name", "prediction_id"],
            allow_no_indices=True,
            ignore_unavailable=True,
        )["hits"]["hits"]
        if not page:
            break
        search_after = page[-1]["sort"]
        located = _locate(client, predictions, [hit["_id"] for hit in page], model)
        updates = [
            Operation(
                "update",
                located[hit["_id"]][0],
                hit["_id"],
                prediction_update(hit["_source"], located[hit["_id"]][1]),
                hit,
            )
            for hit in page
            if hit["_id"] in located
        ]
        pending += len(page) - len(updates)
        outcome = execute(client, updates)
        marks = [
            Operation(
                "update",
                op.source["_index"],
                op.id,
                {"join": {"joined_at": stamp, "prediction_index": op.index}},
            )
            for op in outcome.succeeded
        ]
        marked = execute(client, marks)
        joined += len(marked.succeeded)
        missing = [f for f in outcome.failed if f.error_type == "document_missing_exception"]
        pending += len(missing)
        failed += len(outcome.failed) - len(missing) + len(marked.failed)
        errors.extend(outcome.summary() + marked.summary())
    return JoinResult(joined=joined, pending=pending, failed=failed, errors=tuple(errors[:10]))


def _locate(
    client: Elasticsearch, index: str, ids: list[str], model: str | None
) -> dict[str, tuple[str, dict[str, Any]]]:
    """prediction id → (the index holding it, its prediction block), with one ``ids`` query."""
    filters: list[dict[str, Any]] = [{"ids": {"values": ids}}]
    if model:
        filters.append({"term": {"model.name": model}})
    hits = client.search(
        index=index,
        query={"bool": {"filter": filters}},
        size=len(ids),
        source=["prediction"],
        allow_no_indices=True,
        ignore_unavailable=True,
    )["hits"]["hits"]
    return {hit["_id"]: (hit["_index"], hit["_source"].get("prediction")) for hit in hits}
