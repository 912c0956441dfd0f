"""Privacy and injection on the real Elasticsearch.

Privacy: fields the SDK is told to drop or hash never reach the cluster in
the clear. Injection: user-supplied model names, versions and slice values
are sent as structured terms; hostile ones are rejected or match literally.
"""

from __future__ import annotations

import pytest

from conftest import run_mlmon
from mlmon import PredictionLogger
from mlmon.analysis.dimensions import Dimension
from mlmon.schema.event import model_indices
from mlmon.sdk import Redact
from mlmon.sources.es_query import level_aggs

HOSTILE = [".*", "*", "a OR b", 'x" OR "1"="1', "merchant:*", '{"script": "1"}', "_all"]


def test_dropped_and_hashed_fields_never_reach_elasticsearch(es, model):
    redact = Redact(drop=["features.customer_id"], hash=["features.email"], key="test-key")
    with PredictionLogger(model, "v1", sink="elasticsearch", processors=[redact]) as log:
        for i in range(20):
            log.prediction(
                {"merchant": "a", "customer_id": f"CUST-{i:04d}", "email": f"u{i}@example.com"},
                prediction="legit",
            )
        assert log.flush(30)
        assert log.stats()["sent"] == 20
    index = model_indices("predictions", model)
    es.indices.refresh(index=index)
    for secret in ("CUST-0007", "u7@example.com", "example.com"):
        found = es.search(index=index, query={"query_string": {"query": f'"{secret}"'}})
        assert found["hits"]["total"]["value"] == 0, secret
    docs = [h["_source"] for h in es.search(index=index, size=20)["hits"]["hits"]]
    assert len(docs) == 20
    assert all("customer_id" not in d["features"] for d in docs)
    assert all(len(d["features"]["email"]) == 32 for d in docs)
    mapping = es.indices.get_mapping(index=index)
    assert all("customer_id" not in str(m) for m in mapping.values())


@pytest.mark.parametrize("name", ["*", "fraud*", "a,b", "_all", "../x", "m OR 1=1"])
def test_hostile_model_names_are_rejected_with_exit_2(name):
    for args in (
        ("trace", "--model", name),
        ("baseline", "list", "--model", name),
        ("join", "--model", name),
        ("retention", "apply", "--model", name),
        ("kibana", "validate", "--model", name),
    ):
        result = run_mlmon(*args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_hostile_slice_values_match_literally(es, model):
    with PredictionLogger(model, "v1", sink="elasticsearch") as log:
        for value in [*HOSTILE, "plain", "plain", "a", "b"]:
            log.prediction({"merchant": value}, prediction="legit")
        assert log.flush(30)
    index = model_indices("predictions", model)
    es.indices.refresh(index=index)
    dimension = Dimension("merchant", "features.merchant", "categorical")
    for value in HOSTILE:
        aggs = level_aggs("s", dimension, frozenset({value}), {})
        buckets = es.search(index=index, size=0, aggs=aggs)["aggregations"]["s"]["buckets"]
        assert [(b["key"], b["doc_count"]) for b in buckets] == [(value, 1)], value


def test_a_hostile_version_or_kibana_scope_matches_nothing_instead_of_everything(es, model):
    with PredictionLogger(model, "v1", sink="elasticsearch") as log:
        for _ in range(5):
            log.prediction({"merchant": "a"}, prediction="legit")
        assert log.flush(30)
    es.indices.refresh(index=model_indices("predictions", model))
    traced = run_mlmon(
        "trace", "--model", model, "--version", "*", "--baseline", "window:now-30d..now-7d"
    )
    assert "Traceback" not in traced.stderr
    assert "5 predictions" not in traced.stdout
    scoped = run_mlmon("kibana", "validate", "--model", "*")
    assert scoped.returncode == 2 and "--model" in scoped.stderr
