"""The event schema: value normalisation, whole-event validation and index names."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from mlmon.errors import InvalidEventError
from mlmon.schema.document import normalize_event, normalize_label
from mlmon.schema.event import (
    MAX_FEATURES,
    MAX_STRING_LENGTH,
    actuals_index,
    deadletter_index,
    normalize_timestamp,
    normalize_value,
    predictions_index,
    validate_feature_name,
    validate_model_name,
)


def prediction(**overrides):
    event = {
        "@timestamp": "2026-11-22T10:00:00.123Z",
        "model": {"name": "fraud", "version": "v2"},
        "prediction_id": "p1",
        "features": {"merchant_name": "scammeds.com", "amount": 12.5, "age": None},
        "prediction": {"label": "fraud", "score": 0.91},
    }
    event.update(overrides)
    return event


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("CA", "CA"),
        (3, 3.0),
        (2.5, 2.5),
        (True, "true"),
        (False, "false"),
        (None, None),
        (float("nan"), None),
        (np.float32(1.5), 1.5),
        (np.int64(7), 7.0),
        (np.nan, None),
        (pd.NA, None),
        (pd.NaT, None),
        (Decimal("1.25"), 1.25),
        (np.bool_(True), "true"),
        ("", ""),
    ],
)
def test_normalize_value_maps_scalars_to_indexed_form(value, expected):
    assert normalize_value("features.x", value) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ([1, 2], "type list"),
        ({"a": 1}, "type dict"),
        (float("inf"), "infinite"),
        ("x" * (MAX_STRING_LENGTH + 1), "over the"),
        (datetime.now(timezone.utc), "type datetime"),
    ],
)
def test_normalize_value_rejects_with_the_field_name(value, fragment):
    with pytest.raises(InvalidEventError, match=r"features\.amount") as info:
        normalize_value("features.amount", value)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("name", ["a.b", "has space", "", "1abc", "x" * 101, "é", 5])
def test_feature_names_that_would_break_the_mapping_are_refused(name):
    with pytest.raises(InvalidEventError):
        validate_feature_name(name)


@pytest.mark.parametrize("name", ["Fraud", "*", "a,b", "a b", "-x", "x" * 65, "../x", ""])
def test_model_names_must_be_safe_in_index_names(name):
    with pytest.raises(InvalidEventError):
        validate_model_name(name)


def test_labels_are_keywords():
    assert normalize_label("l", 1) == "1"
    assert normalize_label("l", 1.0) == "1"
    assert normalize_label("l", np.int64(0)) == "0"
    assert normalize_label("l", 0.5) == "0.5"
    assert normalize_label("l", "legit") == "legit"


def test_timestamps_are_utc_milliseconds_with_z():
    assert normalize_timestamp("2026-11-22T12:00:00.123456+02:00") == "2026-11-22T10:00:00.123Z"
    assert (
        normalize_timestamp(datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
        == "2026-01-02T03:04:05.000Z"
    )
    local = datetime(2026, 1, 2, 3, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert normalize_timestamp(local) == "2026-01-02T08:00:00.000Z"
    assert normalize_timestamp(0) == "1970-01-01T00:00:00.000Z"
    for bad in ("2026-11-22T10:00:00", "yesterday", None, True, math.inf):
        with pytest.raises(InvalidEventError):
            normalize_timestamp(bad)


def test_prediction_event_is_normalised():
    doc = normalize_event(
        prediction(
            tags={"region": "us-west"}, latency_ms={"total": 12, "features": {"user_history": 6.2}}
        )
    )
    assert doc == {
        "@timestamp": "2026-11-22T10:00:00.123Z",
        "event": {"kind": "prediction", "schema_version": 1},
        "model": {"name": "fraud", "version": "v2"},
        "prediction_id": "p1",
        "features": {"merchant_name": "scammeds.com", "amount": 12.5, "age": None},
        "tags": {"region": "us-west"},
        "prediction": {"label": "fraud", "score": 0.91},
        "latency_ms": {"total": 12.0, "features": {"user_history": 6.2}},
    }


def test_actual_event_is_normalised():
    doc = normalize_event(
        {
            "@timestamp": "2026-11-22T11:00:00Z",
            "event": {"kind": "actual"},
            "model": {"name": "fraud"},
            "prediction_id": "p1",
            "actual": {"label": 0},
        }
    )
    assert doc["actual"] == {"label": "0"}
    assert doc["event"] == {"kind": "actual", "schema_version": 1}
    assert "features" not in doc


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"@timestamp": None}, "no @timestamp"),
        ({"model": {"name": "fraud"}}, "version"),
        ({"prediction_id": ""}, "prediction_id"),
        ({"features": ["a"]}, "features must be an object"),
        ({"features": {"a.b": 1}}, "feature name 'a.b'"),
        ({"features": {f"f{i}": 1 for i in range(MAX_FEATURES + 1)}}, "limit"),
        ({"prediction": {"label": "x", "colour": "red"}}, "unknown keys"),
        ({"prediction": {"score": "high"}}, "prediction.score must be a number"),
        ({"event": {"kind": "click"}}, "event.kind"),
        ({"event": {"schema_version": 2}}, "schema_version"),
        ({"surprise": 1}, "unknown top-level"),
        ({"latency_ms": {"total": "slow"}}, "latency_ms.total"),
    ],
)
def test_invalid_events_name_the_field(change, fragment):
    with pytest.raises(InvalidEventError) as info:
        normalize_event(prediction(**change))
    assert fragment in str(info.value)


def test_index_names_are_per_model_and_utc_month():
    assert (
        predictions_index("fraud", "2026-11-22T10:00:00.123Z") == "mlmon-predictions-fraud-2026.11"
    )
    assert actuals_index("fraud", "2026-01-02T00:00:00.000Z") == "mlmon-actuals-fraud-2026.01"
    assert deadletter_index("2026-12-31T23:59:59.999Z") == "mlmon-deadletter-2026.12"


def test_the_period_is_the_strftime_format_the_shippers_use():
    from datetime import datetime, timedelta, timezone

    from mlmon.schema.event import INDEX_PERIOD_STRFTIME, format_timestamp

    moment = datetime(2024, 1, 1, tzinfo=timezone.utc)
    for _ in range(60):
        stamp = format_timestamp(moment)
        suffix = predictions_index("m", stamp).removeprefix("mlmon-predictions-m-")
        assert suffix == moment.strftime(INDEX_PERIOD_STRFTIME)
        moment += timedelta(days=13, hours=7)


def test_outcomes_are_scored_where_label_meets_prediction():
    from mlmon.schema.document import score_outcome

    assert score_outcome({"label": "fraud"}, {"label": "fraud"}) == {"correct": True}
    assert score_outcome({"label": "fraud"}, {"label": "legit"}) == {"correct": False}
    assert score_outcome({"value": 3.0}, {"value": 5.0}) == {
        "error": -2.0,
        "abs_error": 2.0,
        "squared_error": 4.0,
        "abs_percentage_error": 0.4,
    }
    assert "abs_percentage_error" not in score_outcome({"value": 3.0}, {"value": 0.0})
    assert score_outcome(None, {"label": "x"}) == {}
    doc = normalize_event(prediction(actual={"label": "fraud"}))
    assert doc["actual"] == {"label": "fraud", "correct": True}


def test_an_indexed_prediction_reads_back_as_it_was_written():
    """Exports of mlmon's own index (joined actual, scored) re-ingest; scores are recomputed."""
    written = normalize_event(prediction(actual={"label": "fraud"}))
    exported = {**written, "actual": {**written["actual"], "timestamp": "2026-11-22T12:00:00Z"}}
    exported["actual"]["correct"] = not written["actual"]["correct"]  # a stale or forged score
    again = normalize_event(exported)
    assert again["actual"]["correct"] == written["actual"]["correct"]
    assert again["actual"]["timestamp"] == "2026-11-22T12:00:00.000Z"
    with pytest.raises(InvalidEventError, match="actual has unknown keys"):
        normalize_event(prediction(actual={"label": "fraud", "labl": "x"}))
