"""structlog processors that turn a log call into an mlmon event.

Each is a plain three-argument callable, testable alone, and usable in a
service's own structlog chain (for example to emit mlmon events on stdout
through the service's existing logging). Each decides at construction what
it can, so the per-event work is small.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from mlmon.schema.document import normalize_event
from mlmon.schema.event import (
    SCHEMA_VERSION,
    format_timestamp,
    validate_model_name,
    validate_version,
)

EventDict = dict[str, Any]


class EventKind:
    """structlog's ``event`` message (``"prediction"``/``"actual"``) becomes ``event.kind``.

    ECS and mlmon own ``event.*``, so the message string must not stay there.
    """

    def __call__(self, _logger: Any, _method: str, event_dict: EventDict) -> EventDict:
        kind = event_dict.get("event")
        if isinstance(kind, str):
            event_dict["event"] = {"kind": kind, "schema_version": SCHEMA_VERSION}
        return event_dict


class ModelStamper:
    """Adds the ``model`` block the logger was built for."""

    def __init__(
        self,
        name: str,
        version: str,
        *,
        environment: str | None = None,
        deployment: str | None = None,
    ) -> None:
        block = {"name": validate_model_name(name), "version": validate_version(version)}
        if environment:
            block["environment"] = environment
        if deployment:
            block["deployment"] = deployment
        self._block = block

    def __call__(self, _logger: Any, _method: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("model", dict(self._block))
        return event_dict


class TimeStamper:
    """``@timestamp`` in UTC with milliseconds, unless the caller gave one."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(timezone.utc))

    def __call__(self, _logger: Any, _method: str, event_dict: EventDict) -> EventDict:
        if event_dict.get("@timestamp") is None:
            event_dict["@timestamp"] = format_timestamp(self._clock())
        return event_dict


class PredictionId:
    """A random ``prediction_id`` when the caller gave none."""

    def __call__(self, _logger: Any, _method: str, event_dict: EventDict) -> EventDict:
        if not event_dict.get("prediction_id"):
            event_dict["prediction_id"] = uuid.uuid4().hex
        return event_dict


class Validate:
    """The schema's own validation: names, types, NaN/None → missing.

    Raises :class:`mlmon.errors.InvalidEventError` (a ``ValueError``) naming the field.
    """

    def __call__(self, _logger: Any, _method: str, event_dict: Mapping[str, Any]) -> EventDict:
        return normalize_event(event_dict)


__all__ = ["EventKind", "ModelStamper", "PredictionId", "TimeStamper", "Validate"]
