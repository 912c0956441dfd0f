"""Check saved objects three ways: their structure, their fields, and their answers.

Kibana cannot run everywhere mlmon's tests run, so this is how a dashboard is
proven: every reference resolves, every field a panel uses is mapped by the
index templates with a type that supports that use and exists in the data,
and every panel's aggregation, run against Elasticsearch as Kibana would run
it, answers without error and with data.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mlmon.errors import ClusterError, ClusterUnavailable
from mlmon.es.client import shard_failure
from mlmon.kibana.fields import FieldCatalog, catalog_from
from mlmon.kibana.queries import (
    BUCKET_OPS,
    FIELD_METRICS,
    LayerError,
    layer_aggs,
    layer_rows,
    leaf_columns,
    lucene,
    lucene_fields,
)
from mlmon.kibana.rules import RULE_TYPE, rule_fields, rule_search, rule_values
from mlmon.kibana.structure import (
    Finding,
    check_structure,
    dashboard_controls,
    lens_layers,
    object_name,
    parse_ndjson,
    visualization_accessors,
)


@dataclass
class PanelAnswer:
    title: str
    hits: int
    rows: int


@dataclass
class ValidationResult:
    objects: int = 0
    findings: list[Finding] = field(default_factory=list)
    answers: list[PanelAnswer] = field(default_factory=list)
    rule_values: dict[str, dict[str, float | None]] = field(default_factory=dict)
    allow_empty: bool = False

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if not (f.empty and self.allow_empty)]

    @property
    def ok(self) -> bool:
        return not self.failures


# --- fields --------------------------------------------------------------------


def field_uses(obj: dict) -> Iterator[tuple[str, str]]:
    """(field, use) for every field a Lens object or dashboard control relies on."""
    if obj["type"] == "lens":
        state = obj["attributes"]["state"]
        yield from ((f, "filter") for f in lucene_fields(state.get("query", {}).get("query", "")))
        for layer in lens_layers(obj).values():
            for column in layer["columns"].values():
                op = column["operationType"]
                source = column.get("sourceField")
                if source and source != "___records___":
                    yield source, op if op in BUCKET_OPS or op in FIELD_METRICS else "filter"
                query = (column.get("filter") or {}).get("query", "")
                yield from ((f, "filter") for f in lucene_fields(query))
    elif obj["type"] == "dashboard":
        for control in dashboard_controls(obj).values():
            yield control["explicitInput"]["fieldName"], "control"


def check_fields(objects: list[dict], catalog: FieldCatalog) -> list[Finding]:
    findings = []
    for obj in objects:
        for name, use in sorted(set(field_uses(obj))):
            problem = catalog.problem(name, use)
            if problem:
                findings.append(Finding(object_name(obj), f"{problem} (used by {use})"))
    return findings


# --- answers ---------------------------------------------------------------------


def _scope_filters(time_from: str, time_to: str, time_field: str, model: str | None) -> list:
    filters: list[dict[str, Any]] = [{"range": {time_field: {"gte": time_from, "lte": time_to}}}]
    if model:
        filters.append({"term": {"model.name": model}})
    return filters


def lens_request(obj: dict, filters: list[dict]) -> tuple[str, dict]:
    """(layer id, search body) for each layer of a Lens object, as Kibana would send it."""
    state = obj["attributes"]["state"]
    query = state.get("query", {}).get("query", "")
    scoped = list(filters) + ([lucene(query)] if query else [])
    (layer_id, layer), *_ = lens_layers(obj).items()
    return layer_id, {
        "size": 0,
        "track_total_hits": True,
        "query": {"bool": {"filter": scoped}},
        "aggs": layer_aggs(layer),
    }


def _visible(obj: dict) -> set[str]:
    return visualization_accessors(obj["attributes"]["state"].get("visualization", {}))


def dashboard_time_range(objects: list[dict]) -> tuple[str, str]:
    """The range the first dashboard opens on: what a user sees first is what is checked."""
    for obj in objects:
        if obj["type"] == "dashboard":
            attributes = obj["attributes"]
            return attributes.get("timeFrom", "now-7d"), attributes.get("timeTo", "now")
    return "now-7d", "now"


def check_answers(
    search, objects: list[dict], *, model: str | None = None
) -> tuple[list[Finding], list[PanelAnswer]]:
    """Run every Lens layer and every control; empty or failing ones are findings.

    ``search(index, body)`` returns the answer as a dict (the caller owns the client).
    """
    views = {o["id"]: o["attributes"] for o in objects if o["type"] == "index-pattern"}
    findings: list[Finding] = []
    answers: list[PanelAnswer] = []
    dashboards = [o for o in objects if o["type"] == "dashboard"]
    time_range = dashboard_time_range(objects)
    for obj in objects:
        if obj["type"] != "lens":
            continue
        where = object_name(obj)
        view = views.get(obj["references"][0]["id"]) if obj["references"] else None
        if view is None:
            findings.append(Finding(where, "its data view is not in the file"))
            continue
        filters = _scope_filters(*time_range, view["timeFieldName"], model)
        try:
            layer_id, body = lens_request(obj, filters)
            answer = search(view["title"], body)
        except LayerError as error:
            findings.append(Finding(where, str(error)))
            continue
        except ClusterUnavailable:
            raise
        except ClusterError as error:  # the cluster's reason is the finding
            findings.append(Finding(where, f"Elasticsearch refused its query: {error}"))
            continue
        total = answer["hits"]["total"]["value"]
        layer = lens_layers(obj)[layer_id]
        rows = layer_rows(layer, answer.get("aggregations", {}), total)
        shown = _visible(obj) - {c for c, col in layer["columns"].items() if col.get("isBucketed")}
        filled = [r for r in rows if any(r.get(c) is not None for c in shown)]
        answers.append(PanelAnswer(obj["attributes"]["title"], total, len(filled)))
        if total == 0:
            findings.append(Finding(where, "matches no events", empty=True))
        elif not filled:
            findings.append(Finding(where, "answers with no values (every row empty)", empty=True))
    for obj in dashboards:
        view_id = next(
            (r["id"] for r in obj["references"] if r["name"].startswith("controlGroup_")), None
        )
        view = views.get(view_id or "")
        if view is None:
            continue
        filters = _scope_filters(*time_range, view["timeFieldName"], model)
        for control in dashboard_controls(obj).values():
            name = control["explicitInput"]["fieldName"]
            body = {
                "size": 0,
                "query": {"bool": {"filter": filters}},
                "aggs": {"options": {"terms": {"field": name, "size": 10}}},
            }
            try:
                buckets = search(view["title"], body)["aggregations"]["options"]["buckets"]
            except ClusterUnavailable:
                raise
            except ClusterError as error:
                findings.append(Finding(object_name(obj), f"control on {name} fails: {error}"))
                continue
            if not buckets:
                findings.append(
                    Finding(object_name(obj), f"control on {name} offers no options", empty=True)
                )
    return findings, answers


def leaf_count(objects: Iterable[dict]) -> int:
    """Aggregations the Lens objects ask for (reported beside the panel count)."""
    return sum(
        len(leaf_columns(layer["columns"]))
        for obj in objects
        if obj["type"] == "lens"
        for layer in lens_layers(obj).values()
    )


# --- rules and the whole bundle ----------------------------------------------------


def check_rules(search, rules: list[dict], catalog: FieldCatalog, time_range, model):
    """Each rule's fields and query; returns findings and the value per group."""
    findings: list[Finding] = []
    values: dict[str, dict[str, float | None]] = {}
    for body in rules:
        where = f"rule {body.get('name', body.get('id'))!r}"
        params = body.get("params") or {}
        missing = [k for k in ("index", "timeField", "esQuery", "threshold") if k not in params]
        if body.get("rule_type_id") != RULE_TYPE or missing:
            findings.append(
                Finding(where, f"is not an {RULE_TYPE} rule with {missing or 'params'}")
            )
            continue
        for name, use in rule_fields(body):
            problem = catalog.problem(name, use)
            if problem:
                findings.append(Finding(where, problem))
        try:
            answer = search(",".join(params["index"]), rule_search(body, *time_range, model))
        except ClusterUnavailable:
            raise
        except ClusterError as error:
            findings.append(Finding(where, f"Elasticsearch refused its query: {error}"))
            continue
        values[body["id"]] = rule_values(body, answer)
        if answer["hits"]["total"]["value"] == 0:
            findings.append(Finding(where, "its query matches no events", empty=True))
    return findings, values


