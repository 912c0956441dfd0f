"""Regression end to end, without a cluster: sums → MAE/RMSE/MAPE, profile, SDK, report wording.

Every metric read from summed errors (a profile's buckets and cross cells, the pandas
backend's group-bys over SDK events) is checked against scikit-learn on the same rows.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import mean_absolute_error, mean_absolute_percentage_error, mean_squared_error

from mlmon import PredictionLogger
from mlmon.analysis.actuals import unusable_actuals
from mlmon.analysis.dimensions import from_profile
from mlmon.analysis.metrics import Stats, material_degradation, metric_value
from mlmon.analysis.source import BucketRequest, ProfileSource, Scope
from mlmon.baseline import build_profile
from mlmon.baseline.outcomes import infer_task
from mlmon.baseline.profile import Profile
from mlmon.errors import InvalidEventError, ProfileError
from mlmon.sources.frame import FrameSource, load_events

START = datetime(2026, 11, 1, tzinfo=timezone.utc)


def _table(n: int = 3000, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "city": rng.choice(["paris", "lyon", "lille"], n, p=[0.5, 0.3, 0.2]),
            "distance": np.round(rng.gamma(2.0, 2.0, n), 2),
        }
    )
    frame.loc[rng.random(n) < 0.05, "distance"] = np.nan
    frame["minutes"] = np.round(
        12 + 3 * frame["distance"].fillna(4.0) + rng.normal(0, 3, n) + 2 * (frame.city == "lyon"),
        1,
    )
    frame["predicted"] = np.round(12 + 3 * frame["distance"].fillna(4.0), 2)
    return frame


def _expected(rows: pd.DataFrame) -> dict[str, float]:
    y, yhat = rows["minutes"].to_numpy(), rows["predicted"].to_numpy()
    return {
        "mae": mean_absolute_error(y, yhat),
        "rmse": float(np.sqrt(mean_squared_error(y, yhat))),
        "mape": mean_absolute_percentage_error(y, yhat),
    }


def _assert_metrics(stats: Stats, rows: pd.DataFrame) -> None:
    for name, value in _expected(rows).items():
        assert metric_value(stats, name) == pytest.approx(value, rel=1e-9), name


def _profile(frame: pd.DataFrame, **kw) -> Profile:
    return build_profile(
        frame,
        model="eta",
        version="v1",
        name="training",
        created_at="2026-11-01T00:00:00.000Z",
        label_column="minutes",
        prediction_column="predicted",
        **kw,
    )


def _bucket_rows(frame: pd.DataFrame, dimension, label: str) -> pd.Series:
    if dimension.kind == "categorical":
        return frame[dimension.name] == label
    values = frame[dimension.name]
    if label == "(missing)":
        return values.isna()
    for bin_label, gte, lt in dimension.bin_ranges():
        if bin_label == label:
            inside = values.notna()
            if gte is not None:
                inside &= values >= gte
            if lt is not None:
                inside &= values < lt
            return inside
    raise AssertionError(label)


def test_profile_keeps_error_sums_overall_per_bucket_and_per_cross_as_sklearn_measures():
    frame = _table()
    profile = _profile(frame)
    assert profile.task == "regression"
    source = ProfileSource(profile)
    _assert_metrics(source.overall(), frame)
    dims = {d.name: d for d in from_profile(profile)}
    city, distance = source.buckets(
        [BucketRequest((dims["city"],)), BucketRequest((dims["distance"],))]
    )
    for answer, dimension in ((city, dims["city"]), (distance, dims["distance"])):
        assert len(answer) >= 3
        for key, stats in answer.items():
            _assert_metrics(stats, frame[_bucket_rows(frame, dimension, key[0][1])])
    (cross,) = source.buckets([BucketRequest((dims["city"], dims["distance"]))])
    assert cross
    for key, stats in cross.items():
        cells = dict(key)
        inside = _bucket_rows(frame, dims["city"], cells["city"]) & _bucket_rows(
            frame, dims["distance"], cells["distance"]
        )
        _assert_metrics(stats, frame[inside])
    assert Profile.from_dict(json.loads(json.dumps(profile.to_dict()))) == profile
    (output,) = profile.outputs.values()  # prediction drift of a regressor: its values' bins
    assert output.name == "prediction.value" and sum(output.bin_counts) == len(frame)


def _events(frame: pd.DataFrame, **logger_options) -> io.StringIO:
    stream = io.StringIO()
    log = PredictionLogger("eta", "v1", sink="stdout", stream=stream, **logger_options)
    for i, row in enumerate(frame.itertuples(index=False)):
        at = START + timedelta(minutes=i)
        distance = None if np.isnan(row.distance) else row.distance
        pid = log.prediction(
            {"city": row.city, "distance": distance}, prediction=row.predicted, timestamp=at
        )
        log.actual(pid, label=row.minutes, timestamp=at)
    log.close()
    return stream


def test_the_pandas_backend_sums_the_joined_errors_to_what_sklearn_measures(tmp_path):
    frame = _table(1500)
    profile = _profile(frame)
    path = tmp_path / "events.jsonl"
    path.write_text(_events(frame, profile=profile).getvalue())
    loaded = load_events(path, profile=profile)
    assert loaded.invalid == 0 and loaded.unjoined_actuals == 0
    source = FrameSource(loaded.frame, Scope("eta"), task="regression")
    _assert_metrics(source.overall(), frame)
    dims = {d.name: d for d in from_profile(profile)}
    (answer,) = source.buckets([BucketRequest((dims["city"], dims["distance"]))])
    for key, stats in answer.items():
        cells = dict(key)
        inside = _bucket_rows(frame, dims["city"], cells["city"]) & _bucket_rows(
            frame, dims["distance"], cells["distance"]
        )
        _assert_metrics(stats, frame[inside])


def test_a_regression_logger_stores_numbers_as_values_not_class_labels():
    stream = _events(_table(3), task="regression")
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    predictions = [e for e in events if e["event"]["kind"] == "prediction"]
    actuals = [e for e in events if e["event"]["kind"] == "actual"]
    assert all(set(e["prediction"]) == {"value"} for e in predictions)
    assert all(set(e["actual"]) == {"value"} for e in actuals)
    assert isinstance(predictions[0]["prediction"]["value"], float)


def test_the_logger_takes_the_task_from_the_profile_it_is_given():
    profile = _profile(_table(200))
    stream = io.StringIO()
    with PredictionLogger("eta", "v1", sink="stdout", stream=stream, profile=profile) as log:
        log.actual(log.prediction({"city": "paris"}, prediction=25.3), label=25.1)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["prediction"] == {"value": 25.3} and second["actual"] == {"value": 25.1}


def test_without_a_task_a_fractional_label_is_refused_in_one_line_naming_value():
    with PredictionLogger("eta", "v1", sink="stdout", stream=io.StringIO()) as log:
        with pytest.raises(InvalidEventError, match=r"pass value=25\.3") as caught:
            log.prediction({"city": "paris"}, prediction=25.3)
        assert "\n" not in str(caught.value)
        with pytest.raises(InvalidEventError, match=r"pass value=25\.1"):
            log.actual("some-id", label=25.1)
        assert log.prediction({"city": "paris"}, prediction=1.0)  # an integral class label
        assert log.prediction({"city": "paris"}, value=25.3)
        assert log.stats()["invalid"] == 2
    with PredictionLogger("eta", "v1", sink="stdout", stream=io.StringIO(), strict=False) as log:
        assert log.prediction({"city": "paris"}, prediction=25.3) is None
        assert log.stats()["invalid"] == 1


def test_a_regression_logger_refuses_both_prediction_and_value():
    log = PredictionLogger("eta", "v1", sink="stdout", stream=io.StringIO(), task="regression")
    with log, pytest.raises(InvalidEventError, match="not both"):
        log.prediction({"city": "paris"}, prediction=2.0, value=3.0)


@pytest.mark.parametrize(
    ("labels", "predictions", "task"),
    [
        ([0, 1, 1, 0] * 10, [0, 1, 0, 0] * 10, "classification"),
        (["a", "b"] * 20, ["a", "a"] * 20, "classification"),
        ([1.0, 2.0, 3.0] * 10, [1.0, 2.5, 3.0] * 10, "regression"),  # fractional predictions
        (list(range(40)), list(range(40)), "regression"),  # many integer values: a quantity
        ([1.5, 2.25] * 20, None, "regression"),
    ],
)
def test_the_task_is_inferred_from_the_label_and_prediction_columns(labels, predictions, task):
    guesses = pd.Series(predictions) if predictions is not None else None
    assert infer_task(pd.Series(labels), guesses) == task


def test_an_explicit_task_wins_and_a_regression_needs_numbers():
    frame = pd.DataFrame(
        {"x": ["a", "b"] * 30, "minutes": [1, 2, 3] * 20, "predicted": [1, 2, 2] * 20}
    )
    assert _profile(frame).task == "classification"  # three integer values: classes
    profile = _profile(frame, task="regression")
    assert profile.task == "regression" and profile.performance["mae"] == pytest.approx(1 / 3)
    frame["predicted"] = ["low", "high", "high"] * 20
    with pytest.raises(ProfileError, match="'predicted' must hold numbers"):
        _profile(frame, task="regression")


def test_joined_actuals_of_the_other_kind_are_named_with_the_reason():
    numbers = Stats(n=10, scored=10, sum_abs_error=5.0)
    note = unusable_actuals("classification", numbers, "the profile is classification")
    assert note is not None and note.joined == 10
    assert "10 actuals joined, but numeric while the profile is classification" in note.reason
    labels = Stats(n=10, labelled=7, correct=2)
    note = unusable_actuals("regression", labels, "the profile is regression")
    assert note is not None and note.joined == 7 and "value=" in note.reason
    assert unusable_actuals("regression", Stats(n=10), "the profile is regression") is None


def test_error_thresholds_are_relative_to_the_baseline_error():
    assert material_degradation(2.0, 2.2, "mae") == pytest.approx(0.1)
    assert material_degradation(200.0, 220.0, "rmse") == pytest.approx(0.1)
    assert material_degradation(0.9, 0.85, "accuracy") == pytest.approx(0.05)
    assert material_degradation(0.0, 1.0, "mae") == float("inf")
