"""The one tagging function: every expected feature lands in exactly one quality bucket."""

from __future__ import annotations

import copy
import math

import pandas as pd
from hypothesis import example, given
from hypothesis import strategies as st

from mlmon._tagging import _judge, _suspects, compile_rules, tag_event, tag_events
from mlmon.baseline import build_profile

PROFILE = build_profile(
    pd.DataFrame(
        {
            "merchant": ["a", "b", "c"] * 10,
            "amount": [1.0, 50.0, 100.0] * 10,
            "zip": ["94107", "10001", "60601"] * 10,
        }
    ),
    model="fraud",
    version="v1",
    name="training",
    created_at="2026-01-01T00:00:00.000Z",
)
RULES = compile_rules(PROFILE)


def tagged(**features):
    return tag_event({"event": {"kind": "prediction"}, "features": features}, RULES)["quality"]


def test_healthy_event_has_empty_tags_and_the_profile_id():
    quality = tagged(merchant="a", amount=50.0, zip="94107")
    assert quality == {
        "missing": [],
        "unseen": [],
        "out_of_range": [],
        "invalid": [],
        "unexpected": [],
        "missing_count": 0,
        "unseen_count": 0,
        "out_of_range_count": 0,
        "invalid_count": 0,
        "unexpected_count": 0,
        "profile": "fraud:v1:training:r1",
    }


def test_each_problem_is_named():
    assert tagged(merchant="scammeds.com", amount=50.0, zip="94107")["unseen"] == ["merchant"]
    assert tagged(merchant=None, amount=50.0, zip="94107")["missing"] == ["merchant"]
    assert tagged(amount=50.0, zip="94107")["missing"] == ["merchant"]  # absent = missing
    assert tagged(merchant="a", amount=100.5, zip="94107")["out_of_range"] == ["amount"]
    assert tagged(merchant="a", amount=0.5, zip="94107")["out_of_range"] == ["amount"]
    assert tagged(merchant="a", amount="lots", zip="94107")["invalid"] == ["amount"]
    assert tagged(merchant="a", amount="12", zip="94107")["invalid"] == []  # numeric text is fine
    assert tagged(merchant="a", amount=50.0, zip="94107", extra=1.0)["unexpected"] == ["extra"]
    assert tagged(merchant="a", amount=50.0, zip=94107.0)["unseen"] == []  # 94107.0 is "94107"


def test_bounds_are_in_range():
    assert tagged(merchant="a", amount=1.0, zip="94107")["out_of_range"] == []
    assert tagged(merchant="a", amount=100.0, zip="94107")["out_of_range"] == []


def test_incomplete_vocabulary_never_calls_unseen():
    capped = build_profile(
        pd.DataFrame({"v": ["x", "x", "y"]}),
        model="m",
        version="v1",
        name="t",
        created_at="2026-01-01T00:00:00.000Z",
        max_categories=1,
    )
    rules = compile_rules(capped)
    doc = tag_event({"features": {"v": "never-seen"}}, rules)
    assert doc["quality"]["unseen"] == []


def test_actuals_pass_through_and_retagging_replaces():
    actual = {"event": {"kind": "actual"}, "actual": {"label": "1"}}
    assert tag_event(dict(actual), RULES) == actual
    doc = {"features": {"merchant": "zzz"}, "quality": {"stale": True}}
    tag_event(doc, RULES)
    assert "stale" not in doc["quality"] and doc["quality"]["unseen"] == ["merchant"]


values = st.one_of(
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(["a", "b", "c", "zz", "94107", "1.5", "x y"]),
)


@given(st.dictionaries(st.sampled_from(["merchant", "amount", "zip", "other"]), values))
def test_every_expected_feature_is_in_exactly_one_bucket(features):
    quality = tag_event({"features": dict(features)}, RULES)["quality"]
    buckets = ("missing", "unseen", "out_of_range", "invalid")
    for kind in (*buckets, "unexpected"):
        assert quality[f"{kind}_count"] == len(quality[kind])
    for name in ("merchant", "amount", "zip"):
        found = [kind for kind in buckets if name in quality[kind]]
        value = features.get(name)
        assert len(found) <= 1
        assert (found == ["missing"]) == (value is None)
    assert quality["unexpected"] == (["other"] if "other" in features else [])


any_value = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5, 200),
    st.sampled_from(["a", "b", "zz", "94107", "1.5", "nan", "lots", ""]),
    st.sampled_from([94107.0, 10001, 1.0, 100.0, 0.5]),
)
any_doc = st.one_of(
    st.dictionaries(st.sampled_from(["merchant", "amount", "zip", "other"]), any_value).map(
        lambda features: {"event": {"kind": "prediction"}, "features": features}
    ),
    st.just({"event": {"kind": "actual"}, "actual": {"label": "1"}}),
    st.just({"event": {"kind": "prediction"}}),
)


@given(st.lists(any_doc, max_size=12))
def test_a_batch_is_tagged_as_each_of_its_events_alone(docs):
    """Column by column over a batch (and its all-fine shortcuts) gives each event what
    it gets alone: the same quality block and the same keywords written back."""
    batch = [copy.deepcopy(d) for d in docs]
    alone = [tag_event(copy.deepcopy(d), RULES) for d in docs]
    assert tag_events(batch, RULES) is batch
    assert batch == alone
    assert [list(d.get("quality", {})) for d in batch] == [
        list(d.get("quality", {})) for d in alone
    ]


@given(
    st.one_of(
        st.lists(any_value, min_size=1, max_size=12),
        st.lists(st.floats() | st.sampled_from([1.0, 50.0, 100.0]), min_size=1, max_size=12),
        st.lists(st.sampled_from(["a", "b", "94107", "zz", None]), min_size=1, max_size=12),
    ),
    st.sampled_from(
        [
            (None, (1.0, 100.0), True),
            (None, None, True),
            (frozenset({"a", "b", "94107"}), None, False),
            (None, None, False),
        ]
    ),
)
@example([50.0, math.nan], (None, (1.0, 100.0), True))  # min and max both pass over a NaN
@example([50.0, math.inf], (None, (1.0, 100.0), True))
def test_the_column_shortcut_never_skips_a_value_with_something_to_say(column, check):
    """Every position the C-level screening leaves out is one the judge finds fine."""
    vocabulary, bounds, numeric = check
    suspects = set(_suspects(column, vocabulary, bounds, numeric))
    for i, value in enumerate(column):
        if i not in suspects:
            assert _judge(value, vocabulary, bounds, numeric) == (None, None), value
