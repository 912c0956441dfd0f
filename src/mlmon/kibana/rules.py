"""Kibana *Elasticsearch query* rules: the API body, and a run of each rule's query.

Rules are not imported with the saved objects: Kibana takes them at
``/api/alerting/rule/{id}``. They run where the full distribution runs Kibana's
alerting; the query behind each is plain query DSL plus one metric
aggregation, so it is checked here against the real index like the panels are.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from mlmon.kibana.lens import stable_id
from mlmon.kibana.spec import Rule
from mlmon.schema.event import PREDICTIONS_INDEX_PATTERN

RULE_TYPE = ".es-query"
DEFAULT_SPACE = "default"
_WINDOW_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def rule_id_in_space(name: str, space: str | None) -> str:
    """Kibana's id for mlmon's rule ``name`` (``mlmon-<slug>``) in ``space``.

    A rule is a saved object shared by id across spaces (``multiple-isolated``): one id
    can exist in one space only, so a fixed id makes the second space's import fail
    (409, then 404 on update). And rules have encrypted attributes, whose predefined ids
    Kibana accepts only as UUIDs. A UUID derived from the space and the name is both:
    the same on every import into that space, different in every other.
    """
    return stable_id("rule", space or DEFAULT_SPACE, name)


def rule_body(rule: Rule) -> dict:
    """The create body, with mlmon's name for the rule as ``id`` (see :func:`rule_id_in_space`
    for the id Kibana gets)."""
    size, unit = rule.window
    params: dict = {
        "searchType": "esQuery",
        "index": [PREDICTIONS_INDEX_PATTERN],
        "timeField": "@timestamp",
        "esQuery": json.dumps(rule.query),
        "size": 0,
        "threshold": [rule.threshold],
        "thresholdComparator": ">",
        "timeWindowSize": size,
        "timeWindowUnit": unit,
        "aggType": rule.aggregation,
        "excludeHitsFromPreviousRun": False,
        "groupBy": "top" if rule.group_by else "all",
    }
    if rule.agg_field:
        params["aggField"] = rule.agg_field
    if rule.group_by:
        params.update(termField=rule.group_by, termSize=20)
    return {
        "id": f"mlmon-{rule.slug}",
        "name": rule.name,
        "rule_type_id": RULE_TYPE,
        "consumer": "stackAlerts",
        "schedule": {"interval": rule.interval},
        "tags": list(rule.tags),
        "params": params,
        "actions": [],
    }


def rule_fields(body: dict) -> Iterator[tuple[str, str]]:
    params = body["params"]
    yield params["timeField"], "date_histogram"
    if params.get("aggField"):
        yield params["aggField"], {"avg": "average"}.get(params["aggType"], params["aggType"])
    if params.get("termField"):
        yield params["termField"], "terms"


def rule_search(body: dict, time_from: str, time_to: str, model: str | None) -> dict:
    """The search the rule runs, over ``time_from``..``time_to`` instead of its window."""
    params = body["params"]
    query = json.loads(params["esQuery"])["query"]
    filters = [query, {"range": {params["timeField"]: {"gte": time_from, "lte": time_to}}}]
    if model:
        filters.append({"term": {"model.name": model}})
    metric = {params["aggType"]: {"field": params["aggField"]}} if params.get("aggField") else None
    aggs: dict = {}
    if params.get("termField"):
        group = {"terms": {"field": params["termField"], "size": params.get("termSize", 10)}}
        if metric:
            group["aggs"] = {"metric": metric}
        aggs["groups"] = group
    elif metric:
        aggs["metric"] = metric
    return {
        "size": 0,
        "track_total_hits": True,
        "query": {"bool": {"filter": filters}},
        "aggs": aggs,
    }


def rule_values(body: dict, answer: dict) -> dict[str, float | None]:
    """The value the rule compares with its threshold, per group (or ``"all"``)."""
    params = body["params"]

    def value(node: dict) -> float | None:
        if params.get("aggField"):
            return node["metric"]["value"]
        return float(node["doc_count"])

    aggregations = answer.get("aggregations", {})
    if "groups" in aggregations:
        return {str(b["key"]): value(b) for b in aggregations["groups"]["buckets"]}
    if params.get("aggField"):
        return {"all": aggregations["metric"]["value"]}
    return {"all": float(answer["hits"]["total"]["value"])}
