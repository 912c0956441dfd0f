"""The JSON of a trace report keeps the keys ARCHITECTURE documents, and only known others.

ARCHITECTURE marks the keys of `mlmon trace --format json` stable; dashboards,
monitors and users read them. A report (pandas backend, a small fraud
incident) is turned into JSON by the one function that does it, and its key
tree is compared with the documented tree and with the full list of extra
keys, so a key added, renamed or dropped fails here first.
"""

from __future__ import annotations

import json

import pytest

from mlmon.analysis.result import to_json
from mlmon.report.render import render

#: `mlmon trace --format json` in ARCHITECTURE ("stable keys, more may be added").
DOCUMENTED = {
    "model",
    "window",
    "baseline",
    "overall",
    "overall.metric",
    "overall.current",
    "overall.baseline",
    "slices",
    "slices[].filters",
    "slices[].impact",
    "slices[].current",
    "slices[].baseline",
    "slices[].volume_share",
    "drift",
    "drift[].feature",
    "drift[].psi",
    "drift[].js",
    "drift[].test",
    "drift[].p_value",
    "drift[].drifted",
    "quality",
    "quality[].feature",
    "quality[].missing_rate",
    "quality[].baseline_missing_rate",
    "quality[].unseen_rate",
    "root_causes",
    "root_causes[].kind",
    "root_causes[].feature",
    "root_causes[].slice",
    "root_causes[].evidence",
}

_SLICE = {
    "filters", "impact", "arize_impact", "current", "baseline", "baseline_from",
    "volume_share", "count", "labelled", "p_value", "significant",
}  # fmt: skip
_DRIFT = {
    "feature", "kind", "psi", "js", "baseline_count", "current_count", "test", "statistic",
    "p_value", "ks", "wasserstein", "distribution", "distribution.buckets",
    "distribution.baseline", "distribution.current", "largest_shifts",
    "largest_shifts[].bucket", "largest_shifts[].baseline_share",
    "largest_shifts[].current_share", "p_adjusted", "drifted",
}  # fmt: skip

_IMPORTANCE = {
    "feature", "rank", "current", "baseline", "baseline_rank", "change", "count",
    "baseline_count", "t", "p_adjusted", "drifted",
}  # fmt: skip
_ATTRIBUTION_DRIFT = {
    "feature", "current", "baseline", "change", "rank", "baseline_rank", "p_adjusted", "evidence",
}  # fmt: skip
#: Only for models that log attributions (a model without them gets none of these keys).
ATTRIBUTIONS = {
    "importance",
    *(f"importance[].{k}" for k in _IMPORTANCE),
    "attribution_drift",
    *(f"attribution_drift[].{k}" for k in _ATTRIBUTION_DRIFT),
}

_ESTIMATE = {
    "", ".count", ".method", ".calibration", ".threshold", ".sigmas", ".expected",
    *(f".expected.{k}" for k in ("tp", "fp", "fn", "tn")),
    *(f".{m}" for m in ("accuracy", "precision", "recall", "f1", "roc_auc")),
    *(
        f".{m}.{k}"
        for m in ("accuracy", "precision", "recall", "f1", "roc_auc")
        for k in ("value", "sampling_error", "lower", "upper", "estimated")
    ),
}  # fmt: skip
#: CBPE's estimates, where the window (or a window baseline) has too few actuals.
ESTIMATES = {
    *(f"{where}{k}" for where in ("overall.estimate", "overall.baseline_estimate",
                                  "timeline[].estimate") for k in _ESTIMATE),
    "timeline[].estimated",
}  # fmt: skip

