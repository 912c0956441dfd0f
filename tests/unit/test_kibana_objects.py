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
from mlmon.kibana.bundle import default_folder, generate, load, saved_objects
from mlmon.kibana.dashboards import FeatureChoice, dashboards
from mlmon.kibana.fields import FieldCatalog
from mlmon.kibana.lens import lens
from mlmon.kibana.queries import layer_aggs, layer_rows, lucene_fields
from mlmon.kibana.rules import rule_id_in_space
from mlmon.kibana.spec import Count, Dashboard, DateHistogram, Metric, Panel, Ratio, Terms
from mlmon.kibana.structure import check_structure, parse_ndjson


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
    version = aggs["b1"]  # the breakdown is the outer bucket, as Lens nests it
    assert version["terms"] == {"field": "model.version", "size": 3, "order": {"_key": "asc"}}
    day = version["aggs"]["b0"]
    assert day["date_histogram"]["calendar_interval"] == "1d"
    assert day["aggs"]["v0X0"]["filter"]["query_string"]["query"] == "actual.correct:true"
    answer = {
        "b1": {"buckets": [
            {"key": "v1", "doc_count": 6, "b0": {"buckets": [{"key_as_string": "2026-11-20",
             "doc_count": 6, "v0X0": {"doc_count": 3}, "v0X1": {"doc_count": 4}}]}},
            {"key": "v2", "doc_count": 4, "b0": {"buckets": [{"key_as_string": "2026-11-20",
             "doc_count": 4, "v0X0": {"doc_count": 0}, "v0X1": {"doc_count": 0}}]}},
        ]}
    }  # fmt: skip
    rows = layer_rows(layer, answer, total=10)
    assert [(r["b1"], r["b0"], r["v0"]) for r in rows] == [
        ("v1", "2026-11-20", 0.75),
        ("v2", "2026-11-20", None),
    ]


def _generated_lens(title: str) -> dict:
    objects, _ = parse_ndjson(generate().ndjson)
    return next(o for o in objects if o["type"] == "lens" and o["attributes"]["title"] == title)


def _only_layer(obj: dict) -> dict:
    (layer,) = obj["attributes"]["state"]["datasourceStates"]["formBased"]["layers"].values()
    return layer


def test_an_xy_breakdown_nests_above_the_date_histogram_so_its_top_values_span_the_range():
    """Lens inserts a terms column above the first date histogram (layer_helpers addBucket);
    nested below it, the top N would be picked per hour and the series would drift."""
    objects, _ = parse_ndjson(generate().ndjson)
    checked = 0
    for obj in objects:
        if obj["attributes"].get("visualizationType") != "lnsXY":
            continue
        layer = _only_layer(obj)
        buckets = [c for c in layer["columnOrder"] if layer["columns"][c].get("isBucketed")]
        ops = [layer["columns"][c]["operationType"] for c in buckets]
        if ops and "date_histogram" in ops and "terms" in ops:
            assert ops == ["terms", "date_histogram"], obj["attributes"]["title"]
            (outer,) = layer_aggs(layer).values()
            assert "terms" in outer and "date_histogram" in next(iter(outer["aggs"].values()))
            checked += 1
    assert checked >= 10  # every "by version", "per feature" and "share of top values" chart
    # the visualization still draws time on x and the terms as series
    xy = _generated_lens("Predictions per hour by version")["attributes"]["state"]
    (vis_layer,) = xy["visualization"]["layers"]
    assert (
        _only_layer(_generated_lens("Predictions per hour by version"))["columns"][
            vis_layer["xAccessor"]
        ]["operationType"]
        == "date_histogram"
    )


def test_terms_above_a_date_histogram_rank_by_their_own_copy_of_the_order_metric():
    """As Kibana's terms order helper does: the metric a terms column sorts on becomes a
    sub-aggregation of the terms itself; the one under the date histogram is out of reach."""
    panel = Panel(
        "slow versions",
        "line",
        (Metric("percentile", "latency_ms.total", "p95", percent=95),),
        (DateHistogram(interval="1h"), Terms("model.version", size=3)),
    )
    layer = _layer(panel)
    assert layer["columnOrder"][:2] == ["b1", "b0"]
    version = layer_aggs(layer)["b1"]
    assert version["terms"]["order"] == {"v0[95.0]": "desc"}
    assert version["aggs"]["v0"] == {
        "percentiles": {"field": "latency_ms.total", "percents": [95.0]}
    }
    assert version["aggs"]["b0"]["aggs"]["v0"] == version["aggs"]["v0"]


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


def test_the_score_ranges_count_a_score_of_one_and_carry_lens_range_format():
    """A range aggregation's ``to`` is exclusive: a last bin ending at 1.0 dropped every
    prediction scored exactly 1.0. Lens writes range mode as a string column with the
    "arrow_right" range format (ranges.tsx, config builder's range transform)."""
    layer = _only_layer(_generated_lens("Score distribution by version"))
    column = layer["columns"]["b0"]
    assert column["operationType"] == "range" and column["dataType"] == "string"
    assert column["params"]["type"] == "range"
    assert column["params"]["parentFormat"] == {
        "id": "range",
        "params": {"template": "arrow_right", "replaceInfinity": True},
    }
    assert column["params"]["ranges"][-1] == {"from": 0.9, "to": None, "label": ""}
    score = layer_aggs(layer)["b0"]
    es_ranges = score["range"]["ranges"]
    assert es_ranges[-1] == {"from": 0.9}

    def bins_holding(value: float) -> int:  # Elasticsearch: from inclusive, to exclusive
        return sum(
            r.get("from", float("-inf")) <= value < r.get("to", float("inf")) for r in es_ranges
        )

    assert [bins_holding(i / 100) for i in range(101)] == [1] * 101


