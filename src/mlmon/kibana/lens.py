"""Turn :mod:`mlmon.kibana.spec` panels into Kibana 8.x saved objects: the data view
and one Lens object per panel (referenced by its dashboard, so each can be opened
and edited alone; :mod:`mlmon.kibana.board` writes the dashboards).

Ids are derived from names, so exporting twice gives the same NDJSON and an
import overwrites instead of duplicating.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from mlmon.kibana.spec import (
    Bucket,
    Count,
    Dashboard,
    DateHistogram,
    Metric,
    Panel,
    Ranges,
    Ratio,
    Terms,
    Value,
)
from mlmon.schema.event import PREDICTIONS_INDEX_PATTERN

KIBANA_VERSION = "8.19.21"
DATA_VIEW_ID = "mlmon-predictions"
_NAMESPACE = uuid.UUID("5b0c6f52-3f0e-4a57-9d0e-6a1c1b5d2e10")
# How Lens labels a range bucket ("0.9 → +∞"), as its editor writes it in range mode.
RANGE_FORMAT = {"id": "range", "params": {"template": "arrow_right", "replaceInfinity": True}}
_MIGRATIONS = {  # the saved-object shapes written here; Kibana migrates from them
    "index-pattern": "8.0.0",
    "lens": "8.9.0",
    "dashboard": "8.9.0",
}

SavedObject = dict[str, Any]


def stable_id(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def saved_object(kind: str, object_id: str, attributes: dict, references: list) -> SavedObject:
    return {
        "id": object_id,
        "type": kind,
        "attributes": attributes,
        "references": references,
        "coreMigrationVersion": "8.8.0",
        "typeMigrationVersion": _MIGRATIONS[kind],
        "managed": False,
    }


def data_view() -> SavedObject:
    return saved_object(
        "index-pattern",
        DATA_VIEW_ID,
        {
            "title": PREDICTIONS_INDEX_PATTERN,
            "name": "mlmon predictions",
            "timeFieldName": "@timestamp",
            "fields": "[]",
            "fieldFormatMap": json.dumps({"latency_ms.total": {"id": "number"}}),
            "runtimeFieldMap": "{}",
            "typeMeta": "{}",
        },
        [],
    )


# --- columns -------------------------------------------------------------------


def _bucket_column(bucket: Bucket, order_column: str | None) -> dict:
    if isinstance(bucket, DateHistogram):
        return {
            "label": bucket.field,
            "dataType": "date",
            "operationType": "date_histogram",
            "sourceField": bucket.field,
            "isBucketed": True,
            "scale": "interval",
            "params": {
                "interval": bucket.interval,
                "includeEmptyRows": True,
                "dropPartials": False,
            },
        }
    if isinstance(bucket, Terms):
        order = (
            {"type": "alphabetical", "fallback": False}
            if bucket.alphabetical or order_column is None
            else {"type": "column", "columnId": order_column}
        )
        return {
            "label": f"Top values of {bucket.field}",
            "dataType": "string",
            "operationType": "terms",
            "sourceField": bucket.field,
            "isBucketed": True,
            "scale": "ordinal",
            "params": {
                "size": bucket.size,
                "orderBy": order,
                "orderDirection": "asc" if bucket.alphabetical else "desc",
                "otherBucket": bucket.other_bucket,
                "missingBucket": False,
                "parentFormat": {"id": "terms"},
            },
        }
    if isinstance(bucket, Ranges):  # Lens's "range" mode: string keys, an open end is null
        return {
            "label": bucket.field,
            "dataType": "string",
            "operationType": "range",
            "sourceField": bucket.field,
            "isBucketed": True,
            "scale": "ordinal",
            "params": {
                "type": "range",
                "maxBars": "auto",
                "ranges": [{"from": low, "to": high, "label": ""} for low, high in bucket.edges],
                "parentFormat": RANGE_FORMAT,
            },
        }
    raise TypeError(f"unknown bucket {bucket!r}")


def _count(label: str, lucene: str | None, *, hidden: bool = False) -> dict:
    column: dict = {
        "label": label,
        "dataType": "number",
        "operationType": "count",
        "isBucketed": False,
        "scale": "ratio",
        "sourceField": "___records___",
        "params": {"emptyAsNull": not hidden},
        "customLabel": True,
    }
    if lucene:
        column["filter"] = {"query": lucene, "language": "lucene"}
    return column


def _formula_text(ratio: Ratio) -> str:
    numerator = f"count(lucene='{ratio.numerator}')"
    denominator = f"count(lucene='{ratio.denominator}')" if ratio.denominator else "count()"
    return f"{numerator} / {denominator}"


def _value_columns(value: Value, column_id: str) -> dict[str, dict]:
    """The column(s) Lens stores for one value; a formula brings its hidden parts."""
    if isinstance(value, Count):
        return {column_id: _count(value.label, value.filter)}
    if isinstance(value, Metric):
        column = {
            "label": value.label,
            "dataType": "number",
            "operationType": value.operation,  # spec names are Lens operation names
            "sourceField": value.field,
            "isBucketed": False,
            "scale": "ratio",
            "params": {"emptyAsNull": True},
            "customLabel": True,
        }
        if value.operation == "percentile":
            column["params"]["percentile"] = value.percent
        return {column_id: column}
    if isinstance(value, Ratio):
        text = _formula_text(value)
        part = f"Part of {text}"
        numerator, denominator, math = (f"{column_id}X{i}" for i in range(3))
        return {
            numerator: _count(part, value.numerator, hidden=True),
            denominator: _count(part, value.denominator, hidden=True),
            math: {
                "label": part,
                "dataType": "number",
                "operationType": "math",
                "isBucketed": False,
                "scale": "ratio",
                "params": {
                    "tinymathAst": {
                        "type": "function",
                        "name": "divide",
                        "args": [numerator, denominator],
                        "location": {"min": 0, "max": len(text)},
                        "text": text,
                    }
                },
                "references": [numerator, denominator],
                "customLabel": True,
            },
            column_id: {
                "label": value.label,
                "dataType": "number",
                "operationType": "formula",
                "isBucketed": False,
                "scale": "ratio",
                "params": {
                    "formula": text,
                    "isFormulaBroken": False,
                    "format": {"id": "percent" if value.percent else "number"},
                },
                "references": [math],
                "customLabel": True,
            },
        }
    raise TypeError(f"unknown value {value!r}")


# --- visualizations ------------------------------------------------------------


def _visualization(panel: Panel, layer_id: str, buckets: list[str], values: list[str]) -> dict:
    if panel.chart == "metric":
        if buckets or len(values) != 1:
            raise ValueError(f"metric panel {panel.title!r} shows one value and no buckets")
        return {"layerId": layer_id, "layerType": "data", "metricAccessor": values[0]}
    if panel.chart == "table":
        return {
            "layerId": layer_id,
            "layerType": "data",
            "columns": [{"columnId": c, "isTransposed": False} for c in buckets + values],
        }
    if not buckets or len(buckets) > 2:
        raise ValueError(f"chart {panel.title!r} needs an x bucket and at most one split")
    layer = {
        "layerId": layer_id,
        "layerType": "data",
        "seriesType": panel.chart,
        "xAccessor": buckets[0],
        "accessors": values,
    }
    if len(buckets) == 2:
        layer["splitAccessor"] = buckets[1]
    return {
        "legend": {"isVisible": True, "position": "right"},
        "valueLabels": "hide",
        "fittingFunction": "Linear" if panel.chart == "line" else "None",
        "preferredSeriesType": panel.chart,
        "layers": [layer],
    }


_LENS_TYPES = {"metric": "lnsMetric", "table": "lnsDatatable"}


def _nesting_order(buckets: tuple[Bucket, ...], column_ids: list[str]) -> list[str]:
    """Bucket columns in the order Lens nests them when they are added x first, then the
    breakdown: a terms column goes above the first date histogram, so its top values are
    chosen over the whole time range and a series does not change from bucket to bucket."""
    by_id = dict(zip(column_ids, buckets, strict=True))
    order: list[str] = []
    for column_id, bucket in by_id.items():
        dates = [i for i, c in enumerate(order) if isinstance(by_id[c], DateHistogram)]
        if isinstance(bucket, Terms) and dates:
            order.insert(dates[0], column_id)
        else:
            order.append(column_id)
    return order


def lens(dashboard: Dashboard, panel: Panel) -> SavedObject:
    """One Lens saved object: a single form-based layer over the mlmon data view."""
    layer_id = stable_id(dashboard.slug, panel.title, "layer")
    value_ids = [f"v{i}" for i in range(len(panel.values))]
    bucket_ids = [f"b{i}" for i in range(len(panel.buckets))]
    columns: dict[str, dict] = {}
    for value, column_id in zip(panel.values, value_ids, strict=True):
        columns.update(_value_columns(value, column_id))
    order_column = value_ids[0] if isinstance(panel.values[0], Count | Metric) else None
    for bucket, column_id in zip(panel.buckets, bucket_ids, strict=True):
        columns[column_id] = _bucket_column(bucket, order_column)
    hidden = [c for c in columns if c not in value_ids and c not in bucket_ids]
    state = {
        "visualization": _visualization(panel, layer_id, bucket_ids, value_ids),
        "query": {"query": panel.query, "language": "lucene"},
        "filters": [],
        "datasourceStates": {
            "formBased": {
                "layers": {
                    layer_id: {
                        "columns": columns,
                        "columnOrder": _nesting_order(panel.buckets, bucket_ids)
                        + value_ids
                        + hidden,
                        "incompleteColumns": {},
                    }
                }
            }
        },
        "internalReferences": [],
        "adHocDataViews": {},
    }
    return saved_object(
        "lens",
        stable_id(dashboard.slug, panel.title),
        {
            "title": panel.title,
            "description": panel.description,
            "visualizationType": _LENS_TYPES.get(panel.chart, "lnsXY"),
            "state": state,
        },
        [
            {
                "type": "index-pattern",
                "id": DATA_VIEW_ID,
                "name": f"indexpattern-datasource-layer-{layer_id}",
            }
        ],
    )
