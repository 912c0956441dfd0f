"""`mlmon setup` on the real node: idempotent templates and the mapping events get."""

from __future__ import annotations

from mlmon.es.capabilities import check_node
from mlmon.es.setup import load_templates, setup
from mlmon.es.writer import write_events
from mlmon.schema.document import normalize_event
from mlmon.schema.event import predictions_index
from mlmon.stack import ES_VERSION


def event(model, pid, **features):
    return normalize_event(
        {
            "@timestamp": "2026-11-22T10:00:00.000Z",
            "model": {"name": model, "version": "v1"},
            "prediction_id": pid,
            "features": features,
            "tags": {"region": "eu", "shard": 3},
            "prediction": {"label": "fraud", "score": 0.9},
            "latency_ms": {"total": 3.0},
        }
    )


def test_setup_is_idempotent_and_versioned(es):
    setup(es)
    again = setup(es)
    assert {c.action for c in again.changes} == {"unchanged"}
    assert again.node.version == ES_VERSION
    names = {c.name for c in again.changes}
    assert names == set(load_templates()["component"]) | set(load_templates()["index"])
    stored = es.indices.get_index_template(name="mlmon-predictions")["index_templates"][0]
    assert stored["index_template"]["_meta"]["schema_version"] == 1


def test_node_offers_every_aggregation_mlmon_needs(es):
    info = check_node(es)
    assert info.version == ES_VERSION
    assert "x-pack-security" in info.modules


def test_features_map_by_type_and_bad_values_never_lose_the_document(es, model):
    result = write_events(
        es,
        [
            event(model, "a", merchant="m1", amount=12.5),
            event(model, "b", merchant="m2", amount="not a number"),
        ],
        source="test",
        refresh=True,
    )
    assert (result.indexed, result.dead_lettered, result.failed) == (2, 0, 0)
    index = predictions_index(model, "2026-11-22T00:00:00.000Z")
    props = es.indices.get_mapping(index=index)[index]["mappings"]["properties"]
    assert props["features"]["properties"]["merchant"]["type"] == "keyword"
    assert props["features"]["properties"]["amount"]["type"] == "double"
    assert props["tags"]["properties"]["shard"]["type"] == "keyword"
    assert props["quality"]["properties"]["unseen_count"]["type"] == "integer"
    # The malformed number is kept in _source and listed in _ignored, not rejected.
    hit = es.search(index=index, query={"term": {"_ignored": "features.amount"}})["hits"]["hits"]
    assert [h["_id"] for h in hit] == ["b"]
    assert hit[0]["_source"]["features"]["amount"] == "not a number"


def test_field_cap_ignores_fields_beyond_the_limit_instead_of_rejecting(es, model):
    docs = [event(model, f"wide{i}", **{f"f{i}_{j}": 1.0 for j in range(400)}) for i in range(6)]
    result = write_events(es, docs, source="test", refresh=True)
    assert result.indexed == 6
    index = predictions_index(model, "2026-11-22T00:00:00.000Z")
    total = es.count(index=index)["count"]
    assert total == 6
    ignored = es.count(index=index, query={"exists": {"field": "_ignored"}})["count"]
    assert ignored >= 1  # 2400 feature fields > the 2000-field cap