def test_dashboards_open_with_auto_refresh_paused():
    objects, _ = parse_ndjson(generate().ndjson)
    boards = [o for o in objects if o["type"] == "dashboard"]
    assert len(boards) == 4
    for board in boards:
        assert board["attributes"]["refreshInterval"]["pause"] is True
        assert board["attributes"]["timeRestore"] is True


def test_panel_references_are_named_as_kibana_exports_them():
    """``<panelIndex>:panel_<panelIndex>`` beside ``panelRefName: panel_<panelIndex>``
    (dashboard_container_references.ts createExtract; sample data "[Logs] Web Traffic")."""
    objects, _ = parse_ndjson(generate().ndjson)
    for board in (o for o in objects if o["type"] == "dashboard"):
        panels = json.loads(board["attributes"]["panelsJSON"])
        lens_refs = [r["name"] for r in board["references"] if r["type"] == "lens"]
        assert lens_refs == [f"{p['panelIndex']}:panel_{p['panelIndex']}" for p in panels]
        assert all(p["panelRefName"] == f"panel_{p['panelIndex']}" for p in panels)
    board = next(o for o in objects if o["id"] == "mlmon-service")
    board["references"] = [r for r in board["references"] if r["name"] != "1:panel_1"]
    assert [str(f) for f in check_structure(objects)] == [
        "dashboard 'mlmon · Service': panel 1 refers to missing reference 1:panel_1"
    ]
    # saved before the prefix (panel_N among all references): Kibana still resolves it
    for ref in board["references"]:
        ref["name"] = ref["name"].split(":", 1)[1] if ref["type"] == "lens" else ref["name"]
    board["references"].append(
        {"name": "panel_1", "type": "lens", "id": board["references"][0]["id"]}
    )
    assert check_structure(objects) == []


# a predefined id Kibana accepts for a saved object with encrypted attributes (a rule)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


class _FakeKibanaAPI(BaseHTTPRequestHandler):
    """Records requests; answers the way Kibana 8.19's saved-objects and alerting APIs do.

    Kibana cannot run on this machine: this checks the requests mlmon sends
    against the documented API (path, headers, multipart file, 409 → update),
    not that Kibana renders the dashboards. Rules behave as Kibana's alerting
    tests show: a predefined id must be a UUID (400 otherwise), one id exists in
    one space only (create anywhere else: 409), and a rule is updated only in
    its own space (404 elsewhere).
    """

    seen: ClassVar[list[tuple[str, str, dict, bytes]]] = []
    rule_space: ClassVar[dict[str, str]] = {}  # rule id → the space that holds it

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
        prefix, _, rest = self.path.partition("/api/alerting/rule/")
        space, rule_id = prefix.removeprefix("/s/") or "default", rest
        if not _UUID.match(rule_id):
            return self._reply(
                400,
                {
                    "message": "Predefined IDs are not allowed for saved "
                    "objects with encrypted attributes unless the ID is a UUID."
                },
            )
        if self.command == "POST":
            if rule_id in self.rule_space:  # in this space or any other
                return self._reply(409, {"message": f"[alert/{rule_id}] conflict"})
            self.rule_space[rule_id] = space
        elif self.rule_space.get(rule_id) != space:
            return self._reply(404, {"message": f"Saved object [alert/{rule_id}] not found"})
        return self._reply(200, {"id": rule_id})

    do_POST = do_PUT = _handle

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def fake_kibana():
    _FakeKibanaAPI.seen, _FakeKibanaAPI.rule_space = [], {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeKibanaAPI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _rule_paths(method: str) -> list[str]:
    return [p for m, p, _, _ in _FakeKibanaAPI.seen if m == method and "/alerting/" in p]


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
    ids = [rule_id_in_space(r["id"], "ml-team") for r in bundle.rules]
    assert _rule_paths("PUT") == [f"/s/ml-team/api/alerting/rule/{i}" for i in ids]


def test_rules_import_into_several_spaces_each_with_its_own_ids(fake_kibana):
    """Kibana's rule ids are global across spaces and must be UUIDs: a fixed id
    (``mlmon-na-spike``) is refused outright, and one fixed UUID would be created in the
    first space and then conflict (409) and not be found (404) in the second."""
    bundle = generate()
    for space in ("ml-team", "ops", None):
        result = import_bundle(bundle, KibanaTarget.from_env(fake_kibana, space, {}))
        assert (result.rules_created, result.rules_updated) == (2, 0), space
    again = import_bundle(bundle, KibanaTarget.from_env(fake_kibana, "ops", {}))
    assert (again.rules_created, again.rules_updated) == (0, 2)
    assert len(_FakeKibanaAPI.rule_space) == 6
    assert (
        sorted(_FakeKibanaAPI.rule_space.values())
        == ["default"] * 2 + ["ml-team"] * 2 + ["ops"] * 2
    )
    assert _rule_paths("POST")[:2] == [
        f"/s/ml-team/api/alerting/rule/{rule_id_in_space(r['id'], 'ml-team')}" for r in bundle.rules
    ]
    for name in ("mlmon-na-spike", "mlmon-unseen-surge"):
        assert _UUID.match(rule_id_in_space(name, "ops"))
        assert rule_id_in_space(name, None) == rule_id_in_space(name, "default")
        assert rule_id_in_space(name, "ops") == rule_id_in_space(name, "ops")
        assert rule_id_in_space(name, "ops") != rule_id_in_space(name, "ml-team")


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
