"""Join late actuals to their predictions with plain bulk partial updates.

No scripts, no update-by-query, no enrich: the local test distribution has
none of them, and mlmon needs none. The design never loses an actual or a
prediction whatever arrives first:

1. every actual is indexed into ``mlmon-actuals-*`` under its prediction's
   id and stays there (``join.joined_at`` absent = pending);
2. a join pass pages through pending actuals, finds their predictions with
   one ``ids`` query per page, bulk-updates each found prediction with a
   partial ``{"actual": …}`` doc, and only then marks the actual joined;
3. the predictions that shadowed it (``trace.shadow_of`` = its id) get the
   same actual and their ``pair`` block (:mod:`mlmon.schema.pairing`) in the
   same bulk request; the actual is marked only when all of them succeeded;
4. an actual whose prediction is not indexed yet stays pending and is joined
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
from mlmon.es.paging import pages
from mlmon.schema.document import score_outcome
from mlmon.schema.event import (
    ACTUALS_INDEX_PATTERN,
    PREDICTIONS_INDEX_PATTERN,
    format_timestamp,
    model_indices,
)
from mlmon.schema.pairing import pair_block, shadow_of


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
    for page in pages(
        client,
        index=actuals,
        query=pending_query(model),
        source=["@timestamp", "actual", "model.name", "prediction_id"],
        page_size=page_size,
    ):
        located = _locate(client, predictions, [hit["_id"] for hit in page], model)
        updates = [
            Operation(
                "update",
                located[hit["_id"]][0],
                hit["_id"],
                prediction_update(hit["_source"], located[hit["_id"]][1].get("prediction")),
                hit,
            )
            for hit in page
            if hit["_id"] in located
        ]
        pending += len(page) - len(updates)
        shadows = _shadow_updates(client, predictions, page, located, model)
        outcome = execute(client, updates + shadows)
        unfinished = {f.operation.source["_id"] for f in outcome.failed}
        marks = [
            Operation(
                "update",
                op.source["_index"],
                op.id,
                {"join": {"joined_at": stamp, "prediction_index": op.index}},
            )
            for op in outcome.succeeded
            if op.source.get("_index") and op.id not in unfinished
        ]
        marked = execute(client, marks)
        joined += len(marked.succeeded)
        missing = [f for f in outcome.failed if f.error_type == "document_missing_exception"]
        pending += len(missing)
        failed += len(outcome.failed) - len(missing) + len(marked.failed)
        errors.extend(outcome.summary() + marked.summary())
    if joined:  # a trace right after the join reads the joined outcomes, not the old documents
        client.indices.refresh(index=predictions, allow_no_indices=True, ignore_unavailable=True)
    return JoinResult(joined=joined, pending=pending, failed=failed, errors=tuple(errors[:10]))


def _shadow_updates(
    client: Elasticsearch,
    index: str,
    page: list[dict[str, Any]],
    located: dict[str, tuple[str, dict[str, Any]]],
    model: str | None,
) -> list[Operation]:
    """The actual, and the pairing with its live partner, for every shadow of a located
    prediction: one actual joins every prediction of its request. A failed shadow update
    leaves its actual pending (``source`` names it), so a later pass retries it."""
    live_ids = [hit["_id"] for hit in page if hit["_id"] in located]
    if not live_ids:
        return []
    filters: list[dict[str, Any]] = [{"terms": {"trace.shadow_of": live_ids}}]
    if model:
        filters.append({"term": {"model.name": model}})
    found = client.search(
        index=index,
        query={"bool": {"filter": filters}},
        size=min(10_000, 10 * len(live_ids)),
        source=["prediction", "trace.shadow_of"],
        allow_no_indices=True,
        ignore_unavailable=True,
    )["hits"]["hits"]
    actuals = {hit["_id"]: hit for hit in page}
    updates = []
    for shadow in found:
        live_id = shadow_of(shadow["_source"])
        actual = actuals[live_id]
        body = prediction_update(actual["_source"], shadow["_source"].get("prediction"))
        given = actual["_source"].get("actual") or {}
        body["pair"] = pair_block(shadow["_source"], located[live_id][1], given)
        updates.append(Operation("update", shadow["_index"], shadow["_id"], body, {"_id": live_id}))
    return updates


def _locate(
    client: Elasticsearch, index: str, ids: list[str], model: str | None
) -> dict[str, tuple[str, dict[str, Any]]]:
    """prediction id → (the index holding it, what pairing needs of it), with one ``ids`` query."""
    filters: list[dict[str, Any]] = [{"ids": {"values": ids}}]
    if model:
        filters.append({"term": {"model.name": model}})
    hits = client.search(
        index=index,
        query={"bool": {"filter": filters}},
        size=len(ids),
        source=["prediction", "model.version", "latency_ms.total"],
        allow_no_indices=True,
        ignore_unavailable=True,
    )["hits"]["hits"]
    return {hit["_id"]: (hit["_index"], hit["_source"]) for hit in hits}
