"""Emitting events: ``PredictionLogger``, its structlog processors and sinks.

Public: this package's names, :mod:`mlmon.sdk.processors` (for a service's own
structlog chain) and :mod:`mlmon.sdk.sinks` (the ``Sink`` protocol, for a sink
of one's own). The logger, its worker thread and counters are private modules.

Every name is imported on first use (PEP 562): ``import mlmon`` costs a model
service's worker process next to nothing, and a logger loads only its own sink.
"""

import importlib
import typing

if typing.TYPE_CHECKING:
    from mlmon.sdk._logger import PredictionLogger
    from mlmon.sdk.processors import (
        EventKind,
        ModelStamper,
        PredictionId,
        Redact,
        TimeStamper,
        Validate,
    )
    from mlmon.sdk.sinks import (
        ElasticsearchSink,
        FluentdSink,
        SinkError,
        StdoutSink,
        sink_from_url,
    )

#: Public name → the module that defines it.
_LAZY = {
    "PredictionLogger": "mlmon.sdk._logger",
    **dict.fromkeys(
        ("EventKind", "ModelStamper", "PredictionId", "Redact", "TimeStamper", "Validate"),
        "mlmon.sdk.processors",
    ),
    **dict.fromkeys(
        ("ElasticsearchSink", "FluentdSink", "SinkError", "StdoutSink", "sink_from_url"),
        "mlmon.sdk.sinks",
    ),
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "ElasticsearchSink",
    "EventKind",
    "FluentdSink",
    "ModelStamper",
    "PredictionId",
    "PredictionLogger",
    "Redact",
    "SinkError",
    "StdoutSink",
    "TimeStamper",
    "Validate",
    "sink_from_url",
]
