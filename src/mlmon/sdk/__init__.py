"""Emitting events: ``PredictionLogger``, its structlog processors and sinks.

Public: this package's names, :mod:`mlmon.sdk.processors` (for a service's own
structlog chain) and :mod:`mlmon.sdk.sinks` (the ``Sink`` protocol, for a sink
of one's own). The logger, its worker thread and counters are private modules.
"""

from mlmon.sdk._logger import PredictionLogger
from mlmon.sdk.processors import (
    EventKind,
    ModelStamper,
    PredictionId,
    Redact,
    TimeStamper,
    Validate,
)
from mlmon.sdk.sinks import ElasticsearchSink, FluentdSink, SinkError, StdoutSink, sink_from_url

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
