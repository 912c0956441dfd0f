"""`mlmon kibana validate` on a real index filled by `mlmon simulate --scenario fraud-incident`.

The model's traffic goes in through the CLI a user would run (simulate,
baseline register, tag, join); validation is scoped to that model, as the
dashboards' Model control would be. Broken copies of the committed NDJSON
show that validation fails for the right reason.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import forget_model, run_mlmon, unique_model
from mlmon.kibana.bundle import RULES, SAVED_OBJECTS, default_folder, saved_objects, to_ndjson
from mlmon.kibana.queries import layer_rows
from mlmon.kibana.spec import Dashboard, DateHistogram, Metric, Panel, Terms
from mlmon.kibana.structure import parse_ndjson
from mlmon.kibana.validate import dashboard_time_range, lens_request
from mlmon.schema.event import PREDICTIONS_INDEX_PATTERN, predictions_index

mlmon = run_mlmon


@pytest.fixture(scope="module")
def incident_model(es, tmp_path_factory):
    name = unique_model("kb")
    training = tmp_path_factory.mktemp("kibana") / "training.parquet"
    steps = (
        ("simulate", "--scenario", "fraud-incident", "--events", "8000", "--days", "6",
         "--model", name, "--training-file", str(training)),
        ("baseline", "register", "--model", name, "--version", "v1", "--label-column",
         "is_fraud", "--prediction-column", "predicted", "--score-column", "score",
         str(training)),
        ("tag", "--model", name),
        ("join", "--model", name),
    )  # fmt: skip
    try:
        for step in steps:
            result = mlmon(*step)
            assert result.returncode == 0, (step[0], result.stderr)
        yield name
    finally:
        forget_model(es, name)


def broken_copy(tmp_path: Path, edit) -> Path:
    """A copy of kibana/ whose saved objects went through ``edit(list_of_objects)``."""
    folder = tmp_path / "kibana"
    folder.mkdir()
    shutil.copy(default_folder() / RULES, folder / RULES)
    objects = [json.loads(line) for line in (default_folder() / SAVED_OBJECTS).open()]
    edit(objects)
    (folder / SAVED_OBJECTS).write_text("".join(json.dumps(o) + "\n" for o in objects))
    return folder


def first_lens(objects: list[dict], title: str) -> dict:
    return next(o for o in objects if o["type"] == "lens" and o["attributes"]["title"] == title)


def columns(lens: dict) -> dict:
    (layer,) = lens["attributes"]["state"]["datasourceStates"]["formBased"]["layers"].values()
    return layer["columns"]


def test_every_panel_control_and_rule_answers_on_the_incident(incident_model):
    result = mlmon("kibana", "validate", "--model", incident_model)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = (default_folder() / SAVED_OBJECTS).open()
    panels = sum(1 for line in lines if json.loads(line)["type"] == "lens")
    assert f"{panels} panels run ({panels} with data), 2 rules run" in result.stdout
    # the incident's NA spike and unseen merchant push both rules over their thresholds
    values = {
        line.split()[1].rstrip(":"): float(line.split()[-1])
        for line in result.stdout.splitlines()
        if line.strip().startswith("rule ")
    }
    assert values["mlmon-na-spike"] > 0.05
    assert values["mlmon-unseen-surge"] > 0.02


def test_a_panel_on_a_missing_field_fails(incident_model, tmp_path):
    def edit(objects):
        lens = first_lens(objects, "amount: p10 / median / p90 per day")
        columns(lens)["v1"]["sourceField"] = "features.no_such_feature"

    folder = broken_copy(tmp_path, edit)
    result = mlmon("kibana", "validate", "--dir", str(folder), "--model", incident_model)
    assert result.returncode == 1
    assert "FAIL lens 'amount: p10 / median / p90 per day': field features.no_such_feature" in (
        result.stdout
    )
    assert "1 problem(s) in the Kibana objects" in result.stderr


def test_a_field_of_the_wrong_type_for_its_use_fails(incident_model, tmp_path):
    def edit(objects):
        lens = first_lens(objects, "Total latency p95 by version (ms)")
        columns(lens)["v0"]["sourceField"] = "features.merchant_name"  # keyword: no percentiles

    result = mlmon(
        "kibana", "validate", "--dir", str(broken_copy(tmp_path, edit)), "--model", incident_model
    )
    assert result.returncode == 1
    assert "field features.merchant_name is keyword, which percentile cannot use" in result.stdout


def test_an_empty_panel_fails_unless_allowed(incident_model, tmp_path):
    def edit(objects):
        lens = first_lens(objects, "Missing values per feature")
        lens["attributes"]["state"]["query"]["query"] = "quality.missing_count:>1000"

    folder = broken_copy(tmp_path, edit)
    strict = mlmon("kibana", "validate", "--dir", str(folder), "--model", incident_model)
    assert strict.returncode == 1
    assert "FAIL lens 'Missing values per feature': matches no events" in strict.stdout
    lenient = mlmon(
        "kibana", "validate", "--dir", str(folder), "--model", incident_model, "--allow-empty"
    )
    assert lenient.returncode == 0, lenient.stdout
    assert "note lens 'Missing values per feature': matches no events" in lenient.stdout


def test_a_dangling_reference_and_a_query_elasticsearch_refuses_fail(incident_model, tmp_path):
    def edit(objects):
        dashboard = next(o for o in objects if o["id"] == "mlmon-service")
        dashboard["references"][0]["id"] = "no-such-lens"
        lens = first_lens(objects, "Predictions")
        lens["attributes"]["state"]["query"]["query"] = "model.name:(unbalanced"

    result = mlmon(
        "kibana", "validate", "--dir", str(broken_copy(tmp_path, edit)), "--model", incident_model
    )
    assert result.returncode == 1
    assert "reference 0:panel_0 → lens no-such-lens is not in the file" in result.stdout
    assert "lens 'Predictions': Elasticsearch refused its query" in result.stdout
    assert "Traceback" not in result.stderr


def test_a_score_of_exactly_one_is_in_the_score_distribution(es, incident_model):
    """The last bin is open-ended: a prediction scored 1.0 is counted (``to: 1.0`` is
    exclusive in a range aggregation, so the old last bin dropped it)."""
    hit = es.search(
        index=PREDICTIONS_INDEX_PATTERN,
        size=1,
        query={"term": {"model.name": incident_model}},
    )["hits"]["hits"][0]
    certain = {**hit["_source"], "prediction_id": f"certain-{hit['_id']}"}
    certain["prediction"] = {**certain.get("prediction", {}), "score": 1.0}
    es.index(
        index=predictions_index(incident_model, certain["@timestamp"]),
        id=certain["prediction_id"],
        document=certain,
        refresh=True,
    )
    objects = [json.loads(line) for line in (default_folder() / SAVED_OBJECTS).open()]
    lens = first_lens(objects, "Score distribution by version")
    time_from, time_to = dashboard_time_range(objects)
    scope = [
        {"range": {"@timestamp": {"gte": time_from, "lte": time_to}}},
        {"term": {"model.name": incident_model}},
    ]
    _, body = lens_request(lens, scope)
    answer = es.search(index=PREDICTIONS_INDEX_PATTERN, **body)
    scored = es.count(
        index=PREDICTIONS_INDEX_PATTERN,
        query={"bool": {"filter": [*scope, {"exists": {"field": "prediction.score"}}]}},
    )["count"]
    (layer,) = lens["attributes"]["state"]["datasourceStates"]["formBased"]["layers"].values()
    rows = layer_rows(layer, answer["aggregations"], answer["hits"]["total"]["value"])
    print(f"scored events {scored}, counted in the score bins {sum(r['v0'] for r in rows)}")
    assert sum(r["v0"] for r in rows) == scored
    top = [r for r in rows if r["b0"] == "0.9-*"]
    assert top and sum(r["v0"] for r in top) >= 1


def test_terms_ranked_by_a_metric_above_a_date_histogram_run_on_elasticsearch(
    incident_model, tmp_path
):
    """A breakdown ordered by p95 latency sits above the hourly histogram (as Lens nests
    it) and ranks on its own copy of the metric; Elasticsearch accepts that request."""
    board = Dashboard(
        "slowest",
        "slowest versions",
        "",
        (
            Panel(
                "p95 latency of the slowest versions",
                "line",
                (Metric("percentile", "latency_ms.total", "p95", percent=95),),
                (DateHistogram(interval="1h"), Terms("model.version", size=2)),
            ),
        ),
    )
    folder = tmp_path / "kibana"
    folder.mkdir()
    (folder / SAVED_OBJECTS).write_text(to_ndjson(saved_objects((board,))))
    objects, _ = parse_ndjson((folder / SAVED_OBJECTS).read_text())
    (layer,) = first_lens(objects, "p95 latency of the slowest versions")["attributes"]["state"][
        "datasourceStates"
    ]["formBased"]["layers"].values()
    assert layer["columnOrder"][:2] == ["b1", "b0"]
    result = mlmon("kibana", "validate", "--dir", str(folder), "--model", incident_model)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 panels run (1 with data)" in result.stdout
