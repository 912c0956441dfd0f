"""Feature attributions from the SDK to the report, on the real Elasticsearch and on pandas.

The `attribution-shift` scenario (10,000 predictions of a LightGBM model, each logged with
its TreeSHAP contributions; new accounts flood in from 60 % of the window) goes through the
SDK into a JSON-lines file and is ingested; its training file is registered with
`mlmon baseline register --attribution-prefix attr_`. `mlmon trace --format json` on each
backend must rank account_age_days first, call its importance drift, and agree.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np
import pytest

from conftest import forget_model, run_mlmon, same_report, unique_model
from mlmon._ingest import ingest_file
from mlmon.schema.event import model_indices
from mlmon.simulate.emit import emit, write_reference
from mlmon.simulate.run import build_traffic

END = datetime(2026, 11, 20, tzinfo=timezone.utc)
WINDOW = "2026-11-13T00:00:00Z..2026-11-20T00:00:00Z"


@pytest.fixture(scope="module")
def traced(es, tmp_path_factory):
    folder = tmp_path_factory.mktemp("attributions")
    name = unique_model("attr")
    traffic = build_traffic("attribution-shift", events=10_000, days=7, seed=7, end=END, model=name)
    try:
        training = write_reference(traffic, folder / "training.parquet")
        registered = run_mlmon(
            "baseline", "register", "--model", name, "--version", "v1",
            "--label-column", "is_fraud", "--prediction-column", "predicted",
            "--score-column", "score", "--attribution-prefix", "attr_", str(training),
        )  # fmt: skip
        assert registered.returncode == 0, registered.stderr
        assert "attributions of 8 features" in registered.stdout
        events = folder / "events.jsonl"
        with events.open("w") as stream:
            emit(traffic, sink="stdout", model=name, stream=stream)
        ingest_file(es, events)
        es.indices.refresh(index=model_indices("predictions", name))
        reports = []
        for extra in ((), ("--events", str(events))):
            out = folder / f"trace-{len(extra)}.json"
            result = run_mlmon(
                "trace", "--model", name, "--window", WINDOW, "--format", "json", "-o", str(out),
                *extra,
            )  # fmt: skip
            assert result.returncode == 0, result.stderr
            reports.append(json.loads(out.read_text()))
        yield name, traffic, reports
    finally:
        forget_model(es, name)


def test_an_sdk_documents_attributions_arrive_in_elasticsearch_as_logged(es, traced):
    name, traffic, _ = traced
    row = traffic.frame.iloc[1234]
    found = es.get(index=_index_of(es, name, row.prediction_id), id=row.prediction_id)
    source = found["_source"]
    logged = {c.removeprefix("attr_"): row[c] for c in traffic.frame if c.startswith("attr_")}
    assert source["attributions"] == pytest.approx(logged)
    assert source["attributions_abs"] == pytest.approx({k: abs(v) for k, v in logged.items()})
    mapping = es.indices.get_field_mapping(
        index=model_indices("predictions", name), fields="attributions*.account_age_days"
    ).body
    kinds = {
        field: spec["mapping"]["account_age_days"]["type"]
        for index in mapping.values()
        for field, spec in index["mappings"].items()
    }
    assert kinds == {
        "attributions.account_age_days": "double",
        "attributions_abs.account_age_days": "double",
    }


def _index_of(es, name: str, prediction_id: str) -> str:
    hits = es.search(
        index=model_indices("predictions", name), query={"ids": {"values": [prediction_id]}}
    )["hits"]["hits"]
    return hits[0]["_index"]


def test_the_trace_ranks_features_by_importance_and_calls_the_shifted_one(traced):
    _, traffic, (report, _) = traced
    (injected,) = [i for i in traffic.truth["injected"] if i["kind"] == "attribution_shift"]
    importance = report["importance"]
    assert importance[0]["feature"] == injected["feature"] == "account_age_days"
    assert [r["rank"] for r in importance] == list(range(1, 9))
    # the ranking's numbers are the logged contributions' mean |value|, window and training
    frame, reference = traffic.frame, traffic.reference
    for row in importance:
        column = f"attr_{row['feature']}"
        assert row["current"] == pytest.approx(np.abs(frame[column]).mean(), rel=1e-9)
        assert row["baseline"] == pytest.approx(np.abs(reference[column]).mean(), rel=1e-9)
        assert row["count"] == len(frame) and row["baseline_count"] == len(reference)
    (finding,) = report["attribution_drift"]
    assert finding["feature"] == "account_age_days"
    assert finding["change"] > 0.25 and finding["p_adjusted"] < 0.01
    assert finding["baseline_rank"] > finding["rank"] == 1
    # accuracy moved too, and the headline says both
    assert report["overall"]["current"] < report["overall"]["baseline"] - 0.02
    assert "Attribution drift: account_age_days's importance rose" in report["headline"]


def test_elasticsearch_and_pandas_give_the_same_importance_and_findings(traced):
    _, _, (from_es, from_file) = traced
    assert from_es["backend"] == "elasticsearch" and from_file["backend"] == "pandas"
    for key in ("importance", "attribution_drift", "headline", "slices", "root_causes"):
        assert same_report(from_es[key], from_file[key]), key


def test_the_text_and_markdown_reports_show_features_by_importance(traced, tmp_path):
    name, _, _ = traced
    for fmt in ("text", "md"):
        out = tmp_path / f"report.{fmt}"
        result = run_mlmon(
            "trace", "--model", name, "--window", WINDOW, "--format", fmt, "-o", str(out)
        )
        assert result.returncode == 0, result.stderr
        text = out.read_text()
        assert "Features by importance (mean |attribution|)" in text
        assert "Attribution drift" in text and "of account_age_days rose from" in text
        slices, ranked = text.index("Slices that changed"), text.index("Features by importance")
        assert slices < ranked < text.index("Data quality")  # beside the slices
