"""Saved objects' structure: what Kibana needs of a file before it imports it.

Known types, unique ids, references that resolve (a dashboard panel's through its
``<panelIndex>:`` prefix, as Kibana looks them up), Lens columns consistent with
their order and their accessors. Pure: no Elasticsearch.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

KNOWN_TYPES = {"index-pattern", "lens", "dashboard", "visualization", "search", "tag"}


@dataclass
class Finding:
    """One problem, named by the object it was found in."""

    object: str
    message: str
    empty: bool = False  # no data, as opposed to broken

    def __str__(self) -> str:
        return f"{self.object}: {self.message}"


def parse_ndjson(text: str) -> tuple[list[dict], list[Finding]]:
    objects, findings = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as error:
            findings.append(Finding(f"line {number}", f"not JSON ({error.msg})"))
            continue
        missing = [k for k in ("id", "type", "attributes", "references") if k not in obj]
        if not isinstance(obj, dict) or missing:
            findings.append(Finding(f"line {number}", f"saved object lacks {missing}"))
            continue
        objects.append(obj)
    return objects, findings


def object_name(obj: dict) -> str:
    return f"{obj['type']} {obj['attributes'].get('title', obj['id'])!r}"


def lens_layers(obj: dict) -> dict[str, dict]:
    return obj["attributes"]["state"]["datasourceStates"].get("formBased", {}).get("layers", {})


def visualization_accessors(visualization: dict) -> set[str]:
    ids = {visualization.get("metricAccessor")}
    ids.update(c["columnId"] for c in visualization.get("columns", []))
    for layer in visualization.get("layers", []):
        ids.update(layer.get("accessors", []))
        ids.update({layer.get("xAccessor"), layer.get("splitAccessor")})
    return {i for i in ids if i}


def _lens_structure(obj: dict, names: set[str]) -> Iterator[str]:
    state = obj["attributes"].get("state") or {}
    layers = lens_layers(obj)
    if not layers:
        yield "has no form-based layer"
    columns: dict[str, dict] = {}
    for layer_id, layer in layers.items():
        if f"indexpattern-datasource-layer-{layer_id}" not in names:
            yield f"layer {layer_id} has no data view reference"
        columns.update(layer.get("columns", {}))
        unordered = set(layer.get("columns", {})) ^ set(layer.get("columnOrder", []))
        if unordered:
            yield f"columns and columnOrder disagree on {sorted(unordered)}"
        for cid, column in layer.get("columns", {}).items():
            for ref in column.get("references", []):
                if ref not in layer["columns"]:
                    yield f"column {cid} refers to missing column {ref}"
    for accessor in visualization_accessors(state.get("visualization", {})) - set(columns):
        yield f"visualization shows missing column {accessor}"


def _panel_reference_names(panel_index: str, names: set[str]) -> set[str]:
    """The reference names a panel's ``panelRefName`` is looked up in, as Kibana's
    dashboard does it: its own ``<panelIndex>:`` references with the prefix removed, or
    every reference when it has none (objects saved before the prefix)."""
    prefix = f"{panel_index}:"
    own = {name.removeprefix(prefix) for name in names if name.startswith(prefix)}
    return own or names


def _dashboard_structure(obj: dict, names: set[str]) -> Iterator[str]:
    try:
        panels = json.loads(obj["attributes"]["panelsJSON"])
    except (KeyError, json.JSONDecodeError):
        yield "panelsJSON is missing or not JSON"
        return
    for panel in panels:
        ref, index = panel.get("panelRefName"), panel.get("panelIndex")
        if ref and ref not in _panel_reference_names(str(index), names):
            yield f"panel {index} refers to missing reference {index}:{ref}"
        grid = panel.get("gridData", {})
        if grid.get("x", 0) + grid.get("w", 0) > 48:
            yield f"panel {panel.get('panelIndex')} is wider than the 48-column grid"
    for control_id in dashboard_controls(obj):
        if f"controlGroup_{control_id}:optionsListDataView" not in names:
            yield f"control {control_id} has no data view reference"


def dashboard_controls(obj: dict) -> dict[str, dict]:
    group = obj["attributes"].get("controlGroupInput") or {}
    return json.loads(group.get("panelsJSON") or "{}")


def check_structure(objects: list[dict]) -> list[Finding]:
    """Types known, ids unique, references resolving, Lens columns consistent."""
    findings: list[Finding] = []
    present = {(o["type"], o["id"]) for o in objects}
    seen: set[tuple[str, str]] = set()
    for obj in objects:
        where = object_name(obj)
        key = (obj["type"], obj["id"])
        if obj["type"] not in KNOWN_TYPES:
            findings.append(Finding(where, f"unknown saved-object type {obj['type']!r}"))
        if key in seen:
            findings.append(Finding(where, f"id {obj['id']} appears twice"))
        seen.add(key)
        for ref in obj["references"]:
            if (ref.get("type"), ref.get("id")) not in present:
                findings.append(
                    Finding(
                        where,
                        f"reference {ref.get('name')} → {ref.get('type')} "
                        f"{ref.get('id')} is not in the file",
                    )
                )
        names = {ref["name"] for ref in obj["references"] if ref.get("name")}
        check = {"lens": _lens_structure, "dashboard": _dashboard_structure}.get(obj["type"])
        if check:
            findings.extend(Finding(where, message) for message in check(obj, names))
    return findings