#: Every key the report has ever carried beside the documented ones.
EXTRA = {
    "version",
    "window.start",
    "window.end",
    "baseline.kind",
    "baseline.description",
    "baseline.name",
    "baseline.profile_id",
    "baseline.rows",
    "baseline.start",
    "baseline.end",
    "baseline.version",
    "backend",
    "positive_label",
    "notes",
    "events_file",
    *(f"events_file.{k}" for k in ("path", "lines", "invalid", "unjoined_actuals")),
    "events_file.first_errors",
    *(
        f"overall.{k}"
        for k in (
            "estimated",
            "count",
            "labelled",
            "baseline_count",
            "baseline_labelled",
            "metrics",
            "baseline_metrics",
            "note",
            "baseline_estimated",
        )
    ),
    "timeline",
    *(
        f"timeline[].{k}"
        for k in ("start", "count", "labelled", "current", "cumulative", "sliding")
    ),
    *(f"slices[].{k}" for k in _SLICE),
    "slices_considered",
    *(f"slices_considered[].{k}" for k in _SLICE),
    "slices_explained",
    "slices_explained[].filters",
    "slices_explained[].explained_by",
    *(f"drift[].{k}" for k in _DRIFT),
    "prediction_drift",
    *(f"prediction_drift[].{k}" for k in _DRIFT),
    "quality[].issues",
    "quality[].baseline_unseen_rate",
    "quality[].out_of_range_rate",
    "quality[].baseline_out_of_range_rate",
    "quality[].top_unseen_values",
    "latency",
    "latency.by_version",
    "latency.metric_by_version",
    "latency.findings",
    *(
        f"latency.findings[].{k}"
        for k in ("version", "compared_with", "p95_ms", "baseline_p95_ms", "ratio", "evidence")
    ),
    "root_causes[].tested",
    *(f"{group}[].residual" for group in ("slices", "slices_considered")),
    *(
        f"{group}[].residual.{k}"
        for group in ("slices", "slices_considered")
        for k in ("impact", "current", "baseline", "labelled", "p_value", "without")
    ),
    *(f"slices[].cause{k}" for k in ("", ".kind", ".feature", ".evidence")),
    *ESTIMATES,
    "headline",
    "upstream",
    *(
        f"upstream[].{k}"
        for k in (
            "feature",
            "model",
            "version",
            "reason",
            "metric",
            "current",
            "baseline",
            "prediction_psi",
            "evidence",
        )
    ),
    "importance",
    *(f"importance[].{k}" for k in _IMPORTANCE),
    "attribution_drift",
    *(f"attribution_drift[].{k}" for k in _ATTRIBUTION_DRIFT),
    "stats",
    *(
        f"stats.{k}"
        for k in (
            "slices_scored",
            "slice_requests",
            "slice_requests_by_level",
            "slice_top_k",
            "slices_sampled",
            "slices_rescored_exactly",
        )
    ),
}

#: Keys that appear only when they hold something (or only for some baselines or data).
OPTIONAL = {
    *ATTRIBUTIONS,
    "upstream",
    "notes",
    "events_file",
    "events_file.path",
    "events_file.lines",
    "events_file.invalid",
    "events_file.unjoined_actuals",
    "events_file.first_errors",
    "overall.note",
    "overall.baseline_estimated",
    "baseline.name",
    "baseline.profile_id",
    "baseline.rows",
    "baseline.start",
    "baseline.end",
    "baseline.version",
    "slices_explained",
    "slices_explained[].filters",
    "slices_explained[].explained_by",
    "stats",
    *(f"stats.{k}" for k in ("slices_scored", "slice_requests", "slice_requests_by_level")),
    *(f"stats.{k}" for k in ("slice_top_k", "slices_sampled", "slices_rescored_exactly")),
    "quality[].top_unseen_values",
    "drift[].ks",
    "drift[].wasserstein",
    "prediction_drift[].ks",
    "prediction_drift[].wasserstein",
    "latency.findings[].version",
    "latency.findings[].compared_with",
    "latency.findings[].p95_ms",
    "latency.findings[].baseline_p95_ms",
    "latency.findings[].ratio",
    "latency.findings[].evidence",
    # the verdict and residual of a reported slice; tested: only for a slice's cause
    "root_causes[].tested",
    *(f"{group}[].residual" for group in ("slices", "slices_considered")),
    *(
        f"{group}[].residual.{k}"
        for group in ("slices", "slices_considered")
        for k in ("impact", "current", "baseline", "labelled", "p_value", "without")
    ),
    *(f"slices[].cause{k}" for k in ("", ".kind", ".feature", ".evidence")),
    *ESTIMATES,
}

#: Objects whose keys are data (feature names, metric names, versions, values), not schema.
DATA_KEYED = {
    "slices[].filters",
    "slices_considered[].filters",
    "slices_explained[].filters",
    "slices_explained[].explained_by",
    "root_causes[].slice",
    "overall.metrics",
    "overall.baseline_metrics",
    "latency.by_version",
    "latency.metric_by_version",
    "quality[].top_unseen_values",
    "stats.slice_top_k",
    "slices[].residual.without[]",
    "slices_considered[].residual.without[]",
}


def key_tree(value, path: str = "") -> set[str]:
    """Every key path of a JSON value: ``a.b`` for objects, ``a[].b`` for list items."""
    out: set[str] = set()
    if path in DATA_KEYED:
        return out
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else key
            out.add(child)
            out |= key_tree(item, child)
    elif isinstance(value, list):
        for item in value:
            out |= key_tree(item, f"{path}[]")
    return out


