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
from mlmon.kibana.bundle import RULES, SAVED_OBJECTS, default_folder

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
    assert "reference panel_0 → lens no-such-lens is not in the file" in result.stdout
    assert "lens 'Predictions': Elasticsearch refused its query" in result.stdout
    assert "Traceback" not in result.stderr
