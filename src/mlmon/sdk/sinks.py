"""Where events go: stdout (node agents), Fluentd (forward protocol) or Elasticsearch (bulk).

All three carry the same normalised, tagged event. A sink runs in the
logger's background thread; ``send`` either delivers the whole batch or
raises :class:`SinkError` saying how many leading events were delivered, so
the worker retries exactly the rest and every event is accounted for.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
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
    """The forward protocol, one message per tag and batch (Fluentd's *Forward* mode).

    Tags are ``mlmon.<kind>.<model>``; each entry's time is an ``EventTime`` (the
    event's ``@timestamp`` to the millisecond). A batch is one ``sendall``: fluent-logger
    packed and sent every event on its own (a system call each, most of the sink's cost).
    A failed send closes the connection and raises :class:`SinkError` with nothing
    counted as delivered, so the worker resends (or spools) the whole batch: across a
    broken connection the peer may see part of a batch twice (at least once, not exactly
    once; Elasticsearch behind it keeps one document per ``prediction_id``).
    """

    def __init__(self, host: str, port: int, *, timeout: float = 1.0) -> None:
        import msgpack  # fluent-logger's dependency; loaded only for this sink

        self.address = f"{host}:{port}"
        self._host, self._port, self._timeout = host, port, timeout
        self._packb = msgpack.Packer().pack
        self._ext = msgpack.ExtType
        self._sock: socket.socket | None = None
        self._seconds: dict[str, int] = {}  # "YYYY-MM-DDTHH:MM:SS" → epoch seconds

    def _connection(self) -> socket.socket:
        sock = self._sock
        if sock is not None and _peer_closed(sock):
            self._disconnect()
            sock = None
        if sock is None:
            sock = socket.create_connection((self._host, self._port), timeout=self._timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock = sock
        return sock

    def _disconnect(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None

    def _event_time(self, timestamp: str) -> Any:
        second = timestamp[:19]
        seconds = self._seconds.get(second)
        if seconds is None:
            if len(self._seconds) > 4096:
                self._seconds.clear()
            seconds = self._seconds[second] = int(epoch_seconds(second + "Z"))
        return self._ext(0, _TIME.pack(seconds, int(timestamp[20:23]) * 1_000_000))

    def encode(self, batch: list[dict[str, Any]]) -> bytes:
        """The batch as forward-mode messages, one per tag, events in order within a tag."""
        by_tag: dict[str, list[list[Any]]] = {}
        times: dict[str, Any] = {}  # many events share a millisecond at high rates
        for event in batch:
            tag = f"mlmon.{event['event']['kind']}.{event['model']['name']}"
            entries = by_tag.get(tag)
            if entries is None:
                entries = by_tag[tag] = []
            stamp = event["@timestamp"]
            moment = times.get(stamp)
            if moment is None:
                moment = times[stamp] = self._event_time(stamp)
            entries.append([moment, event])
        pack = self._packb
        return b"".join(pack([tag, entries]) for tag, entries in by_tag.items())

    def send(self, batch: list[dict[str, Any]]) -> None:
        data = self.encode(batch)
        try:
            self._connection().sendall(data)
        except OSError as exc:
            self._disconnect()
            raise SinkError(f"fluentd at {self.address}: {exc}", delivered=0) from exc

    def idle(self, *, force: bool = False) -> None:
        return None

    def close(self) -> None:
        self._disconnect()


_TIME = struct.Struct(">II")


def _peer_closed(sock: socket.socket) -> bool:
    """True when the peer has closed (or reset) the connection since the last send."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        # Readable with nothing to read is the peer's FIN (the peer sends us nothing else).
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


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
