"""Window and baseline arguments; the report renderers on a real (pandas-backend) report."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from mlmon._trace_request import TraceRequest, run
from mlmon.analysis.window import auto_interval, parse_baseline, parse_window
from mlmon.errors import UsageError
from mlmon.report.render import render

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def test_windows_relative_absolute_and_bare_durations():
    assert parse_window("now-7d..now", NOW).to_dict() == {
        "start": "2026-11-18T12:00:00.000Z",
        "end": "2026-11-25T12:00:00.000Z",
    }
    assert parse_window("24h", NOW).start == "2026-11-24T12:00:00.000Z"
    assert parse_window("2026-11-01T00:00Z..2026-11-02T00:00Z", NOW).seconds == 86400


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("yesterday", "write <start>..<end>"),
        ("now..now-1d", "ends before it starts"),
        ("2026-13-01..now", "cannot read time"),
    ],
)
def test_bad_windows_name_the_problem(text, message):
    with pytest.raises(UsageError) as caught:
        parse_window(text, NOW)
    assert message in str(caught.value)


def test_baselines():
    assert parse_baseline("training").name == "training"
    assert parse_baseline("version:v1").version == "v1"
    spec = parse_baseline("window:now-14d..now-7d", NOW)
    assert spec.kind == "window" and spec.window.end == "2026-11-18T12:00:00.000Z"
    for bad in ("", "version:"):
        with pytest.raises(UsageError):
            parse_baseline(bad)


def test_auto_interval_gives_about_28_points():
    assert auto_interval(7 * 86400) == "21600s"
    assert auto_interval(3600) == "300s"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A pandas-backend trace of a small fraud incident, window against window."""
    from mlmon.simulate.emit import emit
    from mlmon.simulate.run import build_traffic

    folder = tmp_path_factory.mktemp("report")
    traffic = build_traffic("fraud-incident", events=4000, days=4, seed=3, end=NOW, model="fraud")
    events = folder / "events.jsonl"
    with events.open("w") as stream:
        emit(traffic, sink="stdout", model="fraud", stream=stream)
    request = TraceRequest(
        model="fraud",
        window="2026-11-23T12:00Z..2026-11-25T12:00Z",
        baseline="window:2026-11-21T12:00Z..2026-11-22T12:00Z",
        events=events,
    )
    return run(request, client_factory=lambda: pytest.fail("no cluster for --events"))


def test_file_backend_needs_no_cluster_and_counts_its_lines(report):
    assert report.backend == "pandas"
    assert report.events_file.lines == 8000 and report.events_file.invalid == 0
    assert report.overall.count > 1500


def test_json_is_strict_and_has_the_stable_keys(report):
    data = json.loads(render(report, "json"))
    for key in ("model", "window", "baseline", "overall", "slices", "drift", "quality",
                "root_causes"):  # fmt: skip
        assert key in data
    assert {"metric", "current", "baseline"} <= set(data["overall"])
    assert "NaN" not in render(report, "json")


def test_markdown_text_and_html_carry_the_same_answer(report):
    headline = report.headline
    md, text, html = render(report, "md"), render(report, "text"), render(report, "html")
    assert headline.split(".")[0] in md and headline.split(".")[0] in text
    assert "| slice |" in md or "slice" in md
    assert html.startswith("<!doctype html>") and "<svg" in html
    assert "<script src=" not in html and "<link" not in html  # one self-contained file


def test_without_actuals_both_sides_are_estimated_and_marked(tmp_path, report):
    events = tmp_path / "predictions.jsonl"
    source = Path(report.events_file.path)
    events.write_text(
        "".join(line for line in source.open() if '"kind":"actual"' not in line.replace(" ", ""))
    )
    request = TraceRequest(
        model="fraud",
        window="2026-11-23T12:00Z..2026-11-25T12:00Z",
        baseline="window:2026-11-21T12:00Z..2026-11-22T12:00Z",
        events=events,
    )
    estimated = run(request, client_factory=lambda: pytest.fail("no cluster for --events"))
    overall = estimated.overall
    assert overall.estimated and overall.baseline_estimated
    assert overall.labelled == 0
    # on the healthy baseline window the estimate is close to the accuracy the actuals gave...
    assert overall.baseline == pytest.approx(report.overall.baseline, abs=0.03)
    # ...but it cannot see mistakes the model makes confidently (the new merchant): README says so
    assert overall.current > report.overall.current + 0.05
    assert estimated.slices == () and "estimate" in overall.note
    data = json.loads(render(estimated, "json"))
    assert data["overall"]["baseline_estimated"] is True and "slices_explained" not in data
    assert data["notes"] == [  # no profile: nothing calibrated the scores, and it says so
        "the estimate takes the raw scores as calibrated probabilities and 0.5 as the "
        "threshold: register a baseline with --score-column and labels to calibrate them",
        "slices need actuals in the window and a baseline with labels: skipped",
    ]
    band = data["overall"]["estimate"]["accuracy"]
    assert band["lower"] < overall.current < band["upper"] and band["estimated"] is True
    assert data["overall"]["estimate"]["calibration"] == "identity"
    assert data["overall"]["estimate"]["precision"]["value"] is None  # score's class unknown
    assert all(p["estimated"] and p["estimate"] for p in data["timeline"])