def _require_events(client, model: str, time_range: tuple[str, str]) -> None:
    """A model with no events in the range the dashboards open on makes every panel
    empty: that is one fact (exit 4, as trace), not a problem per panel."""
    from mlmon.analysis.window import Window
    from mlmon.errors import NoEvents
    from mlmon.schema.event import model_indices

    query = {"bool": {"filter": _scope_filters(*time_range, "@timestamp", model)}}
    found = client.count(
        index=model_indices("predictions", model),
        query=query,
        ignore_unavailable=True,
        allow_no_indices=True,
    )
    if found["count"] == 0:
        raise NoEvents(model, None, Window(*time_range))


def validate(
    client, ndjson: str, rules: list[dict], *, model: str | None = None, allow_empty: bool = False
) -> ValidationResult:
    """Structure, fields and answers of a bundle against the cluster ``client`` talks to."""
    from mlmon.schema.event import PREDICTIONS_INDEX_PATTERN

    objects, findings = parse_ndjson(ndjson)
    result = ValidationResult(objects=len(objects), allow_empty=allow_empty)
    findings += check_structure(objects)
    simulated = client.indices.simulate_index_template(
        name=PREDICTIONS_INDEX_PATTERN.replace("*", "validate")
    )
    caps = client.field_caps(
        index=PREDICTIONS_INDEX_PATTERN,
        fields="*",
        ignore_unavailable=True,
        allow_no_indices=True,
    )
    catalog = catalog_from(simulated["template"]["mappings"], dict(caps))

    def search(index: str, body: dict) -> dict:
        """One panel's, control's or rule's search; a partial answer (some shards could
        not run it, which Kibana only warns about) is a refusal like a failed one."""
        answer = dict(client.search(index=index, **body, allow_no_indices=True))
        refused = shard_failure(answer)
        if refused:
            raise ClusterError(refused)
        return answer

    findings += check_fields(objects, catalog)
    time_range = dashboard_time_range(objects)
    if model:
        _require_events(client, model, time_range)
    answer_findings, result.answers = check_answers(search, objects, model=model)
    rule_findings, result.rule_values = check_rules(search, rules, catalog, time_range, model)
    result.findings = findings + answer_findings + rule_findings
    return result
