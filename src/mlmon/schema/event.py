"""Event schema v1: field names, limits, index names and value normalisation.

Every path into Elasticsearch (the SDK, ``mlmon ingest``, ``mlmon tag``)
goes through these functions, so an event is the same document whichever
way it travelled. Pure functions, no I/O.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from mlmon.errors import InvalidEventError

SCHEMA_VERSION = 1

PREDICTIONS_INDEX_PATTERN = "mlmon-predictions-*"
ACTUALS_INDEX_PATTERN = "mlmon-actuals-*"
DEADLETTER_INDEX_PATTERN = "mlmon-deadletter-*"
PROFILES_INDEX = "mlmon-profiles"

#: Features one event may carry; with the template's field cap this guards
#: the mapping against explosion.
MAX_FEATURES = 500
#: Longest string value accepted (the index keeps up to 1024 characters searchable).
MAX_STRING_LENGTH = 4096

FEATURE_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,99}$")
MODEL_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")
VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+\-]{0,63}$")

Scalar = str | float | None


def validate_model_name(name: object) -> str:
    """Model names become part of index names: lowercase, digits, ``_`` and ``-``."""
    if not isinstance(name, str) or not MODEL_NAME_RE.match(name):
        raise InvalidEventError(
            f"model name {name!r} is invalid: use 1-64 lowercase letters, digits, '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def validate_version(version: object) -> str:
    if not isinstance(version, str) or not VERSION_RE.match(version):
        raise InvalidEventError(
            f"model version {version!r} is invalid: use 1-64 letters, digits or '._:+-'"
        )
    return version


def validate_feature_name(name: object) -> str:
    """Feature names become field names: no dots (they would nest), no spaces."""
    if not isinstance(name, str) or not FEATURE_NAME_RE.match(name):
        raise InvalidEventError(
            f"feature name {name!r} is invalid: use 1-100 letters, digits, '_' or '-', "
            "starting with a letter or '_' (no dots or spaces)"
        )
    return name


def normalize_value(field: str, value: Any) -> Scalar:
    """One model input or tag value as it is indexed.

    Strings stay strings, numbers become floats, booleans become ``"true"`` /
    ``"false"`` (they are categories), and None, NaN, pandas NA/NaT all mean
    *missing* (None). numpy and pandas scalars are unwrapped. Anything else
    (lists, dicts, dates, infinities, over-long strings) is an error naming
    the field.
    """
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) > MAX_STRING_LENGTH:
            raise InvalidEventError(
                f"{field} is a string of {len(value)} characters, "
                f"over the {MAX_STRING_LENGTH} limit"
            )
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) or _is_decimal(value):
        number = float(value)
        if math.isnan(number):
            return None
        if math.isinf(number):
            raise InvalidEventError(f"{field} is infinite; send a finite number or None")
        return number
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and type(value).__module__ == "numpy":
        return normalize_value(field, item())
    if _is_pandas_missing(value):
        return None
    raise InvalidEventError(
        f"{field} has type {type(value).__name__}; expected a string, number, boolean or None"
    )


def as_keyword(value: str | float) -> str:
    """A normalised value as a keyword (a category or class label): ``1.0`` → ``"1"``.

    The one conversion, so a profile's vocabulary, an event's label and the
    tagger's lookup agree on ``94107`` / ``94107.0`` / ``"94107"``.
    """
    if isinstance(value, str):
        return value
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def _is_decimal(value: Any) -> bool:
    """A ``decimal.Decimal`` (only possible once someone imported decimal: the schema
    does not import it for every model service)."""
    decimal = sys.modules.get("decimal") or sys.modules.get("_decimal")
    return decimal is not None and isinstance(value, decimal.Decimal)


def _is_pandas_missing(value: Any) -> bool:
    module = type(value).__module__
    if not module.startswith("pandas"):
        return False
    return type(value).__name__ in {"NAType", "NaTType"}


def normalize_features(
    features: Mapping[str, Any], *, field: str = "features"
) -> dict[str, Scalar]:
    """Validate names and normalise values of a features (or tags) mapping."""
    if type(features) is not dict and not isinstance(features, Mapping):
        raise InvalidEventError(
            f"{field} must be an object of name → value, not {type(features).__name__}"
        )
    if len(features) > MAX_FEATURES:
        raise InvalidEventError(
            f"{field} has {len(features)} entries, over the {MAX_FEATURES} limit"
        )
    if _VALID_NAMES.issuperset(features) and _plain(features.values()):
        return dict(features)  # what services send: known names, text, floats, None
    out: dict[str, Scalar] = {}
    for name, value in features.items():
        if name not in _VALID_NAMES:
            validate_feature_name(name)
            if len(_VALID_NAMES) < 100_000:
                _VALID_NAMES.add(name)
        kind = type(value)  # fast paths for what services send most: text and floats
        if (kind is str and len(value) <= MAX_STRING_LENGTH) or (
            kind is float and math.isfinite(value)
        ):
            out[name] = value
        else:
            out[name] = normalize_value(f"{field}.{name}", value)
    return out


def _plain(values: Iterable[Any]) -> bool:
    """All already what they are indexed as: text within the limit, finite floats, None."""
    for value in values:
        kind = type(value)
        if kind is float:
            if value - value != 0.0:  # NaN or an infinity
                return False
        elif kind is str:
            if len(value) > MAX_STRING_LENGTH:
                return False
        elif value is not None:
            return False
    return True


#: Feature names already validated (names repeat on every event of a model).
_VALID_NAMES: set[str] = set()


def normalize_attributions(
    attributions: Any,
) -> tuple[dict[str, float], dict[str, float]]:
    """A prediction's additive attributions (SHAP values, a tree's contributions) per
    feature, and their absolute values.

    Both are indexed: a feature's importance is its mean |attribution|, and an
    aggregation sums a field, never a script over one (no Painless), so the
    absolute value is stored beside the signed one. None and NaN mean *no
    attribution* (left out); strings, booleans and infinities are errors.
    """
    signed: dict[str, float] = {}
    absolute: dict[str, float] = {}
    for name, value in normalize_features(attributions, field="attributions").items():
        if isinstance(value, str):
            raise InvalidEventError(f"attributions.{name} must be a number")
        if value is not None:
            signed[name] = value
            absolute[name] = abs(value)
    return signed, absolute


def format_timestamp(moment: datetime) -> str:
    """UTC, millisecond precision, ``Z`` suffix: the one form events carry."""
    if moment.tzinfo is None:
        raise InvalidEventError("timestamp has no time zone; pass an aware datetime (UTC)")
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


_CANONICAL_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\Z")


def normalize_timestamp(value: Any, *, field: str = "@timestamp") -> str:
    """Accept an aware datetime, ISO-8601 text with a zone, or epoch milliseconds."""
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, bool):
        raise InvalidEventError(f"{field} must be a timestamp, not a boolean")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise InvalidEventError(f"{field} is not a finite epoch value")
        try:
            moment = datetime.fromtimestamp(value / 1000.0, tz=timezone.utc)
        except (ValueError, OverflowError, OSError):
            raise InvalidEventError(
                f"{field} {value!r} is out of range for epoch milliseconds"
            ) from None
        return format_timestamp(moment)
    if isinstance(value, str) and _CANONICAL_TIMESTAMP.match(value):
        try:  # already in the one form events carry: check it is a real date, keep it
            datetime.fromisoformat(value[:-1])
        except ValueError:
            pass
        else:
            return value
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidEventError(
                f"{field} {value[:64]!r} is not an ISO-8601 timestamp"
            ) from None
        if parsed.tzinfo is None:
            raise InvalidEventError(f"{field} {value[:64]!r} has no time zone (add Z or +00:00)")
        return format_timestamp(parsed)
    if value is None:
        raise InvalidEventError(f"event has no {field}")
    raise InvalidEventError(f"{field} has type {type(value).__name__}; expected ISO-8601 text")


#: Events are kept in one index per model, kind and UTC month of ``@timestamp``.
#: Daily indices cost a shard each (304 for ten months of one model; a node holds
#: about 1,000), monthly ones twelve a year; the name is a pure function of the
#: event, so a replayed event always meets its first copy (``create`` by id).
#: Shippers that route by themselves (Fluentd, the collector) use this format.
INDEX_PERIOD_STRFTIME = "%Y.%m"


def _month(timestamp: str) -> str:
    """``2026-11-22T…`` → ``2026.11`` (timestamps are normalised first)."""
    return f"{timestamp[0:4]}.{timestamp[5:7]}"


def predictions_index(model: str, timestamp: str) -> str:
    """Monthly index of a model's predictions; retention deletes whole indices."""
    return f"mlmon-predictions-{model}-{_month(timestamp)}"


def actuals_index(model: str, timestamp: str) -> str:
    """Actuals live beside their prediction's month (the actual carries that timestamp)."""
    return f"mlmon-actuals-{model}-{_month(timestamp)}"


def deadletter_index(timestamp: str) -> str:
    return f"mlmon-deadletter-{_month(timestamp)}"


def model_indices(kind: str, model: str) -> str:
    """Index pattern of one model's indices of a kind (``predictions`` or ``actuals``).

    The pattern may also match a model whose name extends this one
    (``fraud`` and ``fraud-v2``); queries always filter on ``model.name`` too.
    """
    return f"mlmon-{kind}-{validate_model_name(model)}-*"
