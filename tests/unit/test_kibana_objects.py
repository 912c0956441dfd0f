"""Dashboards as code without a cluster: generation, structure, query translation, import.

What the panels answer on real data is tested in tests/integration/test_kibana_on_data.py.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from mlmon.errors import UsageError
from mlmon.kibana.api import KibanaTarget, import_bundle
from mlmon.kibana.bundle import default_folder, generate, load
from mlmon.kibana.dashboards import FeatureChoice, dashboards
from mlmon.kibana.lens import lens, saved_objects
from mlmon.kibana.queries import layer_aggs, layer_rows, lucene_fields
from mlmon.kibana.spec import Count, Dashboard, DateHistogram, Panel, Ratio, Terms
from mlmon.kibana.validate import FieldCatalog, check_structure, parse_ndjson


def test_committed_files_are_what_the_source_generates():
    committed, generated = load(default_folder()), generate()
    assert committed.ndjson == generated.ndjson, "run `mlmon kibana export`"
    assert committed.rules == generated.rules, "run `mlmon kibana export`"


def test_generated_objects_are_consistent_and_cover_the_four_dashboards():
    objects, parse_findings = parse_ndjson(generate().ndjson)
    assert parse_findings == []
    assert check_structure(objects) == []
    boards = {o["id"]: o for o in objects if o["type"] == "dashboard"}
    assert set(boards) == {
        "mlmon-model-overview",
        "mlmon-data-quality",
        "mlmon-drift-and-slices",
        "mlmon-service",
    }
    for board in boards.values():
        controls = json.loads(board["attributes"]["controlGroupInput"]["panelsJSON"]).values()
        fields = {c["explicitInput"]["fieldName"] for c in controls}
        assert {"model.name", "model.version"} <= fields
        assert len(json.loads(board["attributes"]["panelsJSON"])) == sum(
            1 for r in board["references"] if r["type"] == "lens"
        )


def test_feature_choice_drives_the_feature_panels():
    choice = FeatureChoice(
        categorical=("country",), numeric=("income",), lookups=(), watch_unseen=()
    )
    titles = {p.title for d in dashboards(choice) for p in d.panels}
    assert "Accuracy by country" in titles
    assert "income: p10 / median / p90 per day" in titles
    assert not any("merchant_name" in t for t in titles)


def test_structure_findings_name_what_is_wrong():
    objects, _ = parse_ndjson(generate().ndjson)
    lens_object = next(o for o in objects if o["type"] == "lens")
    lens_object["references"] = []
    layer = next(
        iter(lens_object["attributes"]["state"]["datasourceStates"]["formBased"]["layers"].values())
    )
    layer["columnOrder"].append("ghost")
    objects.append(dict(objects[0]))  # the data view twice
    messages = [str(f) for f in check_structure(objects)]
    assert any("has no data view reference" in m for m in messages)
    assert any("columns and columnOrder disagree on ['ghost']" in m for m in messages)
    assert any("id mlmon-predictions appears twice" in m for m in messages)
    _, findings = parse_ndjson('{"id": 1}\nnot json\n')
    assert [f.object for f in findings] == ["line 1", "line 2"]


def test_lucene_fields():
    assert lucene_fields("quality.missing_count:>0") == {"quality.missing_count"}
    assert lucene_fields("_exists_:actual.correct") == {"actual.correct"}
    assert lucene_fields("quality.unseen:merchant_name AND -model.version:v2") == {
        "quality.unseen",
        "model.version",
    }
    assert lucene_fields("") == set()


def _layer(panel: Panel) -> dict:
    obj = lens(Dashboard("d", "D", "", (panel,)), panel)
    (layer,) = obj["attributes"]["state"]["datasourceStates"]["formBased"]["layers"].values()
    return layer


def test_a_ratio_panel_becomes_filter_aggregations_and_evaluates_per_bucket():
    panel = Panel(
        "accuracy",
        "line",
        (
            Ratio(
                "Accuracy", numerator="actual.correct:true", denominator="_exists_:actual.correct"
            ),
        ),
        (DateHistogram(interval="1d"), Terms("model.version", size=3, alphabetical=True)),
    )
    layer = _layer(panel)
    aggs = layer_aggs(layer)
    day = aggs["b0"]
    assert day["date_histogram"]["calendar_interval"] == "1d"
    version = day["aggs"]["b1"]
    assert version["terms"] == {"field": "model.version", "size": 3, "order": {"_key": "asc"}}
    assert version["aggs"]["v0X0"]["filter"]["query_string"]["query"] == "actual.correct:true"
    answer = {
        "b0": {"buckets": [{"key_as_string": "2026-11-20", "doc_count": 10, "b1": {"buckets": [
            {"key": "v1", "doc_count": 6, "v0X0": {"doc_count": 3}, "v0X1": {"doc_count": 4}},
            {"key": "v2", "doc_count": 4, "v0X0": {"doc_count": 0}, "v0X1": {"doc_count": 0}},
        ]}}]}
    }  # fmt: skip
    rows = layer_rows(layer, answer, total=10)
    assert [(r["b1"], r["v0"]) for r in rows] == [("v1", 0.75), ("v2", None)]


def test_terms_ordered_by_their_count_column():
    layer = _layer(Panel("t", "table", (Count(),), (Terms("features.state", size=5),)))
    assert layer_aggs(layer)["b0"]["terms"]["order"] == {"_count": "desc"}


def test_field_catalog_names_the_problem():
    catalog = FieldCatalog(
        declared={"latency_ms.total": "double", "model.name": "keyword"},
        dynamic=[("features.*", "keyword"), ("features.*", "double")],
        present={"features.state": {"keyword"}, "features.amount": {"double"}},
    )
    assert catalog.problem("latency_ms.total", "percentile") is None
    assert catalog.problem("features.amount", "percentile") is None
    assert "is keyword, which percentile cannot use" in catalog.problem(
        "features.state", "percentile"
    )
    assert "not in the index template" in catalog.problem("latency.total", "percentile")
    assert "no event has it" in catalog.problem("features.zip", "terms")
    assert "which terms cannot use" not in (catalog.problem("model.name", "terms") or "")


class _FakeKibanaAPI(BaseHTTPRequestHandler):
    """Records requests; answers the way Kibana's saved-objects and alerting APIs do.

    Kibana cannot run on this machine: this checks the requests mlmon sends
    against the documented API (path, headers, multipart file, 409 → update),
    not that Kibana renders the dashboards.
    """

    seen: ClassVar[list[tuple[str, str, dict, bytes]]] = []
    existing_rules: ClassVar[set[str]] = set()

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.seen.append((self.command, self.path, dict(self.headers), body))
        if self.headers.get("kbn-xsrf") is None:
            return self._reply(400, {"message": "Request must contain a kbn-xsrf header."})
        if self.path.endswith("/api/saved_objects/_import?overwrite=true"):
            count = body.count(b'"coreMigrationVersion"')
            return self._reply(200, {"success": True, "successCount": count})
        rule_id = self.path.rsplit("/", 1)[-1]
        if self.command == "POST" and rule_id in self.existing_rules:
            return self._reply(409, {"message": "already exists"})
        self.existing_rules.add(rule_id)
        return self._reply(200, {"id": rule_id})

    do_POST = do_PUT = _handle

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def fake_kibana():
    _FakeKibanaAPI.seen, _FakeKibanaAPI.existing_rules = [], set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeKibanaAPI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_import_posts_ndjson_with_overwrite_then_creates_or_updates_rules(fake_kibana):
    bundle = generate()
    env = {"MLMON_ES_USER": "writer", "MLMON_ES_PASSWORD": "s3cret"}
    target = KibanaTarget.from_env(fake_kibana, "ml-team", env)
    assert "s3cret" not in repr(target)
    first = import_bundle(bundle, target)
    assert first.objects == len(saved_objects(dashboards()))
    assert (first.rules_created, first.rules_updated) == (2, 0)
    method, path, headers, body = _FakeKibanaAPI.seen[0]
    assert (method, path) == ("POST", "/s/ml-team/api/saved_objects/_import?overwrite=true")
    assert headers["Authorization"].startswith("Basic ")
    assert b'filename="mlmon-saved-objects.ndjson"' in body
    assert bundle.ndjson.encode() in body
    second = import_bundle(bundle, target)
    assert (second.rules_created, second.rules_updated) == (0, 2)
    puts = [(m, p) for m, p, _, _ in _FakeKibanaAPI.seen if m == "PUT"]
    assert puts == [
        ("PUT", "/s/ml-team/api/alerting/rule/mlmon-na-spike"),
        ("PUT", "/s/ml-team/api/alerting/rule/mlmon-unseen-surge"),
    ]


def test_bad_kibana_arguments_are_usage_errors():
    with pytest.raises(UsageError, match="is not an http"):
        KibanaTarget.from_env("kibana:5601", None, {})
    with pytest.raises(UsageError, match="is not a Kibana space id"):
        KibanaTarget.from_env("http://k:5601", "a/b", {})


def test_an_unreachable_kibana_is_one_clear_error():
    from mlmon.errors import ClusterUnavailable
    from mlmon.kibana.api import wait_until_ready

    target = KibanaTarget.from_env("http://127.0.0.1:9", None, {})
    with pytest.raises(
        ClusterUnavailable, match=re.escape("Kibana at http://127.0.0.1:9 is unreachable")
    ):
        import_bundle(generate(), target)
    with pytest.raises(ClusterUnavailable, match="was not available after 0 s"):
        wait_until_ready(target, 0, poll=0)
