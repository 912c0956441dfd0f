"""The JSON of `mlmon compare` has exactly the documented keys, paired and unpaired.

The keys are documented in the README ("Comparing two versions") and in
:mod:`mlmon.analysis.compare_result`; a key added, renamed or dropped fails here.
"""

from __future__ import annotations

import json

import pytest
from test_report_keys import key_tree, present

from mlmon.analysis.compare_result import to_json
from mlmon.report.compare import render

_SLICE = {
    "filters", "count", "volume_share", "disagreement_rate", "candidate", "against",
    "difference", "p_value", "significant", "direction", "impact",
}  # fmt: skip
DOCUMENTED = {
    "model", "candidate", "against", "window", "window.start", "window.end", "backend",
    "mode", "metric", "requests", "requests.paired", "requests.candidate", "requests.against",
    "notes", "agreement", "agreement.rate", "agreement.agree", "agreement.compared",
    "overall", *(f"overall.{k}" for k in (
        "metric", "candidate", "against", "difference", "count", "test", "significant")),
    *(f"overall.test.{k}" for k in (
        "name", "statistic", "p_value", "candidate_only", "against_only", "mean_difference")),
    "slices", "worse", "better",
    *(f"{group}[].{k}" for group in ("slices", "worse", "better") for k in _SLICE),
    "latency", "latency.measure", "latency.candidate", "latency.against",
    *(f"latency.{side}.{p}" for side in ("candidate", "against") for p in ("p50", "p95", "p99")),
    "latency.p95_difference_ms", "verdict",
}  # fmt: skip
#: Only when they hold something, or only in one mode or task.
OPTIONAL = {
    "notes", "agreement", "agreement.rate", "agreement.agree", "agreement.compared",
    "overall.test.candidate_only", "overall.test.against_only", "overall.test.mean_difference",
    "slices[].impact", "latency", "latency.measure", "latency.candidate", "latency.against",
    "latency.p95_difference_ms",
    *(f"latency.{side}.{p}" for side in ("candidate", "against") for p in ("p50", "p95", "p99")),
}  # fmt: skip
DATA_KEYED = {"slices[].filters", "worse[].filters", "better[].filters"}


@pytest.fixture(scope="module")
def events(tmp_path_factory):
    from test_window_and_report import NOW

    from mlmon.simulate.emit import emit
    from mlmon.simulate.run import build_traffic

    traffic = build_traffic("shadow", events=3000, days=2, seed=5, end=NOW, model="fraud")
    path = tmp_path_factory.mktemp("compare-keys") / "events.jsonl"
    with path.open("w") as stream:
        emit(traffic, sink="stdout", model="fraud", stream=stream)
    return path


@pytest.mark.parametrize(
    ("candidate", "against", "mode"),
    [("v2", "v1", "paired"), ("v1", "v2", "population")],
)
def test_compare_json_has_the_documented_keys(events, candidate, against, mode):
    from mlmon._compare_request import CompareRequest, run

    window = "2026-11-23T12:00Z..2026-11-25T12:00Z"  # the simulated traffic's two days
    request = CompareRequest(
        model="fraud", candidate=candidate, against=against, window=window, events=events
    )
    report = run(request, client_factory=lambda: pytest.fail("no cluster for --events"))
    assert report.mode == mode
    data = to_json(report)
    assert data == json.loads(render(report, "json"))
    tree = {k for k in key_tree(data) if not any(k.startswith(d + ".") for d in DATA_KEYED)}
    assert tree <= DOCUMENTED, f"undocumented keys: {sorted(tree - DOCUMENTED)}"
    always = present(DOCUMENTED - OPTIONAL, data)
    assert always <= tree, f"keys that should always be there: {sorted(always - tree)}"
    assert data["slices"] and data["worse"]
    for fmt in ("text", "md", "html"):
        assert report.verdict.split(";")[0] in render(report, fmt).replace("\n", " ")
