"""Shadow predictions: the SDK's fields, the pure pair block, the pandas pairing."""

from __future__ import annotations

import orjson
import pytest

from mlmon import PredictionLogger
from mlmon.errors import InvalidEventError
from mlmon.schema.document import normalize_event
from mlmon.schema.pairing import pair_block, shadow_update
from mlmon.sources.frame import load_events
from mlmon.testing import CapturingSink

T = "2026-11-20T10:00:00.000Z"


def test_a_shadow_carries_its_deployment_and_the_live_prediction_id():
    sink = CapturingSink()
    with PredictionLogger(model="m", version="v1", sink=sink, deployment="primary") as live:
        pid = live.prediction(features={"a": "x"}, prediction="yes")
    with PredictionLogger(model="m", version="v2", sink=sink) as candidate:
        candidate.prediction(features={"a": "x"}, prediction="no", shadow_of=pid)
        candidate.prediction(features={"a": "x"}, prediction="no", deployment="canary")
    first, shadow, canary = sink.events
    assert first["model"] == {"name": "m", "version": "v1", "deployment": "primary"}
    assert shadow["model"] == {"name": "m", "version": "v2", "deployment": "shadow"}
    assert shadow["trace"] == {"shadow_of": pid}
    assert canary["model"]["deployment"] == "canary" and "trace" not in canary


def test_a_bad_shadow_of_is_refused_naming_the_field():
    with pytest.raises(InvalidEventError, match=r"trace\.shadow_of"):
        normalize_event(
            {
                "@timestamp": T,
                "model": {"name": "m", "version": "v2"},
                "prediction_id": "s",
                "prediction": "no",
                "trace": {"shadow_of": ""},
            }
        )


def test_pair_block_counts_each_side_against_the_same_actual():
    shadow = {"prediction": {"label": "yes"}}
    live = {"prediction": {"label": "no"}, "model": {"version": "v1"}, "latency_ms": {"total": 4.0}}
    assert pair_block(shadow, live, None) == {
        "version": "v1",
        "label": "no",
        "agree": False,
        "latency_ms": 4.0,
    }
    block = pair_block(shadow, live, {"label": "yes"})
    assert block["correct"] is False and block["outcome"] == "candidate"
    regression = pair_block(
        {"prediction": {"value": 3.0}}, {"prediction": {"value": 1.0}}, {"value": 2.5}
    )
    assert regression["abs_error"] == 1.5 and regression["abs_error_diff"] == -1.0


def test_shadow_update_copies_the_live_actual_scored_for_the_shadow():
    live = {
        "prediction": {"label": "no"},
        "model": {"version": "v1"},
        "actual": {"label": "yes", "correct": False, "timestamp": T},
    }
    body = shadow_update({"prediction": {"label": "yes"}}, live)
    assert body["actual"] == {"label": "yes", "correct": True, "timestamp": T}
    assert body["pair"]["outcome"] == "candidate"


def event(pid, version, label, **extra):
    return {
        "@timestamp": T,
        "model": {"name": "m", "version": version},
        "prediction_id": pid,
        "features": {"a": "x"},
        "prediction": {"label": label},
        **extra,
    }


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0)])
def test_pandas_pairs_a_shadow_whatever_arrives_first(tmp_path, order):
    lines = [
        event("p1", "v1", "no"),
        event(
            "s1",
            "v2",
            "yes",
            trace={"shadow_of": "p1"},
            model={"name": "m", "version": "v2", "deployment": "shadow"},
        ),
        {
            "@timestamp": T,
            "event": {"kind": "actual"},
            "model": {"name": "m"},
            "prediction_id": "p1",
            "actual": {"label": "yes"},
        },
    ]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(orjson.dumps(lines[i]) + b"\n" for i in order))
    frame = load_events(path).frame.set_index("prediction_id")
    assert frame.loc["s1", "actual.correct"] == True  # noqa: E712
    assert frame.loc["p1", "actual.correct"] == False  # noqa: E712
    assert frame.loc["s1", "pair.outcome"] == "candidate"
    assert frame.loc["s1", "pair.agree"] == False  # noqa: E712
