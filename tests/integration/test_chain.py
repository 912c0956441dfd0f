"""`mlmon trace` on a downstream model names the upstream model whose output went wrong.

The `chain` scenario (8,000 requests: an upstream fraud model, and a downstream model
that consumes its score and names its prediction in `trace.parent_prediction_id`; the
upstream ships a calibration bug) goes through the SDK into a JSON-lines file and is
ingested; both models' training profiles are registered. The downstream trace, on
Elasticsearch and on pandas, must name the upstream model and quote its own change.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from conftest import forget_model, register_training, run_mlmon, unique_model
from mlmon._ingest import ingest_file
from mlmon.simulate.emit import emit
from mlmon.simulate.run import build_traffic

END = datetime(2026, 11, 20, tzinfo=timezone.utc)
WINDOW = "2026-11-19T06:00:00Z..2026-11-20T00:00:00Z"  # the part after the bug ships


@pytest.fixture(scope="module")
def chain(es, tmp_path_factory):
    folder = tmp_path_factory.mktemp("chain")
    name = unique_model("chain")
    traffic = build_traffic("chain", events=8000, days=2, seed=7, end=END, model=name)
    upstream = traffic.upstream.truth["model"]
    try:
        for part in (traffic, traffic.upstream):
            register_training(es, part, folder, created_at="2026-11-17T00:00:00.000Z")
        events = folder / "events.jsonl"
        with events.open("w") as stream:
            emit(traffic, sink="stdout", model=name, stream=stream)
        ingest_file(es, events)
        reports = []
        for extra in ((), ("--events", str(events))):
            out = folder / f"trace-{len(extra)}.json"
            result = run_mlmon(
                "trace", "--model", name, "--window", WINDOW, "--baseline", "training",
                "--format", "json", "-o", str(out), *extra,
            )  # fmt: skip
            assert result.returncode == 0, result.stderr
            reports.append(json.loads(out.read_text()))
        yield reports, traffic.truth
    finally:
        forget_model(es, name)
        forget_model(es, upstream)


def test_the_downstream_trace_names_the_upstream_model_and_its_change(chain):
    (report, _), truth = chain
    injected = next(i for i in truth["injected"] if i["kind"] == "upstream")
    assert report["overall"]["current"] < report["overall"]["baseline"] - 0.1
    found = report["upstream"][0]
    assert found["feature"] == injected["feature"] == "upstream_score"
    assert found["model"] == injected["upstream_model"]
    assert found["reason"] in ("top slice", "drifted")
    assert found["prediction_psi"] > 1.0  # its scores moved: the calibration bug
    assert f"is model {injected['upstream_model']}'s output" in report["headline"]
    assert "one level up" in found["evidence"]


def test_both_backends_name_the_same_upstream_change(chain):
    (from_es, from_pandas), _ = chain
    assert len(from_es["upstream"]) == len(from_pandas["upstream"]) == 1
    es_found, pandas_found = from_es["upstream"][0], from_pandas["upstream"][0]
    for key in ("feature", "model", "version", "reason", "metric"):
        assert es_found[key] == pandas_found[key], key
    for key in ("current", "baseline", "prediction_psi"):
        assert es_found[key] == pytest.approx(pandas_found[key], rel=1e-9), key
