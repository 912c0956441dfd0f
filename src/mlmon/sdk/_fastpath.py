"""The common prediction call without the general processor chain.

``prediction(features, label, score)`` (``attributions=`` too) with no processors
of the service's own and no test clock builds its document directly: the model block and event
block are known when the logger is made, the id and the timestamp are made
here, and only the caller's values go through the schema's normalisers. The
document is the one :func:`~mlmon.schema.document.normalize_event` gives for
the same call (tests/unit/test_fastpath.py compares them over arbitrary input);
it costs a fraction of the chain, which stays for everything else.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

from mlmon.errors import InvalidEventError
from mlmon.schema.document import attach_attributions, normalize_label
from mlmon.schema.event import SCHEMA_VERSION, normalize_features, normalize_value


class UtcNow:
    """``@timestamp`` now, as :func:`~mlmon.schema.event.format_timestamp` writes it, with
    the formatting of the second done once a second (one tuple: safe across threads)."""

    def __init__(self) -> None:
        self._second: tuple[int, str] = (-1, "")

    def __call__(self) -> str:
        now = time.time()
        second = int(now)
        cached, prefix = self._second
        if cached != second:
            prefix = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second))
            self._second = (second, prefix)
        return f"{prefix}{int((now - second) * 1000):03d}Z"


def _number(field: str, value: Any) -> float | None:
    if type(value) is float and math.isfinite(value):
        return value
    scalar = normalize_value(field, value)
    if isinstance(scalar, str):
        raise InvalidEventError(f"{field} must be a number, got the string {scalar[:40]!r}")
    return scalar


class PredictionDocs:
    """Builds the indexed document of a plain prediction call."""

    def __init__(self, model_block: Mapping[str, str]) -> None:
        self._model = dict(model_block)
        self.now = UtcNow()

    def __call__(
        self,
        prediction_id: str,
        features: Mapping[str, Any],
        label: Any,
        score: Any,
        value: Any,
        attributions: Any = None,
    ) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "@timestamp": self.now(),
            "event": {"kind": "prediction", "schema_version": SCHEMA_VERSION},
            "model": self._model.copy(),
            "prediction_id": prediction_id,
            "features": normalize_features(features if features is not None else {}),
        }
        if attributions is not None:
            attach_attributions(doc, attributions)
        if label is None and score is None and value is None:
            return doc
        outcome: dict[str, Any] = {}
        if label is not None:
            label = normalize_label("prediction.label", label)
            if label is not None:
                outcome["label"] = label
        if value is not None:
            value = _number("prediction.value", value)
            if value is not None:
                outcome["value"] = value
        if score is not None:
            score = _number("prediction.score", score)
            if score is not None:
                outcome["score"] = score
        if not outcome:
            raise InvalidEventError("prediction needs a label, value or score")
        doc["prediction"] = outcome
        return doc
