"""Monitors as code: parsing errors name the monitor and key; evaluation reads the report."""

from __future__ import annotations

import pytest

from mlmon._monitors import check, evaluate, parse_config
from mlmon.analysis.drift import Distribution, DriftFinding
from mlmon.analysis.quality import QualityFinding
from mlmon.analysis.result import BaselineInfo, Latency, Overall, TraceReport
from mlmon.analysis.window import Window
from mlmon.errors import ClusterError, NoEvents, UsageError

CONFIG = """
defaults: {window: now-1d..now, baseline: training}
monitors:
  - {name: acc, model: fraud, metric: accuracy, min: 0.9, max_drop: 0.03}
  - {name: drift, model: fraud, drift: {max_psi: 0.25}}
  - {name: na, model: fraud, quality: {max_missing_rate: 0.05, features: [age]}}
  - {name: slow, model: fraud, version: v2, latency: {max_p95_ms: 100}}
"""


def drift(feature: str, psi: float, p_value: float, drifted: bool) -> DriftFinding:
    return DriftFinding(
        feature=feature,
        kind="categorical",
        psi=psi,
        js=0.1,
        baseline_count=1000.0,
        current_count=1000.0,
        test="chi2",
        statistic=10.0,
        p_value=p_value,
        distribution=Distribution(("a", "b"), (0.5, 0.5), (0.4, 0.6)),
        largest_shifts=(),
        p_adjusted=p_value,
        drifted=drifted,
    )


def quality(feature: str, missing: float) -> QualityFinding:
    return QualityFinding(feature, (), missing, 0.0, 0.0, 0.0, 0.0, 0.0)


def report(current: float = 0.88) -> TraceReport:
    """A hand-made report: only what the monitors read carries meaning."""
    return TraceReport(
        model="fraud",
        version=None,
        window=Window("2026-11-19T00:00:00.000Z", "2026-11-20T00:00:00.000Z"),
        baseline=BaselineInfo(kind="profile", description="profile training"),
        backend="elasticsearch",
        positive_label=None,
        overall=Overall("accuracy", current, 0.95, False, 1000, 1000, 1000, 1000, {}, {}),
        timeline=(),
        slices=(),
        slices_considered=(),
        drift=(drift("merchant", 0.4, 0.0, True), drift("amount", 0.1, 0.2, False)),
        prediction_drift=(),
        quality=(quality("age", 0.3), quality("zip", 0.9)),
        root_causes=(),
        latency=Latency({"v2": {"total": {"p50": 80.0, "p95": 150.0, "p99": 190.0}}}, {}),
        headline="",
    )


REPORT = report()


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
    assert results["acc"].status == "breach"
    assert len(results["acc"].breaches) == 2  # below min, and fell more than max_drop
    assert results["drift"].breaches == ("merchant: PSI 0.400 > max_psi 0.25",)
    assert results["na"].breaches == ("age: missing rate 0.3000 > 0.05",)  # zip not watched
    assert results["slow"].breaches == ("v2: total p95 150.0 ms > 100 ms",)


def test_check_runs_one_trace_per_key_and_reports_errors_per_monitor():
    calls = []

    def run_trace(monitor):
        calls.append(monitor.trace_key())
        if monitor.model == "gone":
            raise NoEvents("gone", None, Window("2026-11-19T00:00:00Z", "2026-11-20T00:00:00Z"))
        if monitor.model == "down":
            raise ClusterError("Elasticsearch error 500: boom", status=500)
        return report(current=0.96)

    monitors = parse_config(
        "monitors:\n"
        "  - {name: c, model: gone, min: 0.9}\n"
        "  - {name: a, model: fraud, min: 0.9}\n"
        "  - {name: d, model: down, min: 0.9}\n"
        "  - {name: b, model: fraud, drift: {max_psi: 0.5}}\n"
    )
    summary = check(monitors, run_trace).to_json()
    assert len(calls) == 3
    assert summary["ok"] is False
    assert summary["breached"] == [] and summary["errors"] == ["c", "d"]
    assert [m["status"] for m in summary["monitors"]] == ["error", "ok", "error", "ok"]
    errored = {m["name"]: m for m in summary["monitors"] if m["status"] == "error"}
    assert errored["c"]["error"].startswith("no events for model 'gone' in window 2026-11-19")
    assert errored["c"]["error_type"] == "NoEvents"
    assert errored["d"]["error_type"] == "ClusterError"
    assert set(errored["d"]) == set(summary["monitors"][1]) | {"error", "error_type"}


def test_a_bug_in_a_trace_is_not_hidden_as_a_monitor_error():
    def run_trace(monitor):
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        check(parse_config("monitors: [{name: a, model: fraud, min: 0.9}]"), run_trace)


def test_a_monitor_model_is_checked_when_the_config_is_read():
    with pytest.raises(UsageError, match=r"monitor #1 \(x\): model:"):
        parse_config("monitors: [{name: x, model: 'fraud*', min: 0.9}]")
