"""The one prepare path (normalise → decide → tag) and the one rules cache behind it."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from mlmon._prepare import needs_tagging, prepare_event, tag_if_needed
from mlmon._tagging import RulesCache, compile_rules, tag_event
from mlmon.baseline import Profile, build_profile, read_profile_file
from mlmon.errors import ClusterUnavailable, InvalidEventError, ProfileError
from mlmon.schema.document import normalize_label
from mlmon.schema.event import as_keyword

PROFILE = build_profile(
    pd.DataFrame({"merchant": ["a", "b"] * 5, "zip": [94107, 10001] * 5, "amount": [1.0, 9.0] * 5}),
    model="fraud",
    version="v1",
    name="training",
    created_at="2026-01-01T00:00:00.000Z",
    categorical=["zip"],
)


def raw(kind: str = "prediction", **extra) -> dict:
    event = {
        "@timestamp": "2026-11-22T10:00:00.000Z",
        "event": {"kind": kind},
        "model": {"name": "fraud", "version": "v1"},
        "prediction_id": "p1",
        **extra,
    }
    if kind == "prediction":
        event.setdefault("features", {"merchant": "zz", "zip": 94107, "amount": 5.0})
    else:
        event.setdefault("actual", {"label": "x"})
    return event


def test_prepare_is_normalise_then_the_tagging_function():
    doc, outcome = prepare_event(raw(), RulesCache(profile=PROFILE))
    assert outcome == "tagged"
    from mlmon.schema.document import normalize_event

    expected = tag_event(normalize_event(raw()), compile_rules(PROFILE))
    assert doc == expected
    assert doc["quality"]["unseen"] == ["merchant"]  # zip 94107 (a number) is in the vocabulary


def test_actuals_and_already_tagged_events_are_kept_as_they_came():
    upstream = {"missing": [], "profile": "elsewhere"}
    for event in (raw("actual"), raw(quality=upstream)):
        doc, outcome = prepare_event(event, RulesCache(profile=PROFILE))
        assert outcome == "kept"
        assert doc.get("quality") in (None, upstream)
    assert not needs_tagging({"event": {"kind": "actual"}})
    assert needs_tagging({"event": {"kind": "prediction"}})


def test_without_rules_a_prediction_is_untagged_and_counted_as_such():
    doc, outcome = prepare_event(raw(), None)
    assert outcome == "untagged" and "quality" not in doc
    nothing = RulesCache(lambda model, version: None)
    assert prepare_event(raw(), nothing)[1] == "untagged"


def test_invalid_input_raises_before_any_lookup():
    looked_up = []
    cache = RulesCache(lambda m, v: looked_up.append((m, v)))
    with pytest.raises(InvalidEventError, match="prediction_id"):
        prepare_event({**raw(), "prediction_id": None}, cache)
    assert looked_up == []


def test_the_cache_loads_each_model_version_once():
    calls = []

    def load(model, version):
        calls.append((model, version))
        return PROFILE if version == "v1" else None

    cache = RulesCache(load)
    doc = {**raw(), "model": {"name": "fraud", "version": "v1"}}
    for _ in range(3):
        assert tag_if_needed(json.loads(json.dumps(doc)), cache) == "tagged"
        assert cache.get("fraud", "v2") is None
    assert calls == [("fraud", "v1"), ("fraud", "v2")]


def test_refresh_replaces_found_rules_keeps_them_when_none_or_failing():
    now = [0.0]
    answers: list = [PROFILE]
    errors: list[Exception] = []

    def load(model, version):
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    cache = RulesCache(load, refresh_seconds=10, on_error=errors.append, clock=lambda: now[0])
    first = cache.get("fraud", "v1")
    assert first is not None and first.profile_id == "fraud:v1:training:r1"
    now[0] = 5.0
    assert cache.get("fraud", "v1") is first  # not due: no lookup
    now[0] = 11.0
    answers.append(ClusterUnavailable("down"))
    assert cache.get("fraud", "v1") is first and len(errors) == 1
    assert cache.get("fraud", "v1") is first and len(errors) == 1  # not retried per event
    now[0] = 22.0
    answers.append(None)  # the profile was removed: keep tagging with what we had
    assert cache.get("fraud", "v1") is first
    now[0] = 33.0
    answers.append(PROFILE.with_revision(2))
    assert cache.get("fraud", "v1").profile_id == "fraud:v1:training:r2"


def test_without_on_error_a_failed_load_raises_and_is_tried_again():
    attempts = []

    def load(model, version):
        attempts.append(1)
        raise ClusterUnavailable("down")

    cache = RulesCache(load)
    for _ in range(2):
        with pytest.raises(ClusterUnavailable):
            cache.get("fraud", "v1")
    assert len(attempts) == 2


def test_a_fixed_profile_tags_every_event_without_lookups():
    cache = RulesCache(profile=PROFILE)
    assert cache.get("fraud", "v1") is cache.get("other", None)


@pytest.mark.parametrize(
    ("value", "keyword"),
    [
        ("94107", "94107"),
        (94107.0, "94107"),
        (3, "3"),
        (0.5, "0.5"),
        (-2.0, "-2"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-07"),
    ],
)
def test_one_value_to_keyword_conversion(value, keyword):
    assert as_keyword(value) == keyword
    assert normalize_label("f", value) == keyword


def test_profile_files_load_with_the_values_alone(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(PROFILE.to_dict()))
    assert read_profile_file(path) == PROFILE
    path.write_text("{not json")
    with pytest.raises(ProfileError, match="profile file"):
        read_profile_file(path)
    with pytest.raises(ProfileError, match="profile file"):
        read_profile_file(tmp_path / "absent.json")


def test_stored_profiles_survive_fields_added_later_and_removed_optional_ones():
    """A new optional field must not break stored profiles, in either direction."""
    stored = PROFILE.to_dict()
    newer = {**json.loads(json.dumps(stored)), "window_sketch": {"bins": [0.1, 0.2]}}  # newer mlmon
    newer["features"]["amount"] = {**newer["features"]["amount"], "sketch": [1, 2]}
    assert Profile.from_dict(newer).to_dict() == stored
    older = {k: v for k, v in stored.items() if k not in ("outputs", "crosses", "revision")}
    assert Profile.from_dict(older).features == PROFILE.features
