"""The new scenarios traced on the real Elasticsearch and on pandas: same answers, right cause.

Each scenario (20,000 predictions through the SDK into a JSON-lines file, ingested into
Elasticsearch, its training profile registered first) is traced once per backend through the
CLI; each test asserts the top slice and its cause kind against what the simulator injected,
and that both backends agree on slices and causes.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import forget_model, register_training, run_mlmon, same_report, unique_model
from mlmon._ingest import ingest_file
from mlmon.simulate.emit import emit
from mlmon.simulate.run import build_traffic

END = datetime(2026, 11, 20, tzinfo=timezone.utc)
WINDOW = "2026-11-13T00:00:00Z..2026-11-20T00:00:00Z"
EVENTS = 20_000
SCENARIOS = (
    "churn-segment-drift",
    "credit-two-incidents",
    "ads-overlapping-slices",
    "churn-hard-slices",
    "delivery-unseen-vehicle",
)


def _trace(name: str, folder: Path, *extra: str) -> dict:
    out = folder / f"{name}-{len(extra)}.json"
    result = run_mlmon(
        "trace", "--model", name, "--window", WINDOW, "--format", "json", "-o", str(out), *extra
    )
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text())


class _Reports(dict):
    """scenario → (Elasticsearch report, pandas report, truth), each made on first use
    (so ``-k delivery`` builds one scenario, not all)."""

    def __init__(self, es, folder: Path) -> None:
        super().__init__()
        self.es, self.folder, self.names = es, folder, []

    def __missing__(self, scenario: str):
        es, folder = self.es, self.folder
        name = unique_model(scenario[:6])
        self.names.append(name)
        traffic = build_traffic(scenario, events=EVENTS, days=7, seed=7, end=END, model=name)
        register_training(es, traffic, folder)
        events = folder / f"{name}.jsonl"
        with events.open("w") as stream:
            emit(traffic, sink="stdout", model=name, stream=stream)
        ingest_file(es, events)
        self[scenario] = (
            _trace(name, folder),
            _trace(name, folder, "--events", str(events)),
            traffic.truth,
        )
        return self[scenario]


@pytest.fixture(scope="module")
def reports(es, tmp_path_factory):
    made = _Reports(es, tmp_path_factory.mktemp("scenarios"))
    try:
        yield made
    finally:
        for name in made.names:
            forget_model(es, name)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_both_backends_give_the_same_slices_and_causes(reports, scenario):
    from_es, from_file, _ = reports[scenario]
    assert from_es["backend"] == "elasticsearch" and from_file["backend"] == "pandas"
    for key in ("slices", "slices_explained", "root_causes", "headline"):
        assert same_report(from_es[key], from_file[key]), key


def test_segment_local_drift_is_the_top_slice_and_its_cause_is_drift(reports):
    report, _, truth = reports["churn-segment-drift"]
    (injected,) = [e for e in truth["injected"] if e["kind"] == "drift"]
    charges = next(d for d in report["drift"] if d["feature"] == "monthly_charges")
    assert not charges["drifted"] and charges["psi"] < 0.2  # globally below the threshold
    top = report["slices"][0]
    assert top["filters"].get("region") == injected["slice"]["region"]
    assert top["cause"]["kind"] == "drift"
    assert top["cause"]["feature"] in ("monthly_charges", "data_usage_gb")
    first = report["root_causes"][0]
    assert first["slice"] == top["filters"] and first["kind"] == "drift"
    assert "Top cause: drift" in report["headline"]  # the headline states the top slice's


def test_two_incidents_are_the_top_two_and_no_slice_holds_both(reports):
    report, _, _ = reports["credit-two-incidents"]
    slices = report["slices"]
    gig = {"employment": "gig"}.items()
    no_income = {"income": "(missing)"}.items()
    top_two = [s["filters"].items() for s in slices[:2]]
    assert sorted(gig <= f for f in top_two) == [False, True]
    assert sorted(no_income <= f for f in top_two) == [False, True]
    assert [s["cause"]["kind"] for s in slices[:2]] == ["quality", "quality"]
    # every listed slice is inside one incident's segment: none is a broad container of both
    segments = [("employment", "gig"), ("income", "(missing)"), ("channel", "mobile"),
                ("channel", "partner")]  # fmt: skip
    for s in slices:
        assert any(pair in s["filters"].items() for pair in segments), s["filters"]


def test_overlapping_label_issue_is_the_only_slice_and_the_broad_bin_is_not_listed(reports):
    report, _, truth = reports["ads-overlapping-slices"]
    (injected,) = [e for e in truth["injected"] if e["kind"] == "label"]
    slices = report["slices"]
    assert slices[0]["filters"] == injected["slice"]
    assert slices[0]["cause"]["kind"] == "label"
    assert "did not move" in slices[0]["cause"]["evidence"]
    for s in slices:  # the prior_clicks bin holding 80 % of traffic, alone, is not a cause
        assert set(s["filters"]) != {"prior_clicks"}
        assert s["filters"].get("publisher") == injected["value"] or s["residual"]["impact"] > 0


def test_healthy_traffic_with_hard_slices_calls_nothing(reports):
    report, _, _ = reports["churn-hard-slices"]
    assert report["slices"] == []
    assert report["root_causes"] == []
    assert "steady" in report["headline"]


def test_delivery_unseen_vehicle_is_the_top_slice_on_mae_and_its_cause_is_quality(reports):
    report, from_file, truth = reports["delivery-unseen-vehicle"]
    (injected,) = [e for e in truth["injected"] if e["kind"] == "unseen_category"]
    assert report["overall"]["metric"] == "mae" and from_file["overall"]["metric"] == "mae"
    assert report["overall"]["current"] > report["overall"]["baseline"]
    assert report["headline"].startswith("mae rose from")
    top = report["slices"][0]
    assert top["filters"] == injected["slice"]
    assert top["current"] > 3 * top["baseline"]  # MAE of the unseen vehicle against training's
    assert top["cause"]["kind"] == "quality" and top["cause"]["feature"] == injected["feature"]
    assert "Top cause: quality (vehicle=e_cargo)" in report["headline"]
    # the city the vehicle runs in holds it: a container, removed by the residual ranking
    assert all(s["filters"] != injected["segment"] for s in report["slices"])
