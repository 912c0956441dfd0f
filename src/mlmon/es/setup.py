"""Install mlmon's index templates, idempotently and versioned.

The templates are JSON files in ``pipelines/elasticsearch`` (the log
pipeline as code): component templates first, then the index templates
that compose them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from elasticsearch import Elasticsearch

from mlmon._resources import pipelines_dir
from mlmon.errors import ClusterNotFound, ClusterUnavailable
from mlmon.es.capabilities import NodeInfo, check_node
from mlmon.es.retention import is_daily


@dataclass(frozen=True)
class TemplateChange:
    kind: str  # "component" or "index"
    name: str
    action: str  # "created", "updated" or "unchanged"
    version: int


@dataclass(frozen=True)
class SetupResult:
    node: NodeInfo
    changes: tuple[TemplateChange, ...]


def load_templates(folder: Path | None = None) -> dict[str, dict[str, dict]]:
    """``{"component": {name: body}, "index": {name: body}}`` from the JSON files."""
    folder = folder or pipelines_dir() / "elasticsearch"
    return {
        kind: {
            path.stem: json.loads(path.read_text())
            for path in sorted((folder / kind).glob("*.json"))
        }
        for kind in ("component", "index")
    }


class TemplatesNotPermitted(ClusterUnavailable):
    """Templates need installing and the credentials may not (no manage_index_templates)."""


def setup(client: Elasticsearch) -> SetupResult:
    """Check the node, then put each template whose stored version or body differs."""
    node = check_node(client)
    templates = load_templates()
    try:
        changes = _install(client, templates)
    except ClusterUnavailable as error:
        if error.status == 403:
            raise TemplatesNotPermitted(
                "these credentials may not manage index templates (403) and mlmon's are "
                "missing or out of date; run `mlmon setup` once as an administrator "
                "(manage_index_templates)"
            ) from error
        raise
    return SetupResult(node=node, changes=tuple(changes))


def daily_indices(client: Elasticsearch) -> tuple[str, ...]:
    """mlmon 0.1's one-index-per-day names (each a shard; the layout is monthly now).

    Listing needs ``view_index_metadata``: only ``mlmon setup`` (an administrator)
    asks, never the writers that install templates on their way.
    """
    names = client.indices.get(
        index="mlmon-predictions-*,mlmon-actuals-*,mlmon-deadletter-*",
        allow_no_indices=True,
        expand_wildcards="open,closed",
    )
    return tuple(sorted(name for name in names if is_daily(name)))


def _install(client: Elasticsearch, templates: dict[str, dict[str, dict]]) -> list[TemplateChange]:
    """Put what differs (reading templates needs only ``monitor``; writing, more)."""
    changes = []
    for name, body in templates["component"].items():
        action = _action(_current_component(client, name), body)
        if action != "unchanged":
            client.cluster.put_component_template(name=name, **body)
        changes.append(TemplateChange("component", name, action, body["version"]))
    for name, body in templates["index"].items():
        action = _action(_current_index_template(client, name), body)
        if action != "unchanged":
            client.indices.put_index_template(name=name, **body)
        changes.append(TemplateChange("index", name, action, body["version"]))
    return changes


def _action(current: dict | None, wanted: dict) -> str:
    if current is None:
        return "created"
    return "unchanged" if _same(current, wanted) else "updated"


def _same(current: dict, wanted: dict) -> bool:
    """Compare what we send with what is stored, ignoring keys the server adds."""
    return all(_normalise(current.get(key)) == _normalise(value) for key, value in wanted.items())


def _normalise(value: object) -> object:
    """The server returns settings as strings and nests ``index`` settings its own way."""
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _current_component(client: Elasticsearch, name: str) -> dict | None:
    try:
        found = client.cluster.get_component_template(name=name)
    except ClusterNotFound:
        return None
    return found["component_templates"][0]["component_template"]


def _current_index_template(client: Elasticsearch, name: str) -> dict | None:
    try:
        found = client.indices.get_index_template(name=name)
    except ClusterNotFound:
        return None
    return found["index_templates"][0]["index_template"]
