"""Index normalised events; route every rejected one to the dead-letter index with its reason.

Predictions are written with ``create`` under their ``prediction_id``: a
replayed event is a counted duplicate and never overwrites a document whose
actual has already been joined. Actuals are written with ``index`` under the
same id into their own index and joined later (see :mod:`mlmon.es.join`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import orjson
from elasticsearch import Elasticsearch

from mlmon.es.bulk import BulkOutcome, ItemFailure, Operation, execute
from mlmon.schema.event import actuals_index, deadletter_index, format_timestamp, predictions_index


@dataclass
class WriteResult:
    """Every event given to :func:`write_events` is in exactly one of these counters."""

    indexed: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    failed: int = 0  # could be written neither to its index nor to the dead-letter index
    actuals: int = 0  # of ``indexed``, how many were actuals
    errors: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.indexed + self.duplicates + self.dead_lettered + self.failed

    def add(self, other: WriteResult) -> None:
        self.indexed += other.indexed
        self.duplicates += other.duplicates
        self.dead_lettered += other.dead_lettered
        self.failed += other.failed
        self.actuals += other.actuals
        self.errors = (self.errors + other.errors)[:10]


def operation_for(doc: dict[str, Any]) -> Operation:
    """Where a normalised event goes, and how (pure)."""
    model = doc["model"]["name"]
    if doc["event"]["kind"] == "actual":
        return Operation(
            "index", actuals_index(model, doc["@timestamp"]), doc["prediction_id"], doc, doc
        )
    return Operation(
        "create", predictions_index(model, doc["@timestamp"]), doc["prediction_id"], doc, doc
    )


def deadletter_operation(
    raw: Any,
    *,
    source: str,
    error_type: str,
    reason: str,
    target_index: str | None = None,
    location: str | None = None,
    now: datetime | None = None,
) -> Operation:
    """A dead-letter document keeps the raw event as text (not indexed) with why it was refused.

    Whatever can be read of the event — its model and prediction id, even from a
    line that failed validation — becomes a field, so an operator can ask which
    model's events are refused; ``location`` says where it came from (file:line).
    """
    stamp = format_timestamp(now or datetime.now(timezone.utc))
    text = raw if isinstance(raw, str) else orjson.dumps(raw, default=str).decode()
    body: dict[str, Any] = {
        "@timestamp": stamp,
        "source": source,
        "error_type": error_type,
        "reason": reason[:2000],
        "raw": text,
    }
    if target_index:
        body["target_index"] = target_index
    if location:
        body["location"] = location[:512]
    event = _readable(raw)
    if isinstance(event.get("prediction_id"), str):
        body["prediction_id"] = event["prediction_id"][:128]
    model = event.get("model")
    if isinstance(model, dict) and isinstance(model.get("name"), str):
        body["model"] = {"name": model["name"][:128]}
    return Operation("index", deadletter_index(stamp), None, body, raw)


def _readable(raw: Any) -> dict[str, Any]:
    """The raw event as a mapping when it is one, or JSON text of one; else empty."""
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str | bytes):
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def write_events(
    client: Elasticsearch,
    docs: Iterable[dict[str, Any]],
    *,
    source: str,
    refresh: bool | str = False,
    max_items: int = 1000,
) -> WriteResult:
    """Bulk-index normalised events, ``max_items`` a request. Raises ClusterUnavailable only
    when the cluster is down."""
    operations = [operation_for(doc) for doc in docs]
    outcome = execute(client, operations, refresh=refresh, max_items=max_items)
    result = WriteResult(indexed=len(outcome.succeeded))
    result.actuals = sum(1 for operation in outcome.succeeded if operation.op == "index")
    rejected: list[ItemFailure] = []
    for failure in outcome.failed:
        if failure.status == 409 and failure.operation.op == "create":
            result.duplicates += 1
        else:
            rejected.append(failure)
    if rejected:
        result.errors = BulkOutcome(failed=rejected).summary()
        dead = dead_letter(client, rejected, source=source, refresh=refresh)
        result.dead_lettered += dead.dead_lettered
        result.failed += dead.failed
        result.errors.extend(dead.errors)
    return result


def dead_letter(
    client: Elasticsearch,
    failures: Iterable[ItemFailure],
    *,
    source: str,
    refresh: bool | str = False,
) -> WriteResult:
    """Write refused items to the dead-letter index; what even that refuses is counted as failed."""
    operations = [
        deadletter_operation(
            f.operation.source,
            source=source,
            error_type=f.error_type,
            reason=f"{f.status} {f.reason}",
            target_index=f.operation.index,
        )
        for f in failures
    ]
    return write_deadletters(client, operations, refresh=refresh)


def write_deadletters(
    client: Elasticsearch, operations: list[Operation], *, refresh: bool | str = False
) -> WriteResult:
    outcome = execute(client, operations, refresh=refresh)
    return WriteResult(
        dead_lettered=len(outcome.succeeded), failed=len(outcome.failed), errors=outcome.summary()
    )
