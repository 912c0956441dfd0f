"""The event schema: one source of truth for field names, limits and index names.

Internal to mlmon: no compatibility promise between releases. The public API is
``mlmon``, ``mlmon.sdk`` (and its processors, sinks), ``mlmon.errors``, ``mlmon.testing``.
"""

from mlmon.schema.event import (
    ACTUALS_INDEX_PATTERN,
    DEADLETTER_INDEX_PATTERN,
    MAX_FEATURES,
    MAX_STRING_LENGTH,
    PREDICTIONS_INDEX_PATTERN,
    PROFILES_INDEX,
    SCHEMA_VERSION,
    actuals_index,
    deadletter_index,
    predictions_index,
    validate_feature_name,
    validate_model_name,
)

__all__ = [
    "ACTUALS_INDEX_PATTERN",
    "DEADLETTER_INDEX_PATTERN",
    "MAX_FEATURES",
    "MAX_STRING_LENGTH",
    "PREDICTIONS_INDEX_PATTERN",
    "PROFILES_INDEX",
    "SCHEMA_VERSION",
    "actuals_index",
    "deadletter_index",
    "predictions_index",
    "validate_feature_name",
    "validate_model_name",
]
