"""Attributions: the SDK's documents, the profile's sums, the pandas source's sums, and the
importance ranking and its drift test, checked against scipy on the same rows."""

from __future__ import annotations

import io

import numpy as np
import orjson
import pandas as pd
import pytest
from scipy import stats as sps

from mlmon import PredictionLogger
from mlmon.analysis.attribution import AttributionSettings, compare
from mlmon.analysis.source import Scope
from mlmon.analysis.stats import welch_t
from mlmon.baseline import build_profile
from mlmon.baseline.profile import AttributionSums, Profile
from mlmon.errors import InvalidEventError, ProfileError
from mlmon.schema.document import normalize_event
from mlmon.sources.frame import FrameSource

RAW = {
    "@timestamp": "2026-11-22T10:00:00.123Z",
    "model": {"name": "fraud", "version": "v1"},
    "prediction_id": "p1",
    "features": {"amount": 12.5, "state": "CA"},
}


def sums(values: np.ndarray) -> AttributionSums:
    magnitudes = np.abs(values)
    return AttributionSums(len(values), float(magnitudes.sum()), float((magnitudes**2).sum()))


# --- the event -------------------------------------------------------------------


def test_attributions_are_indexed_signed_and_absolute_and_missing_ones_left_out():
    doc = normalize_event(
        {**RAW, "attributions": {"amount": -0.5, "state": np.float32(0.25), "age": None}}
    )
    assert doc["attributions"] == {"amount": -0.5, "state": 0.25}
    assert doc["attributions_abs"] == {"amount": 0.5, "state": 0.25}
    # an export re-ingested: the absolute values are recomputed, never trusted
    again = normalize_event({**RAW, "attributions": {"amount": -1}, "attributions_abs": {"x": 9}})
    assert again["attributions_abs"] == {"amount": 1.0}


def test_events_without_attributions_carry_no_new_key():
    assert set(normalize_event(RAW)) == {
        "@timestamp",
        "event",
        "model",
        "prediction_id",
        "features",
    }
    assert "attributions" not in normalize_event({**RAW, "attributions": {"amount": np.nan}})


@pytest.mark.parametrize(
    ("attributions", "fragment"),
    [
        ({"amount": "high"}, "attributions.amount must be a number"),
        ({"amount": True}, "attributions.amount must be a number"),
        ({"amount": float("inf")}, "attributions.amount is infinite"),
        ({"a b": 1.0}, "feature name 'a b' is invalid"),
        ([0.1, 0.2], "attributions must be an object"),
    ],
)
def test_bad_attributions_are_refused_naming_the_field(attributions, fragment):
    with pytest.raises(InvalidEventError, match=fragment):
        normalize_event({**RAW, "attributions": attributions})


@pytest.mark.parametrize("clock", [None, "fixed"], ids=["fast path", "processor chain"])
def test_the_sdk_logs_attributions_on_both_paths(clock):
    stream = io.StringIO()
    fixed = pd.Timestamp("2026-11-22T10:00:00Z").to_pydatetime()
    with PredictionLogger(
        model="fraud",
        version="v1",
        sink="stdout",
        stream=stream,
        clock=(lambda: fixed) if clock else None,
    ) as log:
        log.prediction(
            features={"amount": 12.5},
            prediction="legit",
            score=0.2,
            attributions={"amount": np.float64(-0.75), "hour": 0.5},
        )
        log.prediction(features={"amount": 3.0}, prediction="legit")
    first, second = (orjson.loads(line) for line in stream.getvalue().splitlines())
    assert first["attributions"] == {"amount": -0.75, "hour": 0.5}
    assert first["attributions_abs"] == {"amount": 0.75, "hour": 0.5}
    assert "attributions" not in second and "attributions_abs" not in second


# --- sums: profile and pandas ---------------------------------------------------------


def test_the_profile_keeps_count_sum_of_abs_and_sum_of_squares_and_stores_them():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"amount": rng.normal(size=50), "label": ["a", "b"] * 25})
    frame["attr_amount"] = rng.normal(size=50)
    frame.loc[3, "attr_amount"] = np.nan
    profile = build_profile(
        frame,
        model="m",
        version="v1",
        name="training",
        created_at="2026-01-01T00:00:00.000Z",
        label_column="label",
        attribution_prefix="attr_",
    )
    assert set(profile.features) == {"amount"}  # attribution columns are not features
    values = frame["attr_amount"].dropna().to_numpy()
    kept = profile.attributions["amount"]
    assert kept.count == 49
    assert kept.sum_abs == pytest.approx(np.abs(values).sum(), rel=1e-12)
    assert kept.sum_squares == pytest.approx((values**2).sum(), rel=1e-12)
    assert Profile.from_dict(profile.to_dict()).attributions == profile.attributions
    plain = build_profile(frame, model="m", version="v1", name="t", created_at="x")
    assert "attributions" not in plain.to_dict()  # profiles without them are as before
    with pytest.raises(ProfileError, match="no column starts with the attribution prefix"):
        build_profile(frame, model="m", version="v1", name="t", created_at="x",
                      attribution_prefix="shap_")  # fmt: skip


