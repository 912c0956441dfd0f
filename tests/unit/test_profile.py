"""Baseline profiles, checked against numpy/pandas computed independently on the same data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlmon.baseline import Profile, build_profile
from mlmon.baseline.build import quantile_edges
from mlmon.errors import ProfileError

CREATED = "2026-11-01T00:00:00.000Z"


def frame(rows: int = 5000, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    amount = rng.lognormal(3, 1, rows)
    amount[rng.random(rows) < 0.1] = np.nan
    merchant = rng.choice(["a", "b", "c", "d"], rows, p=[0.4, 0.3, 0.2, 0.1]).astype(object)
    merchant[rng.random(rows) < 0.05] = None
    label = rng.integers(0, 2, rows)
    predicted = np.where(rng.random(rows) < 0.8, label, 1 - label)
    return pd.DataFrame(
        {
            "amount": amount,
            "merchant": merchant,
            "flag": rng.random(rows) < 0.5,
            "label": label,
            "predicted": predicted,
        }
    )


def profile(data: pd.DataFrame | None = None, **kw) -> Profile:
    data = frame() if data is None else data
    return build_profile(
        data,
        model="fraud",
        version="v1",
        name="training",
        created_at=CREATED,
        label_column="label",
        prediction_column="predicted",
        **kw,
    )


def test_numeric_feature_range_moments_and_quantile_bins():
    data = frame()
    amount = profile(data).features["amount"]
    values = data["amount"].dropna().to_numpy()
    assert amount.kind == "numeric"
    assert (amount.count, amount.missing) == (len(data), int(data["amount"].isna().sum()))
    assert amount.minimum == values.min() and amount.maximum == values.max()
    assert amount.mean == pytest.approx(values.mean()) and amount.std == pytest.approx(values.std())
    expected_edges = np.quantile(values, np.arange(1, 10) / 10)
    assert amount.bin_edges == pytest.approx(list(expected_edges))
    # Independent count: pandas.cut with left-closed bins [e_i, e_{i+1}).
    bounds = [-np.inf, *expected_edges, np.inf]
    expected_counts = (
        pd.Series(pd.cut(values, bounds, right=False)).value_counts(sort=False).tolist()
    )
    assert amount.bin_counts == expected_counts
    assert sum(amount.bin_counts) == len(values)


def test_quantile_edges_deduplicate_on_repeated_values():
    assert quantile_edges(np.array([1.0] * 50 + [2.0] * 50), 10) == [1.0, 1.5, 2.0]
    assert quantile_edges(np.array([]), 10) == []


def test_categorical_vocabulary_and_missing_rate():
    data = frame()
    merchant = profile(data).features["merchant"]
    assert merchant.kind == "categorical"
    assert merchant.vocabulary == data["merchant"].value_counts().to_dict()
    assert merchant.missing_rate == pytest.approx(data["merchant"].isna().mean())
    assert merchant.vocabulary_complete
    flag = profile(data).features["flag"]  # booleans are categories, as events carry them
    assert set(flag.vocabulary) == {"true", "false"}


def test_vocabulary_cap_keeps_the_most_frequent_and_says_it_is_incomplete():
    data = pd.DataFrame({"v": ["x"] * 5 + ["y"] * 3 + ["z"] * 1, "label": [1] * 9})
    capped = build_profile(
        data,
        model="m",
        version="v1",
        name="t",
        created_at=CREATED,
        label_column="label",
        max_categories=2,
    ).features["v"]
    assert capped.vocabulary == {"x": 5, "y": 3} and not capped.vocabulary_complete


def test_performance_overall_and_per_bucket():
    data = frame()
    built = profile(data)
    correct = data["label"] == data["predicted"]
    assert built.performance == {"accuracy": pytest.approx(correct.mean()), "n": len(data)}
    assert built.labels == {str(k): int(v) for k, v in data["label"].value_counts().items()}
    merchant = built.features["merchant"]
    for value, bucket in merchant.performance.items():
        rows = data["merchant"] == value
        assert (bucket.n, bucket.correct) == (int(rows.sum()), int(correct[rows].sum()))
    missing = data["merchant"].isna()
    assert merchant.missing_performance.n == int(missing.sum())
    assert merchant.missing_performance.correct == int(correct[missing].sum())
    amount = built.features["amount"]
    assert sum(b.n for b in amount.performance) == int(data["amount"].notna().sum())


def test_regression_task_gets_mae_and_rmse():
    rng = np.random.default_rng(1)
    truth = rng.normal(100, 20, 500)
    guess = truth + rng.normal(0, 5, 500)
    built = build_profile(
        pd.DataFrame({"x": rng.random(500), "y": truth, "p": guess}),
        model="m",
        version="v1",
        name="t",
        created_at=CREATED,
        label_column="y",
        prediction_column="p",
    )
    assert built.task == "regression"
    error = guess - truth
    assert built.performance["mae"] == pytest.approx(np.abs(error).mean())
    assert built.performance["rmse"] == pytest.approx(np.sqrt((error**2).mean()))


def test_round_trip_through_json():
    built = profile()
    stored = json.loads(json.dumps(built.to_dict()))
    again = Profile.from_dict(stored)
    assert again.to_dict() == built.to_dict()
    assert again.profile_id == "fraud:v1:training:r1"
    assert again.with_revision(4).profile_id == "fraud:v1:training:r4"


@pytest.mark.parametrize(
    "bad",
    [
        None,
        [],
        {"model": "m"},
        {**profile().to_dict(), "rows": "x"},
        {**profile().to_dict(), "schema_version": 9},
    ],
)
def test_malformed_stored_profiles_are_profile_errors(bad):
    with pytest.raises(ProfileError):
        Profile.from_dict(bad)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"label_column": "nope"}, "column 'nope' is not in the table"),
        ({"model": "Bad Name"}, "model name"),
        ({"data": pd.DataFrame()}, "no rows"),
        ({"data": pd.DataFrame({"a.b": [1], "label": [1]})}, "cannot be a feature"),
    ],
)
def test_bad_arguments_name_the_problem(kwargs, fragment):
    args = {
        "model": "fraud",
        "version": "v1",
        "name": "t",
        "created_at": CREATED,
        "label_column": "label",
    }
    data = kwargs.pop("data", frame(10))
    args.update(kwargs)
    with pytest.raises(ProfileError, match=fragment):
        build_profile(data, **args)


def test_cross_cells_count_accuracy_per_bucket_pair_and_answer_trace():
    from mlmon.analysis.dimensions import MISSING, from_profile
    from mlmon.analysis.source import BucketRequest, ProfileSource

    rng = np.random.default_rng(5)
    n = 4000
    frame = pd.DataFrame(
        {
            "colour": rng.choice(["red", "blue"], n),
            "size": np.where(rng.random(n) < 0.1, np.nan, rng.uniform(0, 100, n)),
            "label": rng.choice(["yes", "no"], n),
        }
    )
    frame["guess"] = np.where(rng.random(n) < 0.8, frame["label"], "no")
    profile = build_profile(
        frame, model="m", version="v1", name="t", created_at="2026-11-25T00:00:00Z",
        label_column="label", prediction_column="guess", bins=4,
    )  # fmt: skip
    rows = profile.crosses["colour|size"]
    edges = profile.features["size"].bin_edges
    bins = np.searchsorted(edges, frame["size"], side="right")
    for colour, code, count, correct in rows:
        cell = frame["colour"] == colour
        cell &= frame["size"].isna() if code is None else (bins == code) & frame["size"].notna()
        assert count == int(cell.sum())
        assert correct == int((frame["label"] == frame["guess"])[cell].sum())
    assert any(code is None for _, code, _, _ in rows)  # the missing bucket is a cell too
    assert json.loads(json.dumps(profile.to_dict()))["crosses"] == profile.crosses

    colour, size = from_profile(profile)
    answer = ProfileSource(profile).buckets([BucketRequest((size, colour))])[0]
    red_missing = answer[(("colour", "red"), ("size", MISSING))]
    expected = (frame["colour"] == "red") & frame["size"].isna()
    assert red_missing.n == int(expected.sum())
