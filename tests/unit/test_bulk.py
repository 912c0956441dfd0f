"""The pure layers of bulk writing: chunking and reading responses."""

from __future__ import annotations

import orjson
import pytest

from mlmon.es.bulk import BulkOutcome, Operation, chunk, interpret
from mlmon.es.writer import deadletter_operation, operation_for


def op(i: int, kind: str = "create") -> Operation:
    return Operation(kind, "idx", f"id{i:03d}", {"n": "same"})


def test_operation_lines_are_bulk_ndjson():
    lines = Operation("update", "i", "7", {"a": 1}).lines().splitlines()
    assert [orjson.loads(x) for x in lines] == [
        {"update": {"_index": "i", "_id": "7"}},
        {"doc": {"a": 1}},
    ]


def test_chunk_respects_item_and_byte_limits():
    ops = [op(i) for i in range(25)]
    assert [len(b) for b in chunk(ops, max_items=10)] == [10, 10, 5]
    size = len(ops[0].lines())
    assert [len(b) for b in chunk(ops, max_items=100, max_bytes=size * 4)] == [4] * 6 + [1]
    assert list(chunk([])) == []


def test_interpret_pairs_items_with_operations():
    ops = [op(0), op(1), op(2)]
    response = {
        "items": [
            {"create": {"status": 201}},
            {
                "create": {
                    "status": 409,
                    "error": {"type": "version_conflict_engine_exception", "reason": "exists"},
                }
            },
            {
                "create": {
                    "status": 400,
                    "error": {
                        "type": "document_parsing_exception",
                        "reason": "bad",
                        "caused_by": {"reason": "not a double"},
                    },
                }
            },
        ]
    }
    outcome = interpret(ops, response)
    assert outcome.succeeded == [ops[0]]
    assert [(f.operation, f.status, f.error_type) for f in outcome.failed] == [
        (ops[1], 409, "version_conflict_engine_exception"),
        (ops[2], 400, "document_parsing_exception"),
    ]
    assert outcome.failed[1].reason == "bad (not a double)"


def test_interpret_refuses_a_mismatched_response():
    with pytest.raises(ValueError, match="2 items for 1"):
        interpret([op(0)], {"items": [{"index": {"status": 201}}] * 2})


def test_summary_groups_reasons_by_type():
    outcome = interpret(
        [op(i) for i in range(3)],
        {
            "items": [
                {"create": {"status": 400, "error": {"type": "a", "reason": "first a"}}},
                {"create": {"status": 400, "error": {"type": "a", "reason": "second a"}}},
                {"create": {"status": 429, "error": {"type": "b", "reason": "busy"}}},
            ]
        },
    )
    assert outcome.summary() == ["2 × a: first a", "1 × b: busy"]
    assert BulkOutcome().summary() == []


def test_events_route_to_their_index_with_their_op():
    prediction = {
        "@timestamp": "2026-11-22T10:00:00.000Z",
        "event": {"kind": "prediction"},
        "model": {"name": "m"},
        "prediction_id": "p",
    }
    actual = {**prediction, "event": {"kind": "actual"}}
    assert (operation_for(prediction).op, operation_for(prediction).index) == (
        "create",
        "mlmon-predictions-m-2026.11",
    )
    assert (operation_for(actual).op, operation_for(actual).index, operation_for(actual).id) == (
        "index",
        "mlmon-actuals-m-2026.11",
        "p",
    )


def test_deadletter_keeps_the_raw_event_and_reason():
    dead = deadletter_operation(
        {"prediction_id": "p", "model": {"name": "m"}, "x": 1},
        source="sdk",
        error_type="t",
        reason="why",
    )
    assert dead.index.startswith("mlmon-deadletter-")
    assert orjson.loads(dead.body["raw"]) == {"prediction_id": "p", "model": {"name": "m"}, "x": 1}
    assert (dead.body["reason"], dead.body["prediction_id"], dead.body["model"]) == (
        "why",
        "p",
        {"name": "m"},
    )
    assert (
        deadletter_operation("{not json", source="ingest", error_type="t", reason="r").body["raw"]
        == "{not json"
    )


def test_a_response_without_errors_is_read_as_every_item_succeeded_as_item_by_item():
    ops = [op(0), op(1)]
    items = [{"create": {"status": 201}}, {"create": {"status": 201}}]
    quick = interpret(ops, {"errors": False, "items": items})
    slow = interpret(ops, {"items": items})
    assert quick.succeeded == slow.succeeded == ops and quick.failed == slow.failed == []
    with pytest.raises(ValueError, match="1 items for 2"):
        interpret(ops, {"errors": False, "items": items[:1]})
