"""A category sent as a number (store 103, zip 94107) is the same bucket as in its profile.

Elasticsearch indexes such a feature as a double, so a terms aggregation
names its buckets ``103.0``; the profile's vocabulary says ``103``. Both
backends must name the bucket the profile's way, or healthy traffic looks
like a feature whose every value is new (PSI in the tens) and no slice
finds its own baseline.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from conftest import run_mlmon
from mlmon.baseline import build_profile
from mlmon.baseline.store import save_profile
from mlmon.es.join import join_pending
from mlmon.schema.event import format_timestamp
from mlmon.sdk import PredictionLogger

STORES = (101, 102, 103, 104)
END = datetime(2026, 11, 20, tzinfo=timezone.utc)
WINDOW = "2026-11-19T00:00:00Z..2026-11-20T00:00:00Z"


def _rows(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    store = rng.choice(np.array(STORES), n)
    basket = np.round(rng.gamma(2.0, 20.0, n), 2)
    label = rng.random(n) < 0.2
    # A model that is right 90 % of the time everywhere: healthy, nothing to call.
    predicted = np.where(rng.random(n) < 0.9, label, ~label)
    return pd.DataFrame(
        {
            "store": store,
            "basket": basket,
            "label": label.astype(int),
            "pred": predicted.astype(int),
        }
    )


def _register(es, model: str, training: pd.DataFrame) -> None:
    """The training profile, with ``store`` declared a category (its values are numbers)."""
    profile = build_profile(
        training,
        model=model,
        version="v1",
        name="training",
        created_at="2026-11-01T00:00:00.000Z",
        label_column="label",
        prediction_column="pred",
        categorical=["store"],
    )
    save_profile(es, profile)


@pytest.fixture
def traffic(es, model, tmp_path):
    _register(es, model, _rows(4_000, seed=1))
    window = _rows(3_000, seed=2)
    start = END - timedelta(days=1)
    events = tmp_path / "events.jsonl"
    with events.open("w") as stream:
        loggers = [
            PredictionLogger(model=model, version="v1", sink="elasticsearch", block_when_full=True),
            PredictionLogger(model=model, version="v1", sink="stdout", stream=stream),
        ]
        for i, row in enumerate(window.itertuples(index=False)):
            moment = format_timestamp(start + timedelta(seconds=25 * i))
            features = {"store": int(row.store), "basket": float(row.basket)}
            for log in loggers:
                pid = log.prediction(
                    features, prediction=int(row.pred), prediction_id=f"p{i}", timestamp=moment
                )
                log.actual(pid, label=int(row.label), timestamp=moment)
        for log in loggers:
            log.close()
            assert log.stats()["sent"] == 2 * len(window), log.stats()
    join_pending(es, model=model)
    return model, events, tmp_path


def _trace(model: str, out, *extra: str) -> dict:
    result = run_mlmon(
        "trace", "--model", model, "--window", WINDOW, "--format", "json", "-o", str(out), *extra
    )
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text())


def test_numeric_category_buckets_match_the_profile_on_both_backends(traffic):
    model, events, folder = traffic
    reports = {
        "elasticsearch": _trace(model, folder / "es.json"),
        "pandas": _trace(model, folder / "pandas.json", "--events", str(events)),
    }
    for backend, report in reports.items():
        store = next(d for d in report["drift"] if d["feature"] == "store")
        buckets = set(store["distribution"]["buckets"])
        assert {str(s) for s in STORES} <= buckets, (backend, buckets)
        assert not any(b.endswith(".0") for b in buckets), (backend, buckets)
        assert not store["drifted"] and store["psi"] < 0.05, (backend, store["psi"])
        assert report["slices"] == [], (backend, report["slices"][:1])
    assert reports["elasticsearch"]["drift"] == reports["pandas"]["drift"]


def test_numbers_indexed_before_the_profile_existed_are_left_out_with_a_note(es, model, tmp_path):
    """Untagged events fix the index's mapping as double; the trace says so instead of failing."""
    window = _rows(1_500, seed=3)
    start = END - timedelta(days=1)
    with PredictionLogger(
        model=model, version="v1", sink="elasticsearch", block_when_full=True
    ) as log:
        for i, row in enumerate(window.itertuples(index=False)):
            moment = format_timestamp(start + timedelta(seconds=50 * i))
            features = {"store": int(row.store), "basket": float(row.basket)}
            pid = log.prediction(features, prediction=int(row.pred), timestamp=moment)
            log.actual(pid, label=int(row.label), timestamp=moment)
    _register(es, model, _rows(2_000, seed=1))
    join_pending(es, model=model)
    report = _trace(model, tmp_path / "untagged.json")
    assert [d["feature"] for d in report["drift"]] == ["basket"]
    assert any(
        "store: categories in the profile but indexed as numbers" in n for n in report["notes"]
    )
