"""Helpers for testing code that emits mlmon events, without any network.

>>> from mlmon import PredictionLogger
>>> from mlmon.testing import CapturingSink
>>> sink = CapturingSink()
>>> with PredictionLogger(model="fraud", version="v1", sink=sink) as log:
...     pid = log.prediction(features={"amount": 3.0}, prediction="legit")
>>> sink.events[0]["features"]
{'amount': 3.0}
>>> sink.events[0]["prediction_id"] == pid
True

(A test run of this example: tests/unit/test_public_api.py.)
"""

from __future__ import annotations

import threading
from typing import Any

from mlmon.sdk.sinks import SinkError


class CapturingSink:
    """Keeps every event it is sent (already validated and, with a profile, tagged).

    ``fail_next(n)`` makes the next ``n`` sends fail, and ``block()`` /
    ``release()`` stall it, to test how a service behaves when shipping fails.
    """

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._failures = 0
        self._open = threading.Event()
        self._open.set()
        self.closed = False

    def send(self, batch: list[dict[str, Any]]) -> None:
        self._open.wait()
        if self._failures:
            self._failures -= 1
            raise SinkError("capturing sink told to fail")
        self.events.extend(batch)

    def idle(self, *, force: bool = False) -> None:
        return None

    def close(self) -> None:
        self.closed = True

    def fail_next(self, count: int) -> None:
        self._failures = count

    def block(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()


__all__ = ["CapturingSink"]
