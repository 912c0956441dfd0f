"""Emitting events: ``PredictionLogger``, its structlog processors and sinks.

Public: this package's names, :mod:`mlmon.sdk.processors` (for a service's own
structlog chain) and :mod:`mlmon.sdk.sinks` (the ``Sink`` protocol, for a sink
of one's own). The logger, its worker thread and counters are private modules.

Every name is imported on first use (PEP 562): ``import mlmon`` costs a model
service's worker process next to nothing, and a logger loads only its own sink.
"""

import typing

from mlmon import _lazy

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


__getattr__, __dir__ = _lazy.lazy_names(__name__, _LAZY, globals())


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
