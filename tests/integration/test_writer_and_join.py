"""Writing events and joining late actuals, in either order, with plain bulk operations."""

from __future__ import annotations

from mlmon.es.join import join_pending
from mlmon.es.writer import write_events
from mlmon.schema.document import normalize_event


def prediction(model, pid, ts="2026-11-22T10:00:00.000Z"):
    return normalize_event(
        {
            "@timestamp": ts,
            "model": {"name": model, "version": "v1"},
            "prediction_id": pid,
            "features": {"state": "CA"},
            "prediction": {"label": "fraud", "score": 0.8},
        }
    )


def actual(model, pid, label="legit", ts="2026-11-24T09:00:00.000Z"):
    return normalize_event(
        {
            "@timestamp": ts,
            "event": {"kind": "actual"},
            "model": {"name": model},
            "prediction_id": pid,
            "actual": {"label": label},
        }
    )


def source(es, model, pid):
    es.indices.refresh(index=f"mlmon-predictions-{model}-*")
    hits = es.search(index=f"mlmon-predictions-{model}-*", query={"ids": {"values": [pid]}})
    return hits["hits"]["hits"][0]["_source"]


def test_prediction_then_actual_joins(es, model):
    write_events(es, [prediction(model, "p1")], source="test")
    write_events(es, [actual(model, "p1")], source="test")
    result = join_pending(es, model=model)
    assert (result.joined, result.pending, result.failed) == (1, 0, 0)
    assert source(es, model, "p1")["actual"] == {
        "label": "legit",
        "correct": False,  # predicted fraud
        "timestamp": "2026-11-24T09:00:00.000Z",
    }
    again = join_pending(es, model=model)
    assert (again.joined, again.pending) == (0, 0)


def test_actual_before_prediction_waits_then_joins(es, model):
    write_events(es, [actual(model, "early")], source="test")
    first = join_pending(es, model=model)
    assert (first.joined, first.pending) == (0, 1)
    write_events(es, [prediction(model, "early")], source="test")
    second = join_pending(es, model=model)
    assert (second.joined, second.pending) == (1, 0)
    assert source(es, model, "early")["actual"]["label"] == "legit"


def test_replayed_prediction_is_a_counted_duplicate_and_keeps_the_actual(es, model):
    write_events(es, [prediction(model, "p")], source="test")
    write_events(es, [actual(model, "p")], source="test")
    join_pending(es, model=model)
    replay = write_events(es, [prediction(model, "p")], source="test", refresh=True)
    assert (replay.indexed, replay.duplicates) == (0, 1)
    assert source(es, model, "p")["actual"]["label"] == "legit"


def test_many_actuals_in_mixed_order_all_join(es, model):
    ids = [f"p{i}" for i in range(2500)]
    write_events(es, [prediction(model, pid) for pid in ids[:1200]], source="test")
    write_events(
        es, [actual(model, pid, label=str(i % 2)) for i, pid in enumerate(ids)], source="test"
    )
    first = join_pending(es, model=model)
    assert (first.joined, first.pending) == (1200, 1300)
    write_events(es, [prediction(model, pid) for pid in ids[1200:]], source="test")
    second = join_pending(es, model=model)
    assert (second.joined, second.pending, second.failed) == (1300, 0, 0)
    es.indices.refresh(index=f"mlmon-predictions-{model}-*")
    joined = es.count(
        index=f"mlmon-predictions-{model}-*", query={"exists": {"field": "actual.label"}}
    )
    assert joined["count"] == 2500


def test_documents_elasticsearch_rejects_go_to_the_deadletter_with_a_reason(es, model):
    bad = prediction(model, "bad")
    bad["prediction"]["score"] = "very high"  # bypasses validation, as a foreign shipper might
    result = write_events(es, [prediction(model, "good"), bad], source="test", refresh=True)
    assert (result.indexed, result.dead_lettered, result.failed) == (1, 1, 0)
    assert "document_parsing_exception" in result.errors[0]
    hits = es.search(
        index="mlmon-deadletter-*",
        query={
            "bool": {
                "filter": [{"term": {"prediction_id": "bad"}}, {"term": {"model.name": model}}]
            }
        },
    )["hits"]["hits"]
    assert len(hits) == 1
    dead = hits[0]["_source"]
    assert dead["source"] == "test" and dead["target_index"].startswith(
        f"mlmon-predictions-{model}-"
    )
    assert "very high" in dead["raw"] and "prediction.score" in dead["reason"]
