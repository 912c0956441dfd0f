"""Field markers for report values whose JSON leaves a key out when it holds nothing.

:func:`mlmon.analysis.result.to_json` writes a field's name as the key and
reads these markers; the values that carry optional keys (drift, quality,
the report itself) mark them with ``field(default=..., metadata=OMIT_EMPTY)``,
so the rule is written once.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

#: Leave the key out when the value is None, False or an empty tuple.
OMIT_EMPTY: Mapping[str, bool] = MappingProxyType({"omit_empty": True})
#: Leave the key out only when the value is None (an empty list is still written).
OMIT_NONE: Mapping[str, bool] = MappingProxyType({"omit_none": True})


def omitted(metadata: Mapping[str, Any], value: Any) -> bool:
    """Whether a field with this metadata and value is left out of the JSON."""
    if metadata.get("omit_none"):
        return value is None
    if metadata.get("omit_empty"):
        return value is None or value is False or value == ()
    return False
