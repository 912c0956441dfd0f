"""`mlmon compare` on the real Elasticsearch and on pandas: the shadow scenario's truth, found.

The `shadow` scenario (10,000 requests of v1, each shadowed by a v2 candidate that is
better on electronics, worse in TX and slower) goes through the SDK into a JSON-lines
file, is ingested into Elasticsearch (the join pairs each shadow with its live
prediction), and is compared through the CLI once per backend. The paired counts
must be the simulator's realized McNemar cells exactly, the worse segment its
injected one, and both backends must agree on every number.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import orjson
import pytest

from conftest import forget_model, leaves, register_training, run_mlmon, unique_model
from mlmon._ingest import ingest_file
from mlmon.es.join import join_pending
from mlmon.es.pair import pair_pending
from mlmon.es.writer import write_events
from mlmon.schema.document import normalize_event
from mlmon.simulate.emit import emit
from mlmon.simulate.run import build_traffic

END = datetime(2026, 11, 20, tzinfo=timezone.utc)
WINDOW = "2026-11-18T00:00:00Z..2026-11-20T00:00:00Z"
EVENTS = 10_000


def assert_same(one: dict, other: dict, keys: tuple[str, ...]) -> None:
    """Every leaf under ``keys`` equal (floats to 1e-9: sums in another order)."""
    for key in keys:
        mine, theirs = leaves(one[key], key), leaves(other[key], key)
        assert mine.keys() == theirs.keys(), key
        for path, value in mine.items():
            if isinstance(value, float):
                assert value == pytest.approx(theirs[path], rel=1e-9, abs=1e-12), path
            else:
                assert value == theirs[path], path


def _compare(name: str, folder: Path, *extra: str) -> dict:
    out = folder / f"{name}-{len(extra)}.json"
    result = run_mlmon(
        "compare", "--model", name, "--candidate", "v2", "--against", "v1",
        "--window", WINDOW, "--profile", "training", "--format", "json", "-o", str(out), *extra,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def shadow(es, tmp_path_factory):
    """(Elasticsearch report, pandas report, the truth's shadow entry)."""
    folder = tmp_path_factory.mktemp("compare")
    name = unique_model("shadow")
    try:
        traffic = build_traffic("shadow", events=EVENTS, days=2, seed=11, end=END, model=name)
        register_training(es, traffic, folder, created_at="2026-11-17T00:00:00.000Z")
        events = folder / f"{name}.jsonl"
        with events.open("w") as stream:
            emit(traffic, sink="stdout", model=name, stream=stream)
        ingest_file(es, events)
        truth = next(i for i in traffic.truth["injected"] if i["kind"] == "shadow")
        yield _compare(name, folder), _compare(name, folder, "--events", str(events)), truth
    finally:
        forget_model(es, name)


def test_paired_counts_are_the_truths_and_the_worse_segment_is_named(shadow):
    report, _, truth = shadow
    assert report["mode"] == "paired" and report["backend"] == "elasticsearch"
    paired = truth["paired"]
    assert report["requests"]["paired"] == paired["requests"] == EVENTS
    test = report["overall"]["test"]
    assert (test["candidate_only"], test["against_only"]) == (
        paired["candidate_only"],
        paired["against_only"],
    )
    assert report["overall"]["difference"] == pytest.approx(paired["accuracy_difference"], abs=1e-6)
    assert report["agreement"]["rate"] == pytest.approx(truth["agreement"], abs=1e-6)
    assert report["worse"][0]["filters"] == truth["worse_slice"]
    assert report["worse"][0]["difference"] == pytest.approx(
        truth["worse"]["accuracy_difference"], abs=1e-6
    )
    assert report["better"][0]["filters"] == truth["better_slice"]
    assert 25 < report["latency"]["p95_difference_ms"] < 40  # ~30 ms slower, as injected
    assert "worse on state=TX" in report["verdict"]
    points = f"{100 * abs(paired['accuracy_difference']):.1f} points"
    assert points in report["verdict"]  # the truth's paired difference, in the verdict


def test_both_backends_give_the_same_report(shadow):
    from_es, from_pandas, _ = shadow
    assert from_pandas["backend"] == "pandas"
    assert_same(
        from_es, from_pandas, ("mode", "requests", "agreement", "overall", "slices", "worse")
    )
    assert from_es["better"] == from_pandas["better"]
    for version in ("candidate", "against"):  # t-digest percentiles against exact ones
        for p, value in from_pandas["latency"][version].items():
            assert from_es["latency"][version][p] == pytest.approx(value, rel=0.03)


def _doc(pid: str, name: str, version: str, label: str, deployment: str = "primary", **extra):
    return normalize_event(
        {
            "@timestamp": "2026-11-19T10:00:00.000Z",
            "model": {"name": name, "version": version, "deployment": deployment},
            "prediction_id": pid,
            "features": {"a": "x"},
            "prediction": {"label": label},
            "latency_ms": {"total": 5.0},
            **extra,
        }
    )


def test_a_shadow_indexed_after_its_actual_was_joined_gets_it(es, model):
    actual = normalize_event(
        {"@timestamp": "2026-11-19T10:00:00.000Z", "event": {"kind": "actual"},
         "model": {"name": model}, "prediction_id": "live-1", "actual": {"label": "yes"}}
    )  # fmt: skip
    write_events(es, [_doc("live-1", model, "v1", "no"), actual], source="test")
    assert join_pending(es, model=model).joined == 1
    shadow = _doc(
        "shadow-1", model, "v2", "yes", deployment="shadow",
        trace={"shadow_of": "live-1"},
    )  # fmt: skip
    write_events(es, [shadow], source="test")
    assert pair_pending(es, model=model).paired == 1
    assert pair_pending(es, model=model).paired == 0  # idempotent: nothing left
    found = es.get(index=f"mlmon-predictions-{model}-2026.11", id="shadow-1")["_source"]
    assert found["actual"]["correct"] is True
    assert found["pair"] == {
        "version": "v1", "label": "no", "agree": False, "latency_ms": 5.0,
        "correct": False, "outcome": "candidate",
    }  # fmt: skip


def test_a_canary_without_shadows_falls_back_to_populations(es, model, tmp_path):
    """v2 serves its own requests: no pairs, so compare says it compares populations."""
    lines = []
    for i in range(600):
        version = "v2" if i % 3 == 0 else "v1"
        right = (i % 10) != 0 if version == "v1" else (i % 5) != 0
        segment = "s1" if i % 2 else "s2"
        lines.append(
            {"@timestamp": "2026-11-19T10:00:00.000Z", "model": {"name": model, "version": version},
             "prediction_id": f"p{i}", "features": {"segment": segment},
             "prediction": {"label": "yes"}, "actual": {"label": "yes" if right else "no"},
             "latency_ms": {"total": 50.0 if version == "v2" else 5.0}}
        )  # fmt: skip
    path = tmp_path / "canary.jsonl"
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    ingest_file(es, path)
    reports = []
    for extra in ((), ("--events", str(path))):
        out = tmp_path / f"canary-{len(extra)}.json"
        result = run_mlmon(
            "compare", "--model", model, "--candidate", "v2", "--against", "v1",
            "--window", WINDOW, "--format", "json", "-o", str(out), *extra,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        reports.append(json.loads(out.read_text()))
    from_es, from_pandas = reports
    assert from_es["mode"] == "population" and "different requests" in from_es["notes"][0]
    assert from_es["verdict"].startswith("Unpaired: ")
    assert from_es["requests"] == {"paired": 0, "candidate": 200, "against": 400}
    assert from_es["overall"]["candidate"] == pytest.approx(0.8)
    assert from_es["overall"]["against"] == pytest.approx(0.9)
    assert_same(from_es, from_pandas, ("overall", "slices", "worse", "better"))
