"""The common prediction call without the general processor chain, split over two threads.

``prediction(features, label, score)`` (``attributions=`` too) with no processors of the
service's own
and no test clock is validated in the caller's thread (invalid input raises
there) into a *row*, a tuple ``(prediction_id, time, features, outcome)``: one
small object for the hand-off and for the garbage collector, no document yet.
The worker turns a batch of rows into documents (:meth:`PredictionDocs.documents`):
the model and event blocks are known when the logger is made, the timestamp is
formatted from the caller's clock reading, and only the caller's values went
through the schema's normalisers. The document is the one
:func:`~mlmon.schema.document.normalize_event` gives for the same call
(tests/unit/test_fastpath.py compares them over arbitrary input).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from mlmon.errors import InvalidEventError
from mlmon.schema.document import attach_attributions, normalize_label
from mlmon.schema.event import (
    MAX_STRING_LENGTH,
    SCHEMA_VERSION,
    normalize_features,
    normalize_value,
)

#: What the caller hands the worker for a plain prediction.
Row = tuple[str, float, dict[str, Any], dict[str, Any] | None]


class UtcNow:
    """``@timestamp`` of an epoch time, as :func:`~mlmon.schema.event.format_timestamp`
    writes it, with the formatting of the second done once a second (one tuple: safe
    across threads)."""

    def __init__(self) -> None:
        self._second: tuple[int, str] = (-1, "")

    def format(self, now: float) -> str:
        second = int(now)
        cached, prefix = self._second
        if cached != second:
            prefix = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second))
            self._second = (second, prefix)
        return f"{prefix}{int((now - second) * 1000):03d}Z"

    def __call__(self) -> str:
        return self.format(time.time())


def _number(field: str, value: Any) -> float | None:
    if type(value) is float and math.isfinite(value):
        return value
    scalar = normalize_value(field, value)
    if isinstance(scalar, str):
        raise InvalidEventError(f"{field} must be a number, got the string {scalar[:40]!r}")
    return scalar


def _outcome(label: Any, score: Any, value: Any) -> dict[str, Any] | None:
    """The ``prediction`` block (None: the call gave none of the three)."""
    if label is None and score is None and value is None:
        return None
    outcome: dict[str, Any] = {}
    if label is not None:
        if type(label) is not str or len(label) > MAX_STRING_LENGTH:
            label = normalize_label("prediction.label", label)
        if label is not None:
            outcome["label"] = label
    if value is not None:
        value = _number("prediction.value", value)
        if value is not None:
            outcome["value"] = value
    if score is not None:
        if type(score) is not float or score - score != 0.0:  # else a finite float: as it is
            score = _number("prediction.score", score)
        if score is not None:
            outcome["score"] = score
    if not outcome:
        raise InvalidEventError("prediction needs a label, value or score")
    return outcome


class PredictionDocs:
    """Rows of plain prediction calls (caller's thread) and their documents (worker's)."""

    def __init__(
        self, model_block: Mapping[str, str], *, clock: Callable[[], float] = time.time
    ) -> None:
        self._model = dict(model_block)
        self._clock = clock
        self._stamp = UtcNow()

    def row(
        self,
        prediction_id: str,
        features: Mapping[str, Any],
        label: Any,
        score: Any,
        value: Any,
        attributions: Any = None,
    ) -> Row | tuple[dict[str, Any], None, None, None]:
        """Validate a call (raises :class:`InvalidEventError` naming the field): its row, or
        with attributions its document made here (and three ``None``: the hand-off's slots)."""
        now = self._clock()
        normal = normalize_features(features if features is not None else {})
        if attributions is None:
            return (prediction_id, now, normal, _outcome(label, score, value))
        doc = self.documents([prediction_id, now, normal, None])[0]
        attach_attributions(doc, attributions)
        outcome = _outcome(label, score, value)
        if outcome is not None:
            doc["prediction"] = outcome
        return (doc, None, None, None)

    def documents(self, slots: list[Any]) -> list[dict[str, Any]]:
        """Events as the hand-off lays them out (four slots each: a row, or a document of
        the general path and three ``None``) as documents, in order."""
        model, stamp = self._model, self._stamp.format
        event = {"kind": "prediction", "schema_version": SCHEMA_VERSION}
        docs = []
        each = iter(slots)
        for first, now, features, outcome in zip(each, each, each, each, strict=True):
            if type(first) is not str:
                docs.append(first)  # a document already
                continue
            doc = {
                "@timestamp": stamp(now),
                "event": event.copy(),
                "model": model.copy(),
                "prediction_id": first,
                "features": features,
            }
            if outcome is not None:
                doc["prediction"] = outcome
            docs.append(doc)
        return docs

    def document(self, row: Row) -> dict[str, Any]:
        return self.documents([*row])[0]
