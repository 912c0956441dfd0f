"""structlog processors that turn a log call into an mlmon event.

Each is a plain three-argument callable, testable alone, and usable in a
service's own structlog chain (for example to emit mlmon events on stdout
through the service's existing logging). Each decides at construction what
it can, so the per-event work is small.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Mapping, Sequence
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

    @property
    def block(self) -> dict[str, str]:
        """The ``model`` block it stamps (a copy)."""
        return dict(self._block)

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


class IdSource:
    """Unique 32-hex-digit ids without a system call each: a random 64-bit prefix per
    process (drawn again in a forked child) and a counter."""

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._prefix = os.urandom(8).hex()  # secrets.token_hex(8) without importing secrets
        self._counter = itertools.count()

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._counter):016x}"


new_id = IdSource()


class PredictionId:
    """A unique ``prediction_id`` when the caller gave none."""

    def __call__(self, _logger: Any, _method: str, event_dict: EventDict) -> EventDict:
        if not event_dict.get("prediction_id"):
            event_dict["prediction_id"] = new_id()
        return event_dict


class Validate:
    """The schema's own validation: names, types, NaN/None → missing.

    Raises :class:`mlmon.errors.InvalidEventError` (a ``ValueError``) naming the field.
    """

    def __call__(self, _logger: Any, _method: str, event_dict: Mapping[str, Any]) -> EventDict:
        return normalize_event(event_dict)


class Redact:
    """Drop or hash configured fields before anything leaves the process.

    ``Redact(drop=["features.customer_id"], hash=["features.email"], key=b"...")``:
    dotted paths into the event; a hashed value becomes ``HMAC-SHA256(key, value)``
    (first 32 hex digits), so it still joins and slices (same value, same hash)
    but cannot be reversed or looked up without the key. The key comes from the
    argument or ``MLMON_HASH_KEY``; hashing without one is refused, because an
    unkeyed hash of an email address is a lookup table away from the address.
    Pass it first in ``PredictionLogger(processors=[...])``.
    """

    def __init__(
        self,
        *,
        drop: Sequence[str] = (),
        hash: Sequence[str] = (),
        key: bytes | str | None = None,
    ) -> None:
        key = key if key is not None else os.environ.get("MLMON_HASH_KEY")
        if hash and not key:
            raise ValueError("Redact(hash=...) needs key= or MLMON_HASH_KEY (a secret)")
        self._key = key.encode() if isinstance(key, str) else key
        overlap = set(drop) & set(hash)
        if overlap:
            raise ValueError(f"fields both dropped and hashed: {sorted(overlap)}")
        self._drop = [tuple(path.split(".")) for path in drop]
        self._hash = [tuple(path.split(".")) for path in hash]

    def _digest(self, value: Any) -> str:
        import hashlib  # here: a logger that hashes nothing does not load them
        import hmac

        assert self._key is not None
        text = value if isinstance(value, str) else repr(value)
        return hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    @staticmethod
    def _parent(event: EventDict, path: tuple[str, ...]) -> dict | None:
        node: Any = event
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, Mapping) else None
            if node is None:
                return None
        return node if isinstance(node, dict) else None

    def __call__(self, _logger: Any, _method: str, event_dict: EventDict) -> EventDict:
        for path in self._drop:
            parent = self._parent(event_dict, path)
            if parent is not None:
                parent.pop(path[-1], None)
        for path in self._hash:
            parent = self._parent(event_dict, path)
            if parent is not None and parent.get(path[-1]) is not None:
                parent[path[-1]] = self._digest(parent[path[-1]])
        return event_dict


__all__ = ["EventKind", "ModelStamper", "PredictionId", "Redact", "TimeStamper", "Validate"]
