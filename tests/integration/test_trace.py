"""`mlmon trace` on a real Elasticsearch: each scenario's incident is found, healthy stays quiet.

Each scenario runs once per module (30,000 predictions and their actuals
through the SDK, the baseline registered first so events arrive tagged);
the tests then trace it through the CLI and check the report against what
the simulator injected.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import forget_model, register_training, run_mlmon, same_report, unique_model
from mlmon.es.join import join_pending
from mlmon.simulate.emit import emit
from mlmon.simulate.run import build_traffic

END = datetime(2026, 11, 20, tzinfo=timezone.utc)
WINDOW = "2026-11-13T00:00:00Z..2026-11-20T00:00:00Z"
EVENTS = 30_000


mlmon = run_mlmon


def load_scenario(client, scenario: str, folder: Path, *, sink: str = "elasticsearch") -> str:
    """Simulate ``scenario`` under a fresh model name; returns the name."""
    name = unique_model(scenario[:8])
    traffic = build_traffic(scenario, events=EVENTS, days=7, seed=7, end=END, model=name)
    register_training(client, traffic, folder)
    if sink == "elasticsearch":
        emit(traffic, sink="elasticsearch", model=name)
        join_pending(client, model=name)
    else:
        with (folder / f"{name}.jsonl").open("w") as stream:
            emit(traffic, sink="stdout", model=name, stream=stream)
    return name


def trace_json(name: str, folder: Path, *extra: str) -> dict:
    out = folder / f"{name}-{len(extra)}.json"
    result = mlmon(
        "trace", "--model", name, "--window", WINDOW, "--format", "json", "-o", str(out), *extra
    )
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("trace")


@pytest.fixture(scope="module")
def scenario_models(es, folder):
    names = {}
    try:
        for scenario in ("fraud-incident", "healthy", "label-issue", "gradual-drift"):
            names[scenario] = load_scenario(es, scenario, folder)
        yield names
    finally:
        for name in names.values():
            forget_model(es, name)


def test_fraud_incident_top_slice_and_root_causes(scenario_models, folder):
    report = trace_json(scenario_models["fraud-incident"], folder)
    overall = report["overall"]
    assert overall["metric"] == "accuracy"
    assert overall["baseline"] - overall["current"] > 0.03
    top = report["slices"][0]
    assert top["filters"].get("merchant_name") == "scammeds.com"
    assert set(top["filters"]) <= {"merchant_name", "state"}
    assert top["current"] < 0.2 and top["baseline"] > 0.9
    assert top["cause"]["kind"] == "quality" and report["root_causes"][0]["slice"] == top["filters"]
    for later in report["slices"][1:]:  # ranked without scammeds.com: not a piece of it again
        assert later["filters"].get("merchant_name") != "scammeds.com"
        assert {"merchant_name": "scammeds.com"} in later["residual"]["without"]
        assert later["residual"]["labelled"] >= 100
    causes = {(c["kind"], c["feature"]) for c in report["root_causes"]}
    assert ("quality", "merchant_name") in causes  # unseen merchant
    assert ("quality", "account_age_days") in causes  # the NA spike
    unseen = next(c for c in report["root_causes"] if c["feature"] == "merchant_name")
    assert "unseen" in unseen["evidence"] and "scammeds.com" in unseen["evidence"]
    slow = report["latency"]["findings"]
    assert [f["version"] for f in slow] == ["v2"] and slow[0]["ratio"] > 3
    # the drop shows over time: the sliding window ends well below where it started
    timeline = report["timeline"]
    assert timeline[0]["sliding"] - timeline[-1]["sliding"] > 0.05


def test_healthy_raises_no_alarm(scenario_models, folder):
    report = trace_json(scenario_models["healthy"], folder)
    assert report["slices"] == []
    assert report["root_causes"] == []
    assert not [d["feature"] for d in report["drift"] if d["drifted"]]
    assert not [q["feature"] for q in report["quality"] if q["issues"]]
    assert "steady" in report["headline"]


def test_label_issue_is_named_a_label_issue_not_drift(scenario_models, folder):
    report = trace_json(scenario_models["label-issue"], folder)
    kinds = [c["kind"] for c in report["root_causes"]]
    assert kinds and kinds[0] == "label"
    assert "drift" not in kinds
    first = report["root_causes"][0]
    assert first["slice"].get("zip_code") == "94107" or first["slice"].get("state") == "CA"


def test_gradual_drift_flags_the_drifting_feature(scenario_models, folder):
    report = trace_json(scenario_models["gradual-drift"], folder)
    drifted = [d["feature"] for d in report["drift"] if d["drifted"]]
    assert drifted == ["amount"]
    amount = next(d for d in report["drift"] if d["feature"] == "amount")
    assert amount["test"] == "ks" and amount["wasserstein"] > 0
    assert any(c["kind"] == "drift" and c["feature"] == "amount" for c in report["root_causes"])


def test_version_and_window_baselines(scenario_models, folder):
    name = scenario_models["fraud-incident"]
    canary = trace_json(name, folder, "--version", "v2", "--baseline", "version:v1")
    assert canary["baseline"]["kind"] == "version"
    assert canary["latency"]["findings"][0]["version"] == "v2"
    earlier = trace_json(
        name,
        folder,
        "--window",
        "2026-11-17T00:00:00Z..2026-11-20T00:00:00Z",
        "--baseline",
        "window:2026-11-13T00:00:00Z..2026-11-15T00:00:00Z",
    )
    assert earlier["baseline"]["kind"] == "window"
    assert earlier["slices"][0]["filters"].get("merchant_name") == "scammeds.com"


def test_reports_render_in_every_format(scenario_models, folder):
    name = scenario_models["fraud-incident"]
    for fmt in ("text", "md", "html"):
        out = folder / f"report.{fmt}"
        result = mlmon(
            "trace", "--model", name, "--window", WINDOW, "--format", fmt, "-o", str(out)
        )
        assert result.returncode == 0, result.stderr
        body = out.read_text()
        assert "scammeds.com" in body
    html = (folder / "report.html").read_text()
    assert html.count("<svg") >= 3
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html


def test_check_exits_1_on_breach_with_a_json_summary(scenario_models, folder):
    config = folder / "monitors.yml"
    config.write_text(
        f"defaults: {{window: '{WINDOW}', baseline: training}}\n"
        "monitors:\n"
        f"  - {{name: incident-accuracy, model: {scenario_models['fraud-incident']}, "
        "min: 0.93}\n"
        f"  - {{name: incident-na, model: {scenario_models['fraud-incident']}, "
        "quality: {max_missing_rate: 0.05}}\n"
        f"  - {{name: healthy-accuracy, model: {scenario_models['healthy']}, max_drop: 0.02}}\n"
        f"  - {{name: healthy-drift, model: {scenario_models['healthy']}, drift: {{}}}}\n"
    )
    result = mlmon("check", "--config", str(config))
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    status = {m["name"]: m["status"] for m in summary["monitors"]}
    assert status == {
        "incident-accuracy": "breach",
        "incident-na": "breach",
        "healthy-accuracy": "ok",
        "healthy-drift": "ok",
    }
    assert summary["traces"] == 2  # one trace per model, shared by its monitors


def test_elasticsearch_and_pandas_give_the_same_report(es, folder):
    from mlmon._ingest import ingest_file

    name = load_scenario(es, "fraud-incident", folder, sink="stdout")
    try:
        events = folder / f"{name}.jsonl"
        ingest_file(es, events)
        from_es = trace_json(name, folder)
        from_file = trace_json(name, folder, "--events", str(events))
    finally:
        forget_model(es, name)
    assert from_es["backend"] == "elasticsearch" and from_file["backend"] == "pandas"
    for key in (
        "overall",
        "slices",
        "slices_considered",
        "drift",
        "prediction_drift",
        "quality",
        "root_causes",
        "timeline",
    ):
        assert (
            from_es[key] == pytest.approx(from_file[key])
            if isinstance(from_es[key], float)
            else same_report(from_es[key], from_file[key])
        ), key
    # percentiles: Elasticsearch's are t-digest estimates, pandas' exact
    for version, measures in from_file["latency"]["by_version"].items():
        for measure, values in measures.items():
            for p, exact in values.items():
                estimate = from_es["latency"]["by_version"][version][measure][p]
                assert estimate == pytest.approx(exact, rel=0.03), (version, measure, p)


def test_bad_arguments_are_one_line_and_exit_2(scenario_models):
    name = scenario_models["healthy"]
    cases = [
        (("--model", "nobody-here", "--window", WINDOW), "no profile named"),
        (("--model", name, "--window", "yesterday..now"), "cannot read time"),
        (("--model", name, "--window", WINDOW, "--baseline", "validation"), "no profile named"),
        (("--model", name, "--window", WINDOW, "--metric", "bleu"), "--metric"),
    ]
    for args, message in cases:
        result = mlmon("trace", *args)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    # an empty window is no data, not bad input: its own line and exit code
    empty = mlmon("trace", "--model", name, "--window", "2030-01-01T00:00Z..2030-01-02T00:00Z")
    assert empty.returncode == 4, empty.stderr
    assert empty.stderr == (
        f"mlmon: error: no events for model {name!r} in window "
        "2030-01-01T00:00:00.000Z..2030-01-02T00:00:00.000Z\n"
    )


def test_a_down_cluster_is_one_line_and_exit_3():
    result = mlmon("trace", "--model", "fraud", env={"MLMON_ES_URL": "http://127.0.0.1:9"})
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr


def test_a_failed_aggregation_is_a_cluster_error_not_a_traceback(es, model):
    from mlmon.analysis.dimensions import Dimension
    from mlmon.analysis.source import BucketRequest, Scope
    from mlmon.errors import ClusterError
    from mlmon.sources.elasticsearch import ElasticsearchSource

    index = f"mlmon-predictions-{model}-2026.11"
    es.indices.create(index=index, mappings={"properties": {"features.t": {"type": "text"}}})
    es.index(
        index=index,
        document={
            "event": {"kind": "prediction"},
            "model": {"name": model},
            "features": {"t": "a"},
        },
        refresh=True,
    )
    source = ElasticsearchSource(es, Scope(model, None, None, None))
    with pytest.raises(ClusterError, match=r"aggregation over features\.t failed"):
        source.buckets([BucketRequest((Dimension("t", "features.t", "categorical"),))])


def test_sampled_crosses_on_elasticsearch_find_the_same_incident(es, scenario_models):
    """random_sampler estimates the crosses, the leaders are recounted exactly: same answer."""
    from dataclasses import replace

    from mlmon._trace_request import TraceRequest
    from mlmon._trace_request import run as trace_run
    from mlmon.analysis.trace import TraceSettings

    name = scenario_models["fraud-incident"]
    settings = TraceSettings()

    def traced(**slice_settings):
        chosen = replace(settings, slices=replace(settings.slices, **slice_settings))
        request = TraceRequest(model=name, window=WINDOW, baseline="training", settings=chosen)
        return trace_run(request, client_factory=lambda: es)

    exact = traced()
    sampled = traced(sample_above=10_000, sample_rows=4_000)
    assert sampled.stats.slices_sampled and not exact.stats.slices_sampled
    assert sampled.stats.slices_rescored_exactly > 0
    assert sampled.slices[0].filters == exact.slices[0].filters
    assert sampled.slices[0].current == pytest.approx(exact.slices[0].current)
    exact_top = [json.dumps(k, sort_keys=True) for k, _ in exact.stats.slice_top_k[:3]]
    sampled_top = [json.dumps(k, sort_keys=True) for k, _ in sampled.stats.slice_top_k[:3]]
    assert sampled_top == exact_top


def test_answers_read_for_accuracy_leave_out_only_the_positive_class_cells(es, scenario_models):
    """A request read for accuracy asks the node for no positive-class counts; every other
    count (numeric bins and their missing bucket included) is the full answer's."""
    from dataclasses import replace

    from mlmon.analysis.dimensions import from_profile
    from mlmon.analysis.source import BucketRequest, Scope
    from mlmon.baseline.store import load_profile
    from mlmon.sources.elasticsearch import ElasticsearchSource

    name = scenario_models["fraud-incident"]
    dims = from_profile(load_profile(es, model=name, name="training"))
    numeric = [d for d in dims if d.kind == "numeric"]
    categorical = [d for d in dims if d.kind == "categorical"]
    assert numeric and categorical
    start, end = WINDOW.split("..")
    source = ElasticsearchSource(es, Scope(name, None, start, end), positive="fraud")
    requests = [BucketRequest((d,)) for d in dims] + [
        BucketRequest((categorical[0], numeric[0])),
        BucketRequest((numeric[0], categorical[0])),
    ]
    full = source.buckets(requests)
    lean = source.buckets([replace(r, metric="accuracy") for r in requests])
    assert source.buckets([replace(r, metric="precision") for r in requests]) == full
    assert any(s.tp for answer in full for s in answer.values())
    assert any(key[0][1] == "(missing)" for answer in full for key in answer)
    for whole, accuracy in zip(full, lean, strict=True):
        assert accuracy.keys() == whole.keys()
        for key, stats in whole.items():
            assert replace(stats, tp=0, predicted_positive=0, actual_positive=0) == accuracy[key]


