"""Whole events: validate and normalise a prediction or actual into its indexed form.

The SDK builds a raw dict from its keyword arguments and passes it here;
``mlmon ingest`` passes each JSON line here. One function, so both paths
give the same document.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlmon.errors import InvalidEventError
from mlmon.schema.event import (
    MAX_STRING_LENGTH,
    SCHEMA_VERSION,
    as_keyword,
    normalize_attributions,
    normalize_features,
    normalize_timestamp,
    normalize_value,
    validate_model_name,
    validate_version,
)

KINDS = ("prediction", "actual")
_ID_MAX = 128
_LATENCY_KEYS = ("total", "inference")
#: The absolute values of a prediction's attributions, indexed beside them (what is summed).
ATTRIBUTIONS_ABS = "attributions_abs"


def normalize_label(field: str, value: Any) -> str | None:
    """Class labels are keywords: ``1`` and ``1.0`` both become ``"1"``."""
    scalar = normalize_value(field, value)
    return None if scalar is None else as_keyword(scalar)


def _number(field: str, value: Any) -> float | None:
    scalar = normalize_value(field, value)
    if isinstance(scalar, str):
        raise InvalidEventError(f"{field} must be a number, got the string {scalar[:40]!r}")
    return scalar


def _text(field: str, value: Any, *, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise InvalidEventError(f"event has no {field}")
        return None
    if not isinstance(value, str) or not value or len(value) > _ID_MAX:
        raise InvalidEventError(
            f"{field} must be a non-empty string of at most {_ID_MAX} characters"
        )
    return value


def _mapping(field: str, value: Any) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidEventError(f"{field} must be an object, not {type(value).__name__}")
    return value


def _model(raw: Mapping[str, Any], *, version_required: bool) -> dict[str, str]:
    model = _mapping("model", raw.get("model"))
    out = {"name": validate_model_name(model.get("name"))}
    version = model.get("version")
    if version is not None or version_required:
        out["version"] = validate_version(version)
    for key in ("environment", "deployment"):
        if model.get(key) is not None:
            text = model[key]
            if not isinstance(text, str) or len(text) > 64:
                raise InvalidEventError(f"model.{key} must be a string of at most 64 characters")
            out[key] = text
    return out


def _outcome(field: str, raw: Any, *, with_score: bool) -> dict[str, Any]:
    """``prediction`` / ``actual``: a label (classification) or a value (regression)."""
    if not isinstance(raw, Mapping):  # a bare label is accepted for convenience
        raw = {"label": raw}
    known = {"label", "value", "score"} if with_score else {"label", "value"}
    unknown = set(raw) - known
    if unknown:
        raise InvalidEventError(
            f"{field} has unknown keys {sorted(unknown)}; allowed: {sorted(known)}"
        )
    out: dict[str, Any] = {}
    if raw.get("label") is not None:
        out["label"] = normalize_label(f"{field}.label", raw["label"])
    if raw.get("value") is not None:
        out["value"] = _number(f"{field}.value", raw["value"])
    if with_score and raw.get("score") is not None:
        out["score"] = _number(f"{field}.score", raw["score"])
    out = {k: v for k, v in out.items() if v is not None}
    if not out:
        raise InvalidEventError(f"{field} needs a label, value or score")
    return out


def _latency(raw: Any) -> dict[str, Any]:
    latency = _mapping("latency_ms", raw)
    unknown = set(latency) - {*_LATENCY_KEYS, "features"}
    if unknown:
        raise InvalidEventError(
            f"latency_ms has unknown keys {sorted(unknown)}; allowed: total, inference, features"
        )
    out: dict[str, Any] = {}
    for key in _LATENCY_KEYS:
        if latency.get(key) is not None:
            out[key] = _number(f"latency_ms.{key}", latency[key])
    if latency.get("features"):
        lookups = normalize_features(latency["features"], field="latency_ms.features")
        for name, value in lookups.items():
            if isinstance(value, str):
                raise InvalidEventError(f"latency_ms.features.{name} must be a number")
        out["features"] = {k: v for k, v in lookups.items() if v is not None}
    return {k: v for k, v in out.items() if v is not None}


def _trace(raw: Any) -> dict[str, str]:
    trace = _mapping("trace", raw)
    out = {}
    for key in ("id", "parent_prediction_id", "shadow_of"):
        if trace.get(key) is not None:
            out[key] = _text(f"trace.{key}", trace[key])
    return out


def attach_attributions(doc: dict[str, Any], attributions: Any) -> None:
    """``attributions`` and ``attributions_abs`` on a prediction's document (none when
    every value is missing). The one place both the schema and the SDK's fast path
    add them, so the two documents stay the same."""
    signed, absolute = normalize_attributions(attributions)
    if signed:
        doc["attributions"] = signed
        doc[ATTRIBUTIONS_ABS] = absolute


def score_outcome(
    prediction: Mapping[str, Any] | None, actual: Mapping[str, Any]
) -> dict[str, Any]:
    """``correct`` (labels) and the errors (values, prediction − actual) of a joined actual.

    Stored on the prediction so accuracy, MAE, RMSE and MAPE are plain ``avg``
    aggregations (no scripts anywhere). Pure; returns only what both sides
    allow (no percentage error when the actual is 0).
    """
    prediction = prediction or {}
    scored: dict[str, Any] = {}
    if prediction.get("label") is not None and actual.get("label") is not None:
        scored["correct"] = prediction["label"] == actual["label"]
    if prediction.get("value") is not None and actual.get("value") is not None:
        truth = float(actual["value"])
        error = float(prediction["value"]) - truth
        scored["error"] = error
        scored["abs_error"] = abs(error)
        scored["squared_error"] = error * error
        if truth != 0.0:
            scored["abs_percentage_error"] = abs(error / truth)
    return scored


# What the join writes beside the actual's label/value: recomputed, never trusted.
_SCORED_KEYS = frozenset({"correct", "error", "abs_error", "squared_error", "abs_percentage_error"})


def _joined_actual(raw: Any) -> dict[str, Any]:
    """An actual inline in a prediction, also as mlmon indexed it (re-ingesting an export)."""
    if not isinstance(raw, Mapping):
        return _outcome("actual", raw, with_score=False)
    given = {k: v for k, v in raw.items() if k not in _SCORED_KEYS and k != "timestamp"}
    actual = _outcome("actual", given, with_score=False)
    if raw.get("timestamp") is not None:
        actual["timestamp"] = normalize_timestamp(raw["timestamp"], field="actual.timestamp")
    return actual


def normalize_event(raw: Any) -> dict[str, Any]:
    """Validate one event (prediction or actual) and return its indexed form.

    Raises :class:`InvalidEventError` naming the first field that is wrong.
    An existing ``quality`` block is kept as it is (events tagged upstream).
    """
    if not isinstance(raw, Mapping):
        raise InvalidEventError(f"an event must be a JSON object, not {type(raw).__name__}")
    event = _mapping("event", raw.get("event"))
    kind = event.get("kind", "prediction")
    if kind not in KINDS:
        raise InvalidEventError(f"event.kind {str(kind)[:40]!r} is not one of {', '.join(KINDS)}")
    schema_version = event.get("schema_version", SCHEMA_VERSION)
    if schema_version != SCHEMA_VERSION:
        raise InvalidEventError(
            f"event.schema_version {schema_version!r} is not supported "
            f"(this mlmon reads {SCHEMA_VERSION})"
        )
    doc: dict[str, Any] = {
        "@timestamp": normalize_timestamp(raw.get("@timestamp")),
        "event": {"kind": kind, "schema_version": SCHEMA_VERSION},
        "model": _model(raw, version_required=kind == "prediction"),
        "prediction_id": _text("prediction_id", raw.get("prediction_id"), required=True),
    }
    if kind == "prediction":
        doc["features"] = normalize_features(_mapping("features", raw.get("features")))
        if raw.get("tags"):
            doc["tags"] = normalize_features(raw["tags"], field="tags")
        if raw.get("prediction") is not None:
            doc["prediction"] = _outcome("prediction", raw["prediction"], with_score=True)
        if raw.get("actual") is not None:
            doc["actual"] = _joined_actual(raw["actual"])
            doc["actual"].update(score_outcome(doc.get("prediction"), doc["actual"]))
        if raw.get("latency_ms"):
            doc["latency_ms"] = _latency(raw["latency_ms"])
        if raw.get("trace"):
            doc["trace"] = _trace(raw["trace"])
        if raw.get("quality") is not None:
            doc["quality"] = dict(_mapping("quality", raw["quality"]))
        if raw.get("attributions") is not None:
            attach_attributions(doc, raw["attributions"])
    else:
        doc["actual"] = _outcome("actual", raw.get("actual"), with_score=False)
        if raw.get("prediction_timestamp") is not None:
            doc["prediction_timestamp"] = normalize_timestamp(
                raw["prediction_timestamp"], field="prediction_timestamp"
            )
    known = {
        "@timestamp",
        "event",
        "model",
        "prediction_id",
        "features",
        "tags",
        "prediction",
        "actual",
        "latency_ms",
        "trace",
        "quality",
        "prediction_timestamp",
        "join",
        "attributions",
        "attributions_abs",  # derived from attributions: recomputed, never trusted
        "pair",  # mlmon's own pairing block on a shadow (an export): recomputed, never trusted
    }
    unknown = sorted(set(raw) - known)
    if unknown:
        shown = ", ".join(str(k)[:40] for k in unknown[:5])
        raise InvalidEventError(f"event has unknown top-level fields: {shown}")
    return doc


__all__ = [
    "ATTRIBUTIONS_ABS",
    "KINDS",
    "MAX_STRING_LENGTH",
    "attach_attributions",
    "normalize_event",
    "normalize_label",
    "score_outcome",
]
