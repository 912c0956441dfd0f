"""`mlmon simulate` sends its scenario through the SDK into Elasticsearch, re-runnably."""

from __future__ import annotations

import json

from conftest import run_mlmon
from mlmon.es.join import join_pending
from mlmon.schema.event import model_indices

mlmon = run_mlmon


def test_simulate_registers_sends_and_reruns_safely(es, model, tmp_path):
    training, truth = tmp_path / "training.csv", tmp_path / "truth.json"
    args = (
        "simulate",
        "--scenario",
        "fraud-incident",
        "--events",
        "3000",
        "--days",
        "2",
        "--model",
        model,
        "--end",
        "2026-11-20T00:00:00Z",
        "--training-file",
        str(training),
    )
    first = mlmon(*args, "--truth", str(truth))
    assert first.returncode == 0, first.stderr
    assert "3000 predictions and 3000 actuals (v1, v2)" in first.stderr
    assert "6000 sent, 0 duplicates, 0 dropped" in first.stderr
    injected = {item["kind"]: item for item in json.loads(truth.read_text())["injected"]}
    assert set(injected) == {"unseen_category", "missing_spike", "latency", "late_actuals"}

    registered = mlmon(
        "baseline",
        "register",
        "--model",
        model,
        "--version",
        "v1",
        "--label-column",
        "is_fraud",
        "--prediction-column",
        "predicted",
        "--score-column",
        "score",
        str(training),
    )
    assert registered.returncode == 0, registered.stderr

    join_pending(es, model=model)
    index = model_indices("predictions", model)
    es.indices.refresh(index=index)
    counts = es.search(
        index=index,
        size=0,
        track_total_hits=True,
        aggs={
            "versions": {"terms": {"field": "model.version"}},
            "joined": {"filter": {"exists": {"field": "actual.correct"}}},
            "scammeds": {
                "filter": {"term": {"features.merchant_name": "scammeds.com"}},
                "aggs": {"accuracy": {"avg": {"field": "actual.correct"}}},
            },
        },
    )
    assert counts["hits"]["total"]["value"] == 3000
    aggs = counts["aggregations"]
    assert {b["key"] for b in aggs["versions"]["buckets"]} == {"v1", "v2"}
    assert aggs["joined"]["doc_count"] == 3000  # every actual joined, early ones included
    assert aggs["scammeds"]["doc_count"] == injected["unseen_category"]["events"]
    assert aggs["scammeds"]["accuracy"]["value"] < 0.15

    again = mlmon(*args)
    assert again.returncode == 0, again.stderr
    assert "3000 duplicates" in again.stderr  # deterministic ids: nothing counted twice
    assert es.count(index=index)["count"] == 3000
