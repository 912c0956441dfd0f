"""A regressor on the real Elasticsearch and on pandas: registered from a CSV, logged through the
SDK, traced on MAE/RMSE/MAPE; and actuals of the wrong kind named, never counted as 0."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import mean_absolute_error, mean_absolute_percentage_error, mean_squared_error

from conftest import run_mlmon, same_report
from mlmon import PredictionLogger
from mlmon._ingest import ingest_file
from mlmon.analysis.dimensions import Dimension
from mlmon.analysis.metrics import metric_value
from mlmon.analysis.source import BucketRequest, Scope
from mlmon.schema.event import model_indices
from mlmon.sources.elasticsearch import ElasticsearchSource

START = datetime(2026, 11, 2, tzinfo=timezone.utc)
WINDOW = "2026-11-02T00:00:00Z..2026-11-04T00:00:00Z"
CITIES = ("paris", "lyon", "lille", "nantes")


def _orders(n: int, seed: int, *, broken_city: str | None = None) -> pd.DataFrame:
    """Delivery minutes; in ``broken_city`` the real times run 60 % longer than predicted."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "city": rng.choice(CITIES, n, p=[0.4, 0.25, 0.2, 0.15]),
            "distance": np.round(rng.gamma(2.0, 2.0, n), 2),
        }
    )
    frame["predicted"] = np.round(15 + 3 * frame["distance"], 2)
    minutes = 15 + 3 * frame["distance"] + rng.normal(0, 3, n)
    if broken_city:
        minutes = np.where(frame["city"] == broken_city, minutes * 1.6, minutes)
    frame["minutes"] = np.round(np.clip(minutes, 1, None), 1)
    return frame


def _log(frame: pd.DataFrame, model: str, path: Path, **options) -> None:
    stream = io.StringIO()
    with PredictionLogger(model, "v1", sink="stdout", stream=stream, **options) as log:
        for i, row in enumerate(frame.itertuples(index=False)):
            at = START + timedelta(seconds=30 * i)
            pid = log.prediction(
                {"city": row.city, "distance": row.distance}, prediction=row.predicted, timestamp=at
            )
            log.actual(pid, label=row.minutes, timestamp=at + timedelta(minutes=40))
    path.write_text(stream.getvalue())


def _trace(model: str, out: Path, *extra: str) -> dict:
    result = run_mlmon(
        "trace", "--model", model, "--window", WINDOW, "--format", "json", "-o", str(out), *extra
    )
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text())


@pytest.fixture
def regressor(es, model, tmp_path):
    """A regression profile registered through the CLI, and a window with one broken city."""
    training = tmp_path / "training.csv"
    _orders(4000, 1).to_csv(training, index=False)
    result = run_mlmon(
        "baseline", "register", "--model", model, "--version", "v1", "--name", "training",
        "--label-column", "minutes", "--prediction-column", "predicted", str(training),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "regression, baseline mae" in " ".join(result.stdout.split())
    window = _orders(4000, 2, broken_city="lyon")
    events = tmp_path / "events.jsonl"
    _log(window, model, events, task="regression")
    result = ingest_file(es, events)
    assert result.joined == len(window) and result.pending_actuals == 0
    # the join's partial updates are searchable after a refresh (trace runs its own join pass)
    es.indices.refresh(index=model_indices("predictions", model))
    return window, events


def _sklearn(rows: pd.DataFrame) -> dict[str, float]:
    y, yhat = rows["minutes"], rows["predicted"]
    return {
        "mae": mean_absolute_error(y, yhat),
        "rmse": float(np.sqrt(mean_squared_error(y, yhat))),
        "mape": mean_absolute_percentage_error(y, yhat),
    }


def test_elasticsearch_sums_the_joined_errors_to_what_sklearn_measures(es, model, regressor):
    window, _ = regressor
    source = ElasticsearchSource(es, Scope(model), task="regression")
    overall = source.overall()
    assert overall.scored == len(window)
    for name, value in _sklearn(window).items():
        assert metric_value(overall, name) == pytest.approx(value, rel=1e-9)
    city = Dimension("city", "features.city", "categorical")
    (answer,) = source.buckets([BucketRequest((city,))])
    assert len(answer) == len(CITIES)
    for key, stats in answer.items():
        rows = window[window["city"] == key[0][1]]
        for name, value in _sklearn(rows).items():
            assert metric_value(stats, name) == pytest.approx(value, rel=1e-9), (key, name)


@pytest.mark.parametrize("metric", ["mae", "rmse", "mape"])
def test_a_regressor_traces_on_its_error_with_the_same_answer_on_both_backends(
    model, regressor, tmp_path, metric
):
    window, events = regressor
    options = () if metric == "mae" else ("--metric", metric)
    from_es = _trace(model, tmp_path / "es.json", *options)
    from_file = _trace(model, tmp_path / "file.json", "--events", str(events), *options)
    for report in (from_es, from_file):
        overall = report["overall"]
        assert overall["metric"] == metric and overall["labelled"] == len(window)
        assert overall["current"] == pytest.approx(_sklearn(window)[metric], rel=1e-9)
        assert report["headline"].startswith(f"{metric} rose from")
        top = report["slices"][0]
        assert top["filters"] == {"city": "lyon"}
        assert top["current"] == pytest.approx(
            _sklearn(window[window["city"] == "lyon"])[metric], rel=1e-9
        )
        assert top["baseline_from"] == "slice" and top["current"] > top["baseline"]
        assert top["cause"]["kind"] in ("label", "unexplained")  # inputs did not move
    for key in ("slices", "root_causes", "headline"):
        assert same_report(from_es[key], from_file[key]), key


def test_a_classification_metric_on_a_regression_profile_is_refused(model, regressor):
    result = run_mlmon("trace", "--model", model, "--window", WINDOW, "--metric", "accuracy")
    assert result.returncode != 0
    assert "--metric accuracy is a classification metric but profile 'training' is regression" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_numeric_actuals_on_a_classification_profile_are_named_not_counted_as_zero(
    es, model, tmp_path
):
    training = tmp_path / "training.csv"
    frame = _orders(1000, 3)
    frame.assign(late=np.where(frame["minutes"] > 30, "late", "on_time"),
                 predicted_late=np.where(frame["predicted"] > 30, "late", "on_time")).drop(
        columns=["minutes", "predicted"]).to_csv(training, index=False)  # fmt: skip
    result = run_mlmon(
        "baseline", "register", "--model", model, "--version", "v1",
        "--label-column", "late", "--prediction-column", "predicted_late", str(training),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    events = tmp_path / "events.jsonl"
    window = _orders(500, 4)
    _log(window, model, events, task="regression")  # a regressor's numbers, against a classifier
    ingest_file(es, events)
    reports = (
        _trace(model, tmp_path / "es.json"),
        _trace(model, tmp_path / "file.json", "--events", str(events)),
    )
    for report in reports:
        overall = report["overall"]
        assert overall["labelled"] == 0 and overall["unused_actuals"] == len(window)
        assert (
            "500 actuals joined, but numeric while the profile is classification"
            in (overall["note"])
        )
    text = run_mlmon("trace", "--model", model, "--window", WINDOW)
    assert text.returncode == 0, text.stderr
    flat = " ".join(text.stdout.split())
    assert "0 usable of 500 joined" in flat
    assert "500 actuals joined, but numeric while the profile is classification" in flat
