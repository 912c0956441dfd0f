"""Where events go: stdout (node agents), Fluentd (forward protocol) or Elasticsearch (bulk).

All three carry the same normalised, tagged event. A sink runs in the
logger's background thread; ``send`` either delivers the whole batch or
raises :class:`SinkError` saying how many leading events were delivered, so
the worker retries exactly the rest and every event is accounted for.

Each sink lives in its own private module, imported when it is first named
(PEP 562): a logger writing to stdout never loads the socket and ormsgpack
modules, one writing to Fluentd never loads orjson, neither the Elasticsearch
client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, Protocol

from mlmon import _lazy
from mlmon.errors import SinkError, UsageError

if TYPE_CHECKING:
    from mlmon.es.settings import ConnectionSettings
    from mlmon.sdk._elasticsearch import ElasticsearchSink
    from mlmon.sdk._fluentd import FluentdSink, epoch_seconds
    from mlmon.sdk._stdout import StdoutSink, dumps


@dataclass
class SendReport:
    """Counters a sink adds to the logger's stats (e.g. duplicates, dead-lettered)."""

    counters: dict[str, int] = field(default_factory=dict)


class Sink(Protocol):
    def send(self, batch: list[dict[str, Any]]) -> SendReport | None: ...

    def idle(self, *, force: bool = False) -> SendReport | None: ...

    def close(self) -> None: ...


#: Public name → the private module that defines it (imported on first use).
_LAZY = {
    "StdoutSink": "mlmon.sdk._stdout",
    "dumps": "mlmon.sdk._stdout",
    "FluentdSink": "mlmon.sdk._fluentd",
    "epoch_seconds": "mlmon.sdk._fluentd",
    "ElasticsearchSink": "mlmon.sdk._elasticsearch",
}


__getattr__, __dir__ = _lazy.lazy_names(__name__, _LAZY, globals())


def sink_from_url(
    sink: str | Sink, *, settings: ConnectionSettings | None = None, stream: IO[Any] | None = None
) -> Sink:
    """``"stdout"``, ``"fluentd://host:port"``, ``"elasticsearch"`` (or an http(s) URL)."""
    if not isinstance(sink, str):
        return sink
    if sink in ("stdout", "stdout://"):
        from mlmon.sdk._stdout import StdoutSink

        return StdoutSink(stream)
    if sink in ("elasticsearch", "elasticsearch://"):
        from mlmon.sdk._elasticsearch import ElasticsearchSink

        return ElasticsearchSink(settings)
    from urllib.parse import urlsplit

    parts = urlsplit(sink)
    if parts.scheme in ("http", "https"):
        from dataclasses import replace

        from mlmon.es.settings import ConnectionSettings
        from mlmon.sdk._elasticsearch import ElasticsearchSink

        return ElasticsearchSink(replace(settings or ConnectionSettings.from_env(), url=sink))
    if parts.scheme == "fluentd":
        if not parts.hostname:
            raise UsageError(f"sink {sink!r} needs a host: fluentd://127.0.0.1:24224")
        from mlmon.sdk._fluentd import FluentdSink

        return FluentdSink(parts.hostname, parts.port or 24224)
    raise UsageError(
        f"unknown sink {sink!r}: use 'stdout', 'elasticsearch' or 'fluentd://host:port'"
    )


__all__ = [
    "ElasticsearchSink",
    "FluentdSink",
    "SendReport",
    "Sink",
    "SinkError",
    "StdoutSink",
    "dumps",
    "epoch_seconds",
    "sink_from_url",
]
