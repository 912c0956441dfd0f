"""Where events go: stdout (node agents), Fluentd (forward protocol) or Elasticsearch (bulk).

All three carry the same normalised, tagged event. A sink runs in the
logger's background thread; ``send`` either delivers the whole batch or
raises :class:`SinkError` saying how many leading events were delivered, so
the worker retries exactly the rest and every event is accounted for.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import IO, Any, Protocol
from urllib.parse import urlsplit

import orjson

from mlmon.errors import MlmonError, SinkError, UsageError
from mlmon.es.settings import ConnectionSettings


@dataclass
class SendReport:
    """Counters a sink adds to the logger's stats (e.g. duplicates, dead-lettered)."""

    counters: dict[str, int] = field(default_factory=dict)


class Sink(Protocol):
    def send(self, batch: list[dict[str, Any]]) -> SendReport | None: ...

    def idle(self, *, force: bool = False) -> SendReport | None: ...

    def close(self) -> None: ...


def _default(value: Any) -> Any:
    """Explicit fallbacks for the renderer (never ``repr``)."""
    if isinstance(value, datetime):
        return value.isoformat()
    item = getattr(value, "item", None)
    if callable(item):
        return item()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dumps(event: dict[str, Any]) -> bytes:
    return orjson.dumps(event, default=_default)


#: Every StdoutSink of the process writes under this lock: two loggers (say v1 and a
#: v2 canary) writing to one pipe at once interleaved their lines mid-event.
_STDOUT_WRITE = threading.Lock()


class StdoutSink:
    """One JSON line per event, for node agents that tail container logs."""

    def __init__(self, stream: IO[Any] | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdout
        self._binary = getattr(self._stream, "buffer", None)

    def send(self, batch: list[dict[str, Any]]) -> None:
        data = b"".join(dumps(event) + b"\n" for event in batch)
        try:
            with _STDOUT_WRITE:
                if self._binary is not None:
                    self._binary.write(data)
                    self._binary.flush()
                else:
                    self._stream.write(data.decode())
                    self._stream.flush()
        except (OSError, ValueError) as exc:
            raise SinkError(f"stdout: {exc}") from exc

    def idle(self, *, force: bool = False) -> None:
        return None

    def close(self) -> None:
        return None


def epoch_seconds(timestamp: str) -> float:
    """``2026-11-22T10:00:00.123Z`` → seconds since the epoch (the forward protocol's time)."""
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


class FluentdSink:
    """The forward protocol through fluent-logger; tags ``mlmon.<kind>.<model>``.

    fluent-logger keeps failed records in its own buffer and may resend them
    with a later record; mlmon drops that buffer after a failure and retries
    itself, so its counters stay exact.
    """

    def __init__(self, host: str, port: int, *, timeout: float = 1.0) -> None:
        from fluent.sender import FluentSender

        self.address = f"{host}:{port}"
        self._sender = FluentSender(
            "mlmon",
            host=host,
            port=port,
            timeout=timeout,
            nanosecond_precision=True,
            bufmax=1024 * 1024,
            buffer_overflow_handler=lambda _pending: None,
        )

    def send(self, batch: list[dict[str, Any]]) -> None:
        for position, event in enumerate(batch):
            label = f"{event['event']['kind']}.{event['model']['name']}"
            if not self._sender.emit_with_time(label, epoch_seconds(event["@timestamp"]), event):
                error = self._sender.last_error
                self._sender.clear_last_error()
                self._sender.pendings = None  # mlmon retries; do not let fluent-logger resend too
                raise SinkError(f"fluentd at {self.address}: {error}", delivered=position)

    def idle(self, *, force: bool = False) -> None:
        return None

    def close(self) -> None:
        self._sender.close()


class ElasticsearchSink:
    """Bulk-indexes directly (development, tests, small deployments) and joins actuals."""

    def __init__(
        self,
        settings: ConnectionSettings | None = None,
        *,
        join_interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings or ConnectionSettings.from_env()
        self._client: Any = None
        self._join_interval = join_interval
        self._clock = clock
        self._last_join = 0.0
        self._models_to_join: set[str] = set()

    def _connect(self) -> Any:
        if self._client is None:
            from mlmon.es.client import connect

            self._client = connect(self._settings, check=False)
        return self._client

    def send(self, batch: list[dict[str, Any]]) -> SendReport:
        from mlmon.es.writer import write_events

        try:
            result = write_events(self._connect(), batch, source="sdk")
        except MlmonError as exc:
            raise SinkError(str(exc)) from exc
        if result.actuals or self._models_to_join:
            self._models_to_join.update(e["model"]["name"] for e in batch)
        return SendReport(
            {
                "indexed": result.indexed,
                "duplicates": result.duplicates,
                "dead_lettered": result.dead_lettered,
                "rejected": result.failed,
            }
        )

    def idle(self, *, force: bool = False) -> SendReport | None:
        """Join actuals written since the last pass (at most every ``join_interval`` seconds)."""
        if not self._models_to_join:
            return None
        if not force and self._clock() - self._last_join < self._join_interval:
            return None
        from mlmon.es.join import join_pending

        joined = pending = 0
        try:
            for model in sorted(self._models_to_join):
                result = join_pending(self._connect(), model=model)
                joined += result.joined
                pending += result.pending
        except MlmonError:
            return SendReport({"join_errors": 1})
        self._last_join = self._clock()
        if not pending:
            self._models_to_join.clear()
        return SendReport({"joined": joined})

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def sink_from_url(
    sink: str | Sink, *, settings: ConnectionSettings | None = None, stream: IO[Any] | None = None
) -> Sink:
    """``"stdout"``, ``"fluentd://host:port"``, ``"elasticsearch"`` (or an http(s) URL)."""
    if not isinstance(sink, str):
        return sink
    if sink in ("stdout", "stdout://"):
        return StdoutSink(stream)
    if sink in ("elasticsearch", "elasticsearch://"):
        return ElasticsearchSink(settings)
    parts = urlsplit(sink)
    if parts.scheme in ("http", "https"):
        base = settings or ConnectionSettings.from_env()
        return ElasticsearchSink(replace(base, url=sink))
    if parts.scheme == "fluentd":
        if not parts.hostname:
            raise UsageError(f"sink {sink!r} needs a host: fluentd://127.0.0.1:24224")
        return FluentdSink(parts.hostname, parts.port or 24224)
    raise UsageError(
        f"unknown sink {sink!r}: use 'stdout', 'elasticsearch' or 'fluentd://host:port'"
    )
