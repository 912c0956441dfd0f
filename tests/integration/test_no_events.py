"""A model with a profile but no events is "no data", not a cluster failure, and `mlmon
check` always writes its summary: one monitor that cannot be traced never hides the others.

Before, both printed `mlmon: error: Elasticsearch error 404: {}` (exit 3): the field
mapping of a model without indices answers 404 even with ``allow_no_indices``.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import forget_model, run_mlmon, unique_model
from mlmon.baseline import build_profile
from mlmon.baseline.store import save_profile
from mlmon.es.join import join_pending
from mlmon.es.writer import write_events
from mlmon.schema.document import normalize_event

WINDOW = "2026-11-22T00:00:00Z..2026-11-23T00:00:00Z"


def register(es, model: str) -> None:
    frame = pd.DataFrame(
        {
            "state": ["CA", "NY", "TX"] * 100,
            "amount": [float(i % 50) for i in range(300)],
            "label": ["fraud" if i % 5 == 0 else "legit" for i in range(300)],
            "predicted": ["fraud" if i % 6 == 0 else "legit" for i in range(300)],
        }
    )
    profile = build_profile(
        frame,
        model=model,
        version="v1",
        name="training",
        created_at="2026-11-20T00:00:00.000Z",
        label_column="label",
        prediction_column="predicted",
    )
    save_profile(es, profile)


def traffic(model: str, n: int = 300) -> list[dict]:
    events = []
    for i in range(n):
        ts = f"2026-11-22T{i % 24:02d}:{i % 60:02d}:00.000Z"
        label = "fraud" if i % 5 == 0 else "legit"
        events.append(
            normalize_event(
                {
                    "@timestamp": ts,
                    "model": {"name": model, "version": "v1"},
                    "prediction_id": f"p{i}",
                    "features": {"state": ["CA", "NY", "TX"][i % 3], "amount": float(i % 50)},
                    "prediction": {"label": "fraud" if i % 6 == 0 else "legit"},
                }
            )
        )
        events.append(
            normalize_event(
                {
                    "@timestamp": ts,
                    "event": {"kind": "actual"},
                    "model": {"name": model},
                    "prediction_id": f"p{i}",
                    "actual": {"label": label},
                }
            )
        )
    return events


@pytest.fixture(scope="module")
def models(es):
    """``empty``: a profile and no events at all; ``live``: a profile and a day of traffic."""
    names = {"empty": unique_model("noev"), "live": unique_model("live")}
    try:
        for name in names.values():
            register(es, name)
        write_events(es, traffic(names["live"]), source="test", refresh=True)
        join_pending(es, model=names["live"])
        es.indices.refresh(index=f"mlmon-predictions-{names['live']}-*")
        yield names
    finally:
        for name in names.values():
            forget_model(es, name)


def test_trace_of_a_model_without_events_says_so_in_one_line(models):
    name = models["empty"]
    for extra in ((), ("--format", "json")):
        result = run_mlmon("trace", "--model", name, "--window", WINDOW, *extra)
        assert result.returncode == 4, result.stderr
        assert result.stderr == (
            f"mlmon: error: no events for model {name!r} in window "
            "2026-11-22T00:00:00.000Z..2026-11-23T00:00:00.000Z\n"
        )
        assert result.stdout == ""
    assert "exit code 4" in run_mlmon("trace", "--help").stdout.replace("\n", " ")


def test_trace_of_a_model_with_events_still_works(models):
    result = run_mlmon("trace", "--model", models["live"], "--window", WINDOW, "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["overall"]["count"] == 300


def test_check_reports_the_errored_monitor_and_evaluates_the_others(models, tmp_path):
    config = tmp_path / "monitors.yml"
    config.write_text(
        f"defaults: {{window: '{WINDOW}', baseline: training}}\n"
        "monitors:\n"
        f"  - {{name: gone, model: {models['empty']}, min: 0.5}}\n"
        f"  - {{name: live-accuracy, model: {models['live']}, min: 0.5}}\n"
        f"  - {{name: live-na, model: {models['live']}, quality: {{max_missing_rate: 0.5}}}}\n"
    )
    result = run_mlmon("check", "--config", str(config))
    assert result.returncode == 1  # an errored monitor is not ok
    summary = json.loads(result.stdout)
    status = {m["name"]: m["status"] for m in summary["monitors"]}
    assert status == {"gone": "error", "live-accuracy": "ok", "live-na": "ok"}
    gone = summary["monitors"][0]
    assert gone["error"].startswith(f"no events for model {models['empty']!r} in window")
    assert gone["error_type"] == "NoEvents"
    assert summary["errors"] == ["gone"] and summary["traces"] == 2
    assert "ERROR gone: no events for model" in result.stderr


def test_check_writes_its_summary_when_the_cluster_is_down(tmp_path):
    config = tmp_path / "monitors.yml"
    config.write_text(
        "monitors:\n  - {name: a, model: fraud, min: 0.5}\n  - {name: b, model: other, min: 0.5}\n"
    )
    result = run_mlmon("check", "--config", str(config), env={"MLMON_ES_URL": "http://127.0.0.1:9"})
    assert result.returncode == 1
    summary = json.loads(result.stdout)
    assert [m["status"] for m in summary["monitors"]] == ["error", "error"]
    assert all(m["error_type"] == "ClusterUnavailable" for m in summary["monitors"])
    assert "is unreachable" in summary["monitors"][0]["error"]


def test_kibana_validate_of_a_model_without_events_says_so_once(models):
    """Every panel would be empty: one line and exit 4, not a problem per panel."""
    result = run_mlmon("kibana", "validate", "--model", models["empty"])
    assert result.returncode == 4, result.stdout + result.stderr
    assert result.stderr == (
        f"mlmon: error: no events for model {models['empty']!r} in window now-7d..now\n"
    )
    assert "FAIL" not in result.stdout


def test_compare_of_a_version_without_events_says_so_in_one_line(models):
    result = run_mlmon(
        "compare", "--model", models["live"], "--candidate", "v9", "--against", "v1",
        "--window", WINDOW,
    )  # fmt: skip
    assert result.returncode == 4, result.stderr
    assert result.stderr.startswith(
        f"mlmon: error: no events for model {models['live']!r} version v9 in window 2026-11-22"
    )