def test_a_merged_sampled_search_counts_what_lone_searches_do(es, scenario_models):
    """random_sampler keeps the same documents whatever the query, so crosses sharing
    their first feature go out as one sampled search, with the counts each lone search
    (narrowed on every level) would have returned."""
    from mlmon.analysis.dimensions import from_profile
    from mlmon.analysis.source import BucketRequest, Scope
    from mlmon.baseline.store import load_profile
    from mlmon.sources.elasticsearch import ElasticsearchSource

    name = scenario_models["fraud-incident"]
    dims = from_profile(load_profile(es, model=name, name="training"))
    first, other = [d for d in dims if d.kind == "categorical"][:2]
    number = next(d for d in dims if d.kind == "numeric")
    start, end = WINDOW.split("..")
    source = ElasticsearchSource(es, Scope(name, None, start, end))
    singles = source.buckets([BucketRequest((d,)) for d in (first, other, number)])

    def some(answer: dict, count: int) -> frozenset[str]:
        return frozenset(sorted(key[0][1] for key in answer)[:count])

    requests = [
        BucketRequest((first, other), (some(singles[0], 3), some(singles[1], 3)), sample=4_000),
        BucketRequest((first, number), (some(singles[0], 3), some(singles[2], 4)), sample=4_000),
    ]
    source.total()  # the window's size, which the sampling probability needs, asked first
    searches, sampled = source.requests, source.sampled
    merged = source.buckets(requests)
    assert (source.requests, source.sampled) == (searches + 1, sampled + 1)  # one search
    assert all(merged)
    assert merged == [source.buckets([r])[0] for r in requests]


