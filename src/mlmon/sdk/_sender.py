"""One send in flight on a thread of its own, while the worker prepares the next batch.

For a sink whose send mostly waits on the network (a bulk request: the node's
indexing, ~100 µs an event on a shared machine, against ~10 µs of ours), the
worker making, tagging and handing over batch N+1 while request N is in flight
keeps the node busy instead of idle between requests. Only one send is in
flight and only the worker submits and collects, so requests reach the sink in
order and the worker learns each one's outcome before it sends the next: its
retry, spool and counting rules stay as they are without the pipeline.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class Sender:
    """Runs ``send(batch)`` (how many leading events were delivered; never raises) on its
    own thread, one batch at a time. The thread starts at the first :meth:`submit`."""

    def __init__(self, send: Callable[[list[Any]], int]) -> None:
        self._send = send
        self._batch: list[Any] | None = None
        self._delivered = 0
        self._submitted = threading.Event()
        self._finished = threading.Event()
        self._finished.set()  # nothing in flight
        self._stopping = False
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        """A batch submitted whose outcome is not yet collected."""
        return not self._finished.is_set() or self._batch is not None

    def submit(self, batch: list[Any]) -> None:
        """Start sending ``batch``; the previous one's outcome must have been collected."""
        if not self._finished.is_set():
            raise RuntimeError("a send is still in flight")
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="mlmon-send", daemon=True)
            self._thread.start()
        self._finished.clear()
        self._batch = batch
        self._submitted.set()

    def collect(self) -> int:
        """Wait for the batch in flight; how many of its leading events were delivered."""
        self._finished.wait()
        self._batch = None
        return self._delivered

    def close(self) -> None:
        """End the thread (after the send in flight, if any, returns)."""
        self._stopping = True
        self._submitted.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while True:
            self._submitted.wait()
            self._submitted.clear()
            if self._stopping:
                return
            batch = self._batch
            assert batch is not None
            try:
                self._delivered = self._send(batch)
            finally:
                self._finished.set()
