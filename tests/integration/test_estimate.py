"""CBPE on a real Elasticsearch: registration stores the calibration, a window without
actuals is estimated from a ``range`` aggregation, the same as the pandas backend, and
the realized metrics (from the actuals withheld) fall inside the estimates' bands.

The traffic is the simulator's gradual drift (transaction amounts grow over the
days): covariate shift, what CBPE is built for. Predictions reach the node without
their actuals; the actuals are read afterwards, from the full file through the
pandas backend, only to judge the estimates.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from conftest import forget_model, run_mlmon, unique_model
from mlmon._ingest import ingest_file
from mlmon._trace_request import TraceRequest, run
from mlmon.analysis.cbpe import METRICS
from mlmon.analysis.result import to_json
from mlmon.baseline.store import load_profile
from mlmon.simulate.emit import emit, write_reference
from mlmon.simulate.run import build_traffic

END = datetime(2026, 11, 20, tzinfo=timezone.utc)
WINDOW = "2026-11-13T00:00:00Z..2026-11-20T00:00:00Z"


@pytest.fixture(scope="module")
def withheld(es, tmp_path_factory):
    """A registered (calibrated) profile, predictions in the node, actuals only in a file."""
    folder = tmp_path_factory.mktemp("estimate")
    name = unique_model("cbpe")
    traffic = build_traffic("gradual-drift", events=20_000, days=7, seed=11, end=END, model=name)
    training = write_reference(traffic, folder / "training.parquet")
    registered = run_mlmon(
        "baseline", "register", "--model", name, "--version", "v1", "--label-column",
        "is_fraud", "--prediction-column", "predicted", "--score-column", "score",
        str(training),
    )  # fmt: skip
    try:
        assert registered.returncode == 0, registered.stderr
        assert "Scores calibrated for estimates without actuals" in registered.stdout
        everything = folder / "events.jsonl"
        with everything.open("w") as stream:
            emit(traffic, sink="stdout", model=name, stream=stream)
        predictions = folder / "predictions.jsonl"
        with everything.open() as lines:
            predictions.write_text("".join(x for x in lines if '"kind":"actual"' not in x))
        ingest_file(es, predictions)
        yield name, everything, predictions
    finally:
        forget_model(es, name)


def flat(value, path=""):
    """A JSON value's leaves by path, so nested estimates compare with one approx."""
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in flat(item, f"{path}.{key}").items()}
    return {path: value}


def traced(es, name, **kwargs):
    request = TraceRequest(model=name, window=WINDOW, baseline="training", **kwargs)
    return run(request, client_factory=lambda: es)


def test_registration_stores_the_calibration_and_the_models_threshold(es, withheld):
    name, _, _ = withheld
    profile = load_profile(es, model=name, version=None, name="training")
    calibration = profile.calibration
    assert calibration["score_label"] == "fraud"  # the class the score is a probability of
    assert calibration["threshold"] == 0.5 and calibration["rule_misses"] == 0
    assert calibration["method"] in ("isotonic", "identity")
    assert sum(calibration["positive"]) == profile.labels["fraud"]


def test_elasticsearch_and_pandas_estimate_the_same(es, withheld):
    name, _, predictions = withheld
    from_es = to_json(traced(es, name))
    from_file = to_json(traced(es, name, events=predictions))
    assert from_es["overall"]["labelled"] == 0 and from_es["overall"]["estimated"]
    assert flat(from_es["overall"]["estimate"]) == pytest.approx(
        flat(from_file["overall"]["estimate"])
    )
    assert [p["start"] for p in from_es["timeline"]] == [p["start"] for p in from_file["timeline"]]
    for mine, theirs in zip(from_es["timeline"], from_file["timeline"], strict=True):
        assert mine["estimated"] and flat(mine["estimate"]) == pytest.approx(
            flat(theirs["estimate"])
        )
        assert (mine["current"], mine["cumulative"], mine["sliding"]) == pytest.approx(
            (theirs["current"], theirs["cumulative"], theirs["sliding"])
        )
    assert re.search(r"\d\.\d{3} ± \d\.\d{3} \(estimated: CBPE, no actuals\)", from_es["headline"])
    assert from_es["headline"] == from_file["headline"]


def test_realized_metrics_from_withheld_actuals_fall_inside_the_bands(es, withheld):
    name, everything, _ = withheld
    estimated = traced(es, name)
    realized = traced(es, name, events=everything)  # the actuals, read only now
    assert realized.overall.labelled == realized.overall.count > 15_000
    estimate = estimated.overall.estimate
    for metric in METRICS:
        band = estimate.metric(metric)
        truth = realized.overall.metrics[metric]
        assert band.lower <= truth <= band.upper, (metric, truth, band)
    assert abs(estimate.accuracy.value - realized.overall.metrics["accuracy"]) < 0.01
    # per timeline bucket (~700 rows each): a 3σ band misses with chance 0.3 % under sampling
    # noise alone; the band leaves out the calibration's own error and the amounts grow past
    # the training range, so allow 2 of the 28 buckets outside (seed 11: one, 0.888 against
    # a band from 0.896)
    by_start = {p.start: p for p in realized.timeline}
    outside = [
        (p.start, by_start[p.start].current, p.estimate.accuracy)
        for p in estimated.timeline
        if not p.estimate.accuracy.lower <= by_start[p.start].current <= p.estimate.accuracy.upper
    ]
    assert len(estimated.timeline) == 28 and len(outside) <= 2, outside