def test_kept_value_filters_under_the_sampler_count_what_the_narrowed_query_does(
    es, scenario_models
):
    """A sampled search filters the sample on the kept values (so the filters run on
    sampled documents only); its counts are those of the same sampler under a query
    narrowed on the kept values, as the searches were sent before."""
    from mlmon.analysis.dimensions import from_profile
    from mlmon.analysis.source import BucketRequest, Scope
    from mlmon.baseline.store import load_profile
    from mlmon.sources.elasticsearch import SAMPLER_SEED, ElasticsearchSource
    from mlmon.sources.es_query import level_aggs, walk_buckets

    name = scenario_models["fraud-incident"]
    dims = from_profile(load_profile(es, model=name, name="training"))
    first, other = [d for d in dims if d.kind == "categorical"][:2]
    start, end = WINDOW.split("..")
    source = ElasticsearchSource(es, Scope(name, None, start, end))
    singles = source.buckets([BucketRequest((d,)) for d in (first, other)])
    kept = tuple(frozenset(sorted(key[0][1] for key in answer)[:3]) for answer in singles)
    request = BucketRequest((first, other), kept, sample=4_000)
    [answer] = source.buckets([request])

    plan = source._plan(request)
    query, filters = plan.sampled(alone=True)
    narrowed = {**query, "bool": {**query["bool"], "filter": [*query["bool"]["filter"], *filters]}}
    sampler = {"probability": plan.probability, "seed": SAMPLER_SEED}
    levels = level_aggs("d", first, kept[0], plan.below)
    aggs = {"s": {"random_sampler": sampler, "aggs": levels}}
    found = es.search(index=source.index, size=0, query=narrowed, aggs=aggs).body
    expected = walk_buckets(found["aggregations"]["s"], "d", (first, other), (), "classification")
    assert filters and answer and answer == expected
