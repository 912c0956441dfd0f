"""Emitting events: ``PredictionLogger``, its structlog processors and sinks."""

from mlmon.sdk.logger import PredictionLogger
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