def present(keys: set[str], data: dict) -> set[str]:
    """The keys a report can show: those of list items only where the list has items."""
    return {k for k in keys if "[]" not in k or data.get(k.split("[]")[0])}


@pytest.fixture(scope="module")
def events(tmp_path_factory):
    """A small fraud incident as a JSON-lines file (v1 and a slow v2 canary, with actuals)."""
    from test_window_and_report import NOW

    from mlmon.simulate.emit import emit
    from mlmon.simulate.run import build_traffic

    traffic = build_traffic("fraud-incident", events=4000, days=4, seed=3, end=NOW, model="fraud")
    path = tmp_path_factory.mktemp("keys") / "events.jsonl"
    with path.open("w") as stream:
        emit(traffic, sink="stdout", model="fraud", stream=stream)
    return path


@pytest.mark.parametrize(
    ("baseline", "version", "actuals"),
    [
        ("window:2026-11-21T12:00Z..2026-11-22T12:00Z", None, True),
        ("version:v1", "v2", True),
        ("window:2026-11-21T12:00Z..2026-11-22T12:00Z", None, False),
    ],
    ids=["window", "version", "estimated"],
)
def test_json_key_tree_is_the_documented_one_plus_known_extras(
    events, baseline, version, actuals, tmp_path
):
    from mlmon._trace_request import TraceRequest, run

    if not actuals:  # the same predictions, actuals withheld: CBPE's keys appear
        withheld = tmp_path / "predictions.jsonl"
        with events.open() as lines:
            withheld.write_text("".join(x for x in lines if '"kind":"actual"' not in x))
        events = withheld
    request = TraceRequest(
        model="fraud",
        version=version,
        window="2026-11-23T12:00Z..2026-11-25T12:00Z",
        baseline=baseline,
        events=events,
    )
    report = run(request, client_factory=lambda: pytest.fail("no cluster for --events"))
    data = to_json(report)
    assert data == json.loads(render(report, "json"))  # the renderer writes exactly this
    tree = key_tree(data)
    documented = present(DOCUMENTED, data)
    assert documented <= tree, f"documented keys missing: {sorted(documented - tree)}"
    assert tree <= DOCUMENTED | EXTRA, f"undocumented keys: {sorted(tree - DOCUMENTED - EXTRA)}"
    always = present((DOCUMENTED | EXTRA) - OPTIONAL, data)
    assert always <= tree, f"keys that should always be there: {sorted(always - tree)}"
    if version is None and actuals:  # this incident has called slices and causes to check
        assert data["slices"] and data["root_causes"] and data["drift"]
    if not actuals:
        assert present(ESTIMATES, data) <= tree, sorted(present(ESTIMATES, data) - tree)
    assert list(data)[:4] == ["model", "version", "window", "baseline"]
    assert not (ATTRIBUTIONS & tree)  # this model logs no attributions: no key of theirs


def test_a_model_with_attributions_adds_only_the_documented_importance_keys(tmp_path):
    """The attribution-shift scenario (LightGBM contributions), window against window."""
    from test_window_and_report import NOW

    from mlmon._trace_request import TraceRequest, run
    from mlmon.simulate.emit import emit
    from mlmon.simulate.run import build_traffic

    traffic = build_traffic("attribution-shift", events=4000, days=4, seed=3, end=NOW)
    events = tmp_path / "events.jsonl"
    with events.open("w") as stream:
        emit(traffic, sink="stdout", model="fraud", stream=stream)
    request = TraceRequest(
        model="fraud",
        window="2026-11-24T00:00Z..2026-11-25T12:00Z",
        baseline="window:2026-11-21T12:00Z..2026-11-23T00:00Z",
        events=events,
    )
    data = to_json(run(request, client_factory=lambda: pytest.fail("no cluster for --events")))
    tree = key_tree(data)
    assert tree <= DOCUMENTED | EXTRA, f"undocumented keys: {sorted(tree - DOCUMENTED - EXTRA)}"
    assert present(ATTRIBUTIONS, data) <= tree, sorted(present(ATTRIBUTIONS, data) - tree)
    assert data["importance"][0]["feature"] == "account_age_days"
    assert [d["feature"] for d in data["attribution_drift"]] == ["account_age_days"]
    assert list(data).index("importance") == list(data).index("prediction_drift") + 1
