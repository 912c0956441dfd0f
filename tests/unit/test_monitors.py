"""Monitors as code: parsing errors name the monitor and key; evaluation reads the report."""

from __future__ import annotations

import pytest

from mlmon.errors import UsageError
from mlmon.monitors import check, evaluate, parse_config

CONFIG = """
defaults: {window: now-1d..now, baseline: training}
monitors:
  - {name: acc, model: fraud, metric: accuracy, min: 0.9, max_drop: 0.03}
  - {name: drift, model: fraud, drift: {max_psi: 0.25}}
  - {name: na, model: fraud, quality: {max_missing_rate: 0.05, features: [age]}}
  - {name: slow, model: fraud, version: v2, latency: {max_p95_ms: 100}}
"""

REPORT = {
    "overall": {"metric": "accuracy", "current": 0.88, "baseline": 0.95, "estimated": False},
    "drift": [
        {"feature": "merchant", "psi": 0.4, "p_value": 0.0, "drifted": True},
        {"feature": "amount", "psi": 0.1, "p_value": 0.2, "drifted": False},
    ],
    "quality": [
        {"feature": "age", "missing_rate": 0.3, "unseen_rate": 0.0, "out_of_range_rate": 0.0},
        {"feature": "zip", "missing_rate": 0.9, "unseen_rate": 0.0, "out_of_range_rate": 0.0},
    ],
    "latency": {"by_version": {"v2": {"total": {"p50": 80.0, "p95": 150.0, "p99": 190.0}}}},
}


def test_parse_applies_defaults_and_kinds():
    monitors = parse_config(CONFIG)
    assert [(m.name, m.kind) for m in monitors] == [
        ("acc", "metric"),
        ("drift", "drift"),
        ("na", "quality"),
        ("slow", "latency"),
    ]
    assert monitors[0].window == "now-1d..now" and monitors[0].baseline == "training"
    assert monitors[3].version == "v2"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("monitors: [", "not valid YAML"),
        ("{}", "'monitors' list"),
        ("monitors: []", "empty"),
        ("monitors: [{name: x, min: 0.9}]", "'model' is required"),
        ("monitors: [{name: x, model: m}]", "exactly one check"),
        ("monitors: [{name: x, model: m, min: 0.9, drift: {}}]", "exactly one check"),
        ("monitors: [{name: x, model: m, drift: {max_pis: 1}}]", "unknown drift threshold"),
        ("monitors: [{name: x, model: m, min: high}]", "min must be a number"),
        ("monitors: [{name: x, model: m, min: 1, colour: red}]", "unknown key(s) colour"),
        ("monitors: [{name: x, model: m, min: 1}, {name: x, model: m, max: 2}]", "two monitors"),
        ("defaults: {windows: 1d}\nmonitors: [{model: m, min: 1}]", "unknown defaults"),
    ],
)
def test_bad_config_is_one_clear_error(text, message):
    with pytest.raises(UsageError, match=None) as caught:
        parse_config(text)
    assert message in str(caught.value)


def test_evaluate_each_kind_against_a_report():
    results = {m.name: evaluate(m, REPORT) for m in parse_config(CONFIG)}
    assert results["acc"]["status"] == "breach"
    assert len(results["acc"]["breaches"]) == 2  # below min, and fell more than max_drop
    assert results["drift"]["breaches"] == ["merchant: PSI 0.400 > max_psi 0.25"]
    assert results["na"]["breaches"] == ["age: missing rate 0.3000 > 0.05"]  # zip not watched
    assert results["slow"]["breaches"] == ["v2: total p95 150.0 ms > 100 ms"]


def test_check_runs_one_trace_per_key_and_reports_errors_per_monitor():
    calls = []

    def run_trace(monitor):
        calls.append(monitor.trace_key())
        if monitor.model == "gone":
            raise UsageError("no predictions for model 'gone'")
        return {**REPORT, "overall": {**REPORT["overall"], "current": 0.96}}

    monitors = parse_config(
        "monitors:\n"
        "  - {name: a, model: fraud, min: 0.9}\n"
        "  - {name: b, model: fraud, drift: {max_psi: 0.5}}\n"
        "  - {name: c, model: gone, min: 0.9}\n"
    )
    summary = check(monitors, run_trace)
    assert len(calls) == 2
    assert summary["ok"] is False
    assert summary["breached"] == [] and summary["errors"] == ["c"]
    assert [m["status"] for m in summary["monitors"]] == ["ok", "ok", "error"]