def test_the_pandas_source_sums_the_absolute_attributions_in_scope():
    docs = [
        normalize_event(
            {**RAW, "prediction_id": f"p{i}", "attributions": {"amount": a, "state": -2 * a}}
        )
        for i, a in enumerate([0.5, -1.5, 2.0])
    ]
    docs.append(normalize_event({**RAW, "prediction_id": "p9"}))  # none on this one
    source = FrameSource(pd.json_normalize(docs), Scope("fraud"))
    assert source.attributions() == {
        "amount": AttributionSums(3, 4.0, 0.25 + 2.25 + 4.0),
        "state": AttributionSums(3, 8.0, 1.0 + 9.0 + 16.0),
    }
    plain = FrameSource(pd.json_normalize(docs[3:]), Scope("fraud"))
    assert plain.attributions() == {}


# --- statistics against scipy ----------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_welch_from_sums_is_scipys_welch_on_the_rows(seed):
    rng = np.random.default_rng(seed)
    now = np.abs(rng.normal(0.6, 0.4, 300 + 100 * seed))
    before = np.abs(rng.normal(0.5, 0.25, 800))
    t, p = welch_t(len(now), now.sum(), (now**2).sum(), len(before), before.sum(),
                   (before**2).sum())  # fmt: skip
    expected = sps.ttest_ind(now, before, equal_var=False)
    assert t == pytest.approx(expected.statistic, rel=1e-9)
    assert p == pytest.approx(expected.pvalue, rel=1e-6, abs=1e-300)


def test_importance_is_ranked_and_a_material_significant_change_is_the_finding():
    rng = np.random.default_rng(7)
    before = {
        "age": rng.normal(0, 0.8, 2000),
        "amount": rng.normal(0, 1.0, 2000),
        "hour": rng.normal(0, 0.3, 2000),
        "state": rng.normal(0, 0.002, 2000),  # hardly used
    }
    now = {
        "age": rng.normal(0, 1.6, 3000),  # twice as important
        "amount": rng.normal(0, 1.01, 3000),  # the same
        "hour": rng.normal(0, 0.3, 3000),
        "state": rng.normal(0, 0.004, 3000),  # doubled, but immaterial
    }
    rows, findings = compare(
        {k: sums(v) for k, v in now.items()}, {k: sums(v) for k, v in before.items()}, alpha=0.01
    )
    assert [r.feature for r in rows] == ["age", "amount", "hour", "state"]
    assert [r.baseline_rank for r in rows] == [2, 1, 3, 4]
    age = rows[0]
    assert age.current == pytest.approx(np.abs(now["age"]).mean())
    assert age.change == pytest.approx(np.abs(now["age"]).mean() / np.abs(before["age"]).mean() - 1)
    expected = sps.ttest_ind(np.abs(now["age"]), np.abs(before["age"]), equal_var=False)
    assert age.t == pytest.approx(expected.statistic, rel=1e-9)
    assert age.p_adjusted == pytest.approx(min(1.0, 4 * expected.pvalue), rel=1e-6, abs=1e-300)
    assert [f.feature for f in findings] == ["age"]
    state = rows[3]
    assert state.change > 0.5 and state.p_adjusted < 0.01 and not state.drifted  # immaterial
    assert "rank 2 → 1" in findings[0].evidence
    # A stricter materiality threshold calls nothing.
    _, none = compare(
        {k: sums(v) for k, v in now.items()},
        {k: sums(v) for k, v in before.items()},
        AttributionSettings(min_change=2.0),
    )
    assert none == ()


def test_no_attributions_in_the_window_is_no_importance_at_all():
    assert compare({}, {"age": AttributionSums(10, 5.0, 3.0)}) == ((), ())
    rows, findings = compare({"age": AttributionSums(500, 250.0, 200.0)}, {})
    assert [(r.feature, r.baseline, r.p_adjusted, r.drifted) for r in rows] == [
        ("age", None, None, False)
    ]
    assert findings == ()
