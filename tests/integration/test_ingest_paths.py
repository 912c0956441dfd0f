"""Thousands of events through the SDK, `mlmon ingest` and `mlmon tag` land as the same documents.

A baseline is registered with the CLI from a CSV; events cover the healthy
case and each quality problem (unseen category, missing value, absent
feature, out of range on both sides); the three paths must index identical
documents, quality tags included.
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import datetime, timedelta, timezone
from functools import partial

import orjson
import pandas as pd
import pytest

from conftest import run_mlmon
from mlmon import PredictionLogger
from mlmon._ingest import tag_untagged
from mlmon.es.join import join_pending
from mlmon.es.writer import write_events
from mlmon.schema.document import normalize_event
from mlmon.schema.event import model_indices

START = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
MERCHANTS = [f"m{i}" for i in range(10)]
CASES = ["healthy", "unseen", "missing", "absent", "too_high", "too_low"]


mlmon = partial(run_mlmon, timeout=300)


def training_frame(rows: int = 2000) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "merchant": [MERCHANTS[i % 10] for i in range(rows)],
            "state": ["CA" if i % 3 else "NY" for i in range(rows)],
            "amount": [1.0 + (i * 7919) % 100 for i in range(rows)],  # 1 … 100
            "age": [18 + i % 60 for i in range(rows)],
            "label": [i % 2 for i in range(rows)],
            "predicted": [(i // 2) % 2 for i in range(rows)],
        }
    )


def features_for(i: int) -> tuple[str, dict]:
    case = CASES[i % len(CASES)]
    features = {"merchant": MERCHANTS[i % 10], "state": "CA", "amount": 50.0, "age": 30}
    if case == "unseen":
        features["merchant"] = "brand-new-shop"
    elif case == "missing":
        features["age"] = None
    elif case == "absent":
        del features["state"]
    elif case == "too_high":
        features["amount"] = 1000.0
    elif case == "too_low":
        features["amount"] = -5.0
    return case, features


EXPECTED_QUALITY = {
    "healthy": {},
    "unseen": {"unseen": ["merchant"]},
    "missing": {"missing": ["age"]},
    "absent": {"missing": ["state"]},
    "too_high": {"out_of_range": ["amount"]},
    "too_low": {"out_of_range": ["amount"]},
}


def emit(log: PredictionLogger, count: int, *, prefix: str) -> None:
    for i in range(count):
        _, features = features_for(i)
        log.prediction(
            features=features,
            prediction=i % 2,
            score=0.25 + (i % 2) / 2,
            latency_ms={"total": 10.0},
            prediction_id=f"{prefix}{i:05d}",
            timestamp=START + timedelta(seconds=i),
        )
        if i % 4 == 0:
            log.actual(f"{prefix}{i:05d}", label=(i // 2) % 2, timestamp=START + timedelta(days=1))


def documents(es, model: str, prefix: str) -> dict[str, dict]:
    index = model_indices("predictions", model)
    es.indices.refresh(index=index)
    hits = es.search(
        index=index,
        query={"prefix": {"prediction_id": prefix}},
        size=10_000,
        sort=[{"prediction_id": "asc"}],
    )["hits"]["hits"]
    return {hit["_id"][len(prefix) :]: hit["_source"] for hit in hits}


@pytest.fixture
def registered(es, model, tmp_path):
    csv = tmp_path / "train.csv"
    training_frame().to_csv(csv, index=False)
    done = mlmon(
        "baseline",
        "register",
        "--model",
        model,
        "--version",
        "v1",
        "--name",
        "training",
        "--label-column",
        "label",
        "--prediction-column",
        "predicted",
        str(csv),
    )
    assert done.returncode == 0, done.stderr
    assert f"Registered profile {model}:v1:training:r1: 2000 rows" in done.stdout
    return model


N = 3000


def test_sdk_events_land_tagged_and_ingest_gives_the_same_documents(es, registered, tmp_path):
    model = registered
    with PredictionLogger(model=model, version="v1", sink="elasticsearch") as log:
        emit(log, N, prefix="sdk-")
        assert log.flush(timeout=60)
        stats = log.stats()
    assert stats["emitted"] == N + N // 4 and stats["sent"] == stats["emitted"]
    assert stats["untagged"] == 0 and stats["invalid"] == 0
    assert join_pending(es, model=model).pending == 0
    via_sdk = documents(es, model, "sdk-")
    assert len(via_sdk) == N

    counted = Counter()
    for key, doc in via_sdk.items():
        case = CASES[int(key) % len(CASES)]
        quality = doc["quality"]
        assert quality["profile"] == f"{model}:v1:training:r1"
        for kind in ("missing", "unseen", "out_of_range"):
            assert quality.get(kind, []) == EXPECTED_QUALITY[case].get(kind, []), (case, quality)
            assert quality.get(f"{kind}_count", 0) == len(EXPECTED_QUALITY[case].get(kind, []))
        assert doc["model"] == {"name": model, "version": "v1"}
        assert doc["event"] == {"kind": "prediction", "schema_version": 1}
        assert ("actual" in doc) == (int(key) % 4 == 0)
        counted[case] += 1
    assert counted == Counter({case: N // len(CASES) for case in CASES})

    # The same events written by the stdout sink and loaded with `mlmon ingest`.
    stream = io.StringIO()
    with PredictionLogger(model=model, version="v1", sink="stdout", stream=stream) as log:
        emit(log, N, prefix="file-")
    path = tmp_path / "events.jsonl"
    path.write_text(stream.getvalue())
    done = mlmon("ingest", str(path))
    assert done.returncode == 0, done.stderr
    assert f"{N + N // 4} lines: {N + N // 4} indexed" in done.stdout
    via_file = documents(es, model, "file-")
    assert len(via_file) == N
    for key, doc in via_sdk.items():
        other = via_file[key]
        assert {**other, "prediction_id": doc["prediction_id"]} == doc, key


def test_tag_fills_in_events_that_arrived_untagged(es, model, tmp_path):
    # No profile yet: events are indexed untagged and counted as such.
    with PredictionLogger(model=model, version="v1", sink="elasticsearch") as log:
        emit(log, 600, prefix="late-")
        assert log.flush(timeout=60)
        assert log.stats()["untagged"] == 600
    before = documents(es, model, "late-")
    assert all("quality" not in doc for doc in before.values())

    csv = tmp_path / "train.parquet"
    training_frame().to_parquet(csv)
    done = mlmon(
        "baseline",
        "register",
        "--model",
        model,
        "--version",
        "v1",
        "--label-column",
        "label",
        "--prediction-column",
        "predicted",
        str(csv),
    )
    assert done.returncode == 0, done.stderr
    tagged = mlmon("tag", "--model", model, "--since", "2026-11-01T00:00:00Z")
    assert tagged.returncode == 0, tagged.stderr
    assert "600 untagged predictions: 600 tagged" in tagged.stdout
    after = documents(es, model, "late-")
    for key, doc in after.items():
        case = CASES[int(key) % len(CASES)]
        for kind in ("missing", "unseen", "out_of_range"):
            assert doc["quality"].get(kind, []) == EXPECTED_QUALITY[case].get(kind, [])
        assert {k: v for k, v in doc.items() if k != "quality"} == before[key]
    again = mlmon("tag", "--model", model)
    assert "0 untagged predictions" in again.stdout


def test_tag_tags_page_by_page_and_version_by_version_as_the_sdk_does(es, registered):
    model = registered
    with PredictionLogger(model=model, version="v1", sink="elasticsearch") as log:
        emit(log, 450, prefix="sdk-")  # tagged on the way in: the reference
    late = []
    for version, prefix, count in (("v1", "late-", 450), ("v2", "v2-", 150)):
        for i in range(count):
            _, features = features_for(i)
            late.append(
                normalize_event(
                    {
                        "@timestamp": (START + timedelta(seconds=i)).isoformat(),
                        "model": {"name": model, "version": version},
                        "prediction_id": f"{prefix}{i:05d}",
                        "features": features,
                        "prediction": {"label": i % 2},
                    }
                )
            )
    assert write_events(es, late, source="test").indexed == 600  # indexed untagged

    # Six pages, each with both versions (v2 has no profile of its own: the model's newest).
    result = tag_untagged(es, model=model, page_size=100)

    assert (result.seen, result.tagged, result.no_profile, result.failed) == (600, 600, 0, 0)
    reference = documents(es, model, "sdk-")
    for prefix, count in (("late-", 450), ("v2-", 150)):
        tagged = documents(es, model, prefix)
        assert len(tagged) == count
        for key, doc in tagged.items():
            assert doc["quality"] == reference[key]["quality"], (prefix, key)
    assert tag_untagged(es, model=model).seen == 0  # nothing left untagged


def test_ingest_refuses_bad_lines_into_the_deadletter_and_counts_them(es, model, tmp_path):
    good = {
        "@timestamp": "2026-11-21T00:00:00Z",
        "model": {"name": model, "version": "v1"},
        "prediction_id": "ok-1",
        "features": {"x": 1.0},
        "prediction": {"label": "a"},
    }
    lines = [
        orjson.dumps(good).decode(),
        "{not json",
        orjson.dumps({**good, "prediction_id": "bad-feature", "features": {"a.b": 1}}).decode(),
        orjson.dumps({**good, "prediction_id": "huge", "features": {"x": "y" * 100_000}}).decode(),
        orjson.dumps({**good, "prediction_id": "no-time", "@timestamp": None}).decode(),
        "",
        orjson.dumps({**good, "prediction_id": "nested", "features": {"x": {"deep": 1}}}).decode(),
        orjson.dumps({**good, "prediction_id": "nan-string", "features": {"x": "NaN"}}).decode(),
    ]
    path = tmp_path / f"{model}.jsonl"  # the dead-letter index is shared: find ours by name
    path.write_text("\n".join(lines) + "\n")
    done = mlmon("ingest", str(path))
    assert done.returncode == 1
    assert (
        "7 lines: 2 indexed (0 tagged, 2 untagged), 0 duplicates, 5 dead-lettered (5 invalid)"
        in done.stdout
    )
    es.indices.refresh(index="mlmon-deadletter-*")
    hits = es.search(
        index="mlmon-deadletter-*",
        size=50,
        query={
            "bool": {
                "filter": [
                    {"term": {"source": "ingest"}},
                    {"wildcard": {"reason": f"{path.name} line *"}},
                ]
            }
        },
        sort=[{"reason": "asc"}],
    )["hits"]["hits"]
    reasons = sorted(h["_source"]["reason"] for h in hits if path.name in h["_source"]["reason"])
    assert [r.split(":")[0] for r in reasons] == [f"{path.name} line {n}" for n in (2, 3, 4, 5, 7)]
    assert "not valid JSON" in reasons[0] and "feature name 'a.b'" in reasons[1]
    assert "over the 4096 limit" in reasons[2] and "no @timestamp" in reasons[3]
    assert "features.x has type dict" in reasons[4]
    # What can be read of a refused line is queryable: which model, which id, where from.
    by_model = es.search(
        index="mlmon-deadletter-*", size=50, query={"term": {"model.name": model}}
    )["hits"]["hits"]
    assert sorted(h["_source"]["prediction_id"] for h in by_model) == [
        "bad-feature",
        "huge",
        "nested",
        "no-time",
    ]  # line 2 is not JSON: only its text and location are known
    locations = sorted(
        h["_source"]["location"] for h in hits if path.name in h["_source"]["reason"]
    )
    assert locations == sorted(f"{path}:{n}" for n in (2, 3, 4, 5, 7))
    indexed = documents(es, model, "")
    assert sorted(indexed) == ["nan-string", "ok-1"]
    assert indexed["nan-string"]["features"]["x"] == "NaN"  # a string stays a string
