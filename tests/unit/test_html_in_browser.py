"""The HTML report in a real browser (headless Chromium): labels fit, charts have content.

A trace of the fraud incident (pandas backend, window against window) is
rendered, opened in Chromium, screenshotted into ``tests/output/`` and measured
from the DOM: every slice label inside its own box (no horizontal overflow, left
of its bars), every bar and figure inside its row, axis labels inside their
chart, no table cell or the page wider than its box, and every chart with
content. The same with the longest labels a report can carry (a three-feature
cross with long values and an unbreakable token), and for a window without
actuals, whose timeline is CBPE's estimate with its band.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from test_window_and_report import NOW

from browser import OUTPUT, measure, screenshot
from mlmon._trace_request import TraceRequest, run
from mlmon.report import content
from mlmon.report.render import render

WINDOW = "2026-11-23T12:00Z..2026-11-25T12:00Z"
BASELINE = "window:2026-11-21T12:00Z..2026-11-22T12:00Z"

PROBE = """
const box = (e) => e.getBoundingClientRect();
const out = {labels: [], outside: [], charts: [], axis: [], cells: []};
for (const row of document.querySelectorAll('.bars .row')) {
  const label = row.querySelector('.label'), track = row.querySelector('.track');
  out.labels.push({text: label.textContent, scroll: label.scrollWidth,
                   client: label.clientWidth, right: box(label).right, bars: box(track).left});
  const edge = box(row);
  for (const el of row.querySelectorAll('.bar, .figure')) {
    const b = box(el);
    if (b.left < edge.left - 0.5 || b.right > edge.right + 0.5) out.outside.push(el.textContent);
  }
}
for (const chart of document.querySelectorAll('.chart')) {
  out.charts.push({
    key: chart.dataset.chart,
    height: box(chart).height,
    bars: [...chart.querySelectorAll('.bar')].filter((b) => box(b).width > 0).length,
    lines: [...chart.querySelectorAll('polyline')]
      .filter((p) => p.points.numberOfItems >= 2).length,
    bands: chart.querySelectorAll('polygon').length,
  });
}
for (const svg of document.querySelectorAll('.chart svg[role=img]')) {
  const edge = box(svg);
  for (const text of svg.querySelectorAll('text')) {
    const b = box(text);
    if (b.left < edge.left - 0.5 || b.right > edge.right + 0.5) out.axis.push(text.textContent);
  }
}
for (const cell of document.querySelectorAll('td, th')) {
  if (cell.scrollWidth > cell.clientWidth + 1) out.cells.push(cell.textContent.slice(0, 80));
}
const page = document.documentElement;
out.page = {scroll: page.scrollWidth, client: page.clientWidth, height: page.scrollHeight};
return out;
"""

LONG = {
    "merchant_name": "very-long-merchant-name-of-an-online-pharmacy-network.example.com",
    "device_type": "ios-tablet-with-an-unusually-descriptive-user-agent",
    "state": "CA" + "x" * 80,  # one unbreakable token wider than the label column
}


@pytest.fixture(scope="module")
def events(tmp_path_factory) -> Path:
    from mlmon.simulate.emit import emit
    from mlmon.simulate.run import build_traffic

    folder = tmp_path_factory.mktemp("browser")
    traffic = build_traffic("fraud-incident", events=4000, days=4, seed=3, end=NOW, model="fraud")
    path = folder / "events.jsonl"
    with path.open("w") as stream:
        emit(traffic, sink="stdout", model="fraud", stream=stream)
    return path


@pytest.fixture(scope="module")
def incident(events):
    return trace(events)


def trace(events: Path):
    request = TraceRequest(model="fraud", window=WINDOW, baseline=BASELINE, events=events)
    return run(request, client_factory=lambda: pytest.fail("no cluster for --events"))


def open_in_browser(report, name: str) -> dict:
    """Render, measure and screenshot; the PNG stays in tests/output/ for a person to look at."""
    page = OUTPUT / f"{name}.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(render(report, "html"))
    layout = measure(page, PROBE)
    png = screenshot(page, OUTPUT / f"{name}.png", height=min(layout["page"]["height"], 8000))
    print(f"screenshot: {png}")
    return layout


def assert_fits(layout: dict) -> None:
    assert layout["labels"], "no bar labels on the page"
    for label in layout["labels"]:
        assert label["scroll"] <= label["client"], f"label overflows its box: {label}"
        assert label["right"] <= label["bars"], f"label runs over its bars: {label}"
    assert not layout["outside"], f"bars or figures outside their row: {layout['outside']}"
    assert not layout["axis"], f"axis labels outside their chart: {layout['axis']}"
    assert not layout["cells"], f"table cells wider than their box: {layout['cells']}"
    assert layout["page"]["scroll"] <= layout["page"]["client"], "the page scrolls sideways"
    for chart in layout["charts"]:
        assert chart["height"] > 20 and (chart["bars"] or chart["lines"]), f"empty: {chart}"


def test_report_of_an_incident_fits_and_every_chart_has_content(incident):
    report = incident
    assert report.slices, "the incident should call slices (their chart is what is checked)"
    layout = open_in_browser(report, "fraud-incident")
    assert_fits(layout)
    keys = {chart["key"] for chart in layout["charts"]}
    assert {"slices", "timeline", "drift"} <= keys, keys
    shown = {label["text"] for label in layout["labels"]}
    assert {content.filters(s.filters) for s in report.slices} <= shown  # whole labels


def test_the_longest_labels_wrap_inside_their_boxes(incident):
    report = incident
    longest = replace(report.slices[0], filters=LONG)
    layout = open_in_browser(
        replace(report, slices=(longest, *report.slices[1:])), "fraud-incident-long-labels"
    )
    assert_fits(layout)
    assert any(LONG["state"] in label["text"] for label in layout["labels"])  # whole, not cut


def test_an_estimated_timeline_draws_its_band(events, tmp_path):
    withheld = tmp_path / "predictions.jsonl"
    with events.open() as lines:
        withheld.write_text("".join(x for x in lines if '"kind":"actual"' not in x))
    report = trace(withheld)
    assert report.overall.estimated
    layout = open_in_browser(report, "fraud-incident-estimated")
    timeline = [c for c in layout["charts"] if c["key"] == "timeline"]
    assert timeline and timeline[0]["lines"] == 3 and timeline[0]["bands"] == 1
    for chart in layout["charts"]:
        assert chart["height"] > 20 and (chart["bars"] or chart["lines"]), f"empty: {chart}"
    assert not layout["axis"] and not layout["cells"]


def test_features_by_importance_draw_beside_the_slices(tmp_path):
    """The attribution-shift scenario (LightGBM contributions): the importance chart fits."""
    from mlmon.simulate.emit import emit
    from mlmon.simulate.run import build_traffic

    traffic = build_traffic("attribution-shift", events=4000, days=4, seed=3, end=NOW)
    path = tmp_path / "events.jsonl"
    with path.open("w") as stream:
        emit(traffic, sink="stdout", model="fraud", stream=stream)
    request = TraceRequest(
        model="fraud",
        window="2026-11-24T00:00Z..2026-11-25T12:00Z",
        baseline="window:2026-11-21T12:00Z..2026-11-23T00:00Z",
        events=path,
    )
    report = run(request, client_factory=lambda: pytest.fail("no cluster for --events"))
    assert report.importance and report.attribution_drift
    layout = open_in_browser(report, "attribution-shift")
    assert_fits(layout)
    (chart,) = [c for c in layout["charts"] if c["key"] == "importance"]
    top = max(max(r.current or 0, r.baseline or 0) for r in report.importance)
    visible = [  # bars of features the model hardly uses are narrower than a pixel
        v for r in report.importance for v in (r.current, r.baseline) if v and v >= 0.01 * top
    ]
    assert len(visible) <= chart["bars"] <= 2 * len(report.importance)
    shown = {label["text"] for label in layout["labels"]}
    assert {row.feature for row in report.importance} <= shown
