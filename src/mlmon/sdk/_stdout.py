"""The stdout sink: one JSON line per event, for node agents that tail container logs."""

from __future__ import annotations

import sys
import threading
from datetime import datetime
from typing import IO, Any

import orjson

from mlmon.errors import SinkError


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

    #: Events per send (the worker's pieces): a send is a cheap system call, and 50
    #: documents (about 350 objects the garbage collector tracks) are serialised and
    #: freed before its next pass (every 700 new objects) can find them alive.
    preferred_batch = 50

    def __init__(self, stream: IO[Any] | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdout
        self._binary = getattr(self._stream, "buffer", None)

    def send(self, batch: list[dict[str, Any]]) -> None:
        # Each line copied out of orjson's result at once: holding the results themselves
        # (over-allocated buffers) until the join cost four times the serialising.
        data = b"".join([dumps(event) + b"\n" for event in batch])
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
