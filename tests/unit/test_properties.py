"""Property-based: whatever a service or a file throws at mlmon, an event is either
indexable or refused with InvalidEventError naming the field; nothing else escapes.
"""

from __future__ import annotations

import math

import orjson
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlmon._tagging import compile_rules, tag_event
from mlmon.baseline import build_profile
from mlmon.errors import InvalidEventError
from mlmon.schema.document import normalize_event
from mlmon.schema.event import MAX_FEATURES, MAX_STRING_LENGTH

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=50),
    st.sampled_from(["NaN", "Infinity", "-inf", "nan", "", " ", "null", "\x00", "😀" * 3]),
)
json_like = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
feature_names = st.one_of(
    st.from_regex(r"\A[a-z][a-z0-9_]{0,20}\Z"),
    st.text(max_size=30),
    st.sampled_from(["", ".", "a.b", "_id", "@timestamp", "x" * 300, "é", "a b"]),
)
events = st.fixed_dictionaries(
    {
        "@timestamp": st.one_of(
            st.just("2026-11-22T10:00:00Z"), st.none(), st.text(max_size=20), st.integers()
        ),
        "model": st.one_of(
            st.just({"name": "fraud", "version": "v1"}),
            st.dictionaries(st.sampled_from(["name", "version"]), json_like, max_size=2),
            json_like,
        ),
        "prediction_id": st.one_of(st.just("p1"), json_like),
        "features": st.one_of(st.dictionaries(feature_names, json_like, max_size=6), json_like),
    },
    optional={
        "prediction": json_like,
        "actual": json_like,
        "latency_ms": json_like,
        "tags": json_like,
        "event": json_like,
    },
)

PROFILE = build_profile(
    pd.DataFrame({"merchant": ["a", "b"] * 10, "amount": [1.0, 9.0] * 10}),
    model="fraud",
    version="v1",
    name="training",
    created_at="2026-01-01T00:00:00.000Z",
)
RULES = compile_rules(PROFILE)


def _finite_json(value) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite_json(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite_json(v) for v in value)
    return True


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(events)
def test_any_event_is_indexable_or_refused_naming_a_field(raw):
    try:
        doc = normalize_event(raw)
    except InvalidEventError as error:
        assert str(error) and "\n" not in str(error)
        return
    orjson.dumps(doc)  # serialisable: no NaN, no objects
    assert _finite_json(doc)
    for value in doc.get("features", {}).values():
        assert value is None or isinstance(value, str | float | dict)
        if isinstance(value, str):
            assert len(value) <= MAX_STRING_LENGTH
    tagged = tag_event(doc, RULES)
    quality = tagged["quality"]
    assert quality["missing_count"] == len(quality["missing"])
    assert quality["unseen_count"] == len(quality["unseen"])


def test_the_mapping_explosion_guard_refuses_too_many_features():
    features = {f"f{i}": 1.0 for i in range(MAX_FEATURES + 1)}
    raw = {
        "@timestamp": "2026-11-22T10:00:00Z",
        "model": {"name": "fraud", "version": "v1"},
        "prediction_id": "p1",
        "features": features,
    }
    try:
        normalize_event(raw)
    except InvalidEventError as error:
        assert f"over the {MAX_FEATURES} limit" in str(error)
    else:
        raise AssertionError("an event with too many features was accepted")


def test_a_huge_string_is_refused_not_truncated_silently():
    raw = {
        "@timestamp": "2026-11-22T10:00:00Z",
        "model": {"name": "fraud", "version": "v1"},
        "prediction_id": "p1",
        "features": {"merchant": "x" * (MAX_STRING_LENGTH + 1)},
    }
    try:
        normalize_event(raw)
    except InvalidEventError as error:
        assert "features.merchant" in str(error)
    else:
        raise AssertionError("a huge string was accepted")


@pytest.fixture(scope="module")
def sdk():
    from mlmon import PredictionLogger
    from mlmon.testing import CapturingSink

    sink = CapturingSink()
    with PredictionLogger("fraud", "v1", sink=sink, profile=PROFILE, strict=False) as log:
        yield log, sink


@settings(
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    deadline=None,
)
@given(batches=st.lists(st.dictionaries(feature_names, json_like, max_size=5), max_size=20))
def test_the_sdk_sends_or_counts_every_call_and_never_raises_when_not_strict(sdk, batches):
    log, sink = sdk
    before, already = log.stats(), len(sink.events)
    returned = [log.prediction(features, prediction="legit") for features in batches]
    assert log.flush(10)
    after = log.stats()
    new = sink.events[already:]
    assert [r for r in returned if r is not None] == [e["prediction_id"] for e in new]
    emitted = after["emitted"] - before["emitted"]
    invalid = after.get("invalid", 0) - before.get("invalid", 0)
    assert emitted + invalid == len(batches) and emitted == len(new)
    for event in new:
        orjson.dumps(event)
        assert event["quality"]["profile"] == PROFILE.profile_id
