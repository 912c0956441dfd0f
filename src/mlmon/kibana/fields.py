"""What the index templates and the data say about a field, for ``mlmon kibana validate``.

A panel may use a field only if a template declares it (statically, or by a
dynamic template that the data has triggered) with a type that supports the use:
percentiles need numbers, terms and controls need keywords or numbers.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass

from mlmon.kibana.queries import FIELD_METRICS

NUMERIC = {"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float"}
TYPES_FOR_USE = {
    "date_histogram": {"date", "date_nanos"},
    "terms": {"keyword", "constant_keyword", "boolean", "ip", *NUMERIC},
    "range": NUMERIC,
    "unique_count": {"keyword", "constant_keyword", "boolean", "ip", "date", *NUMERIC},
    "control": {"keyword", "constant_keyword", "boolean", "ip"},
    **{op: NUMERIC for op in FIELD_METRICS if op != "unique_count"},
}


@dataclass(frozen=True)
class FieldCatalog:
    """What the templates declare and what the data holds, for one index pattern."""

    declared: dict[str, str]  # static template fields → type
    dynamic: list[tuple[str, str]]  # (path_match, mapped type) from dynamic templates
    present: dict[str, set[str]]  # field_caps of the real indices → types

    def problem(self, name: str, use: str) -> str | None:
        allowed = TYPES_FOR_USE.get(use)
        if name in self.declared:
            kind = self.declared[name]
        else:
            patterns = [kind for pattern, kind in self.dynamic if fnmatch.fnmatch(name, pattern)]
            if not patterns:
                return f"field {name} is not in the index template"
            if name not in self.present:
                return f"field {name} is allowed by a dynamic template but no event has it"
            kinds = self.present[name]
            if not kinds & set(patterns):
                return f"field {name} is mapped as {sorted(kinds)}, the template makes {patterns}"
            kind = next(iter(kinds & set(patterns)))
        if allowed is not None and kind not in allowed:
            return f"field {name} is {kind}, which {use} cannot use"
        return None


def _flatten(properties: dict, prefix: str = "") -> Iterator[tuple[str, str]]:
    for key, mapping in properties.items():
        path = f"{prefix}{key}"
        if "properties" in mapping:
            yield from _flatten(mapping["properties"], path + ".")
        elif "type" in mapping and mapping["type"] != "object":
            yield path, mapping["type"]


def catalog_from(mappings: dict, field_caps: dict) -> FieldCatalog:
    """Build the catalog from a simulated index's mappings and a ``_field_caps`` answer."""
    dynamic = [
        (spec["path_match"], spec["mapping"]["type"])
        for template in mappings.get("dynamic_templates", [])
        for spec in template.values()
        if "path_match" in spec and "type" in spec.get("mapping", {})
    ]
    present = {
        name: {kind for kind in kinds if kind != "unmapped"}
        for name, kinds in field_caps.get("fields", {}).items()
    }
    return FieldCatalog(dict(_flatten(mappings.get("properties", {}))), dynamic, present)
