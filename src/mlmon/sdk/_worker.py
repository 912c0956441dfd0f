"""The logger's background thread: bounded queue in, tagged batches out.

The model service's thread only validates and enqueues (never blocks: a full
queue is a counted drop). This thread tags each batch against the current
profile, sends it, retries failures with capped back-off for a bounded time,
and counts whatever it finally cannot deliver. Memory is bounded by the
queue size plus one batch.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from mlmon.prepare import tag_if_needed
from mlmon.sdk._stats import Counters, DropWarning
from mlmon.sdk.sinks import SendReport, Sink, SinkError
from mlmon.tagging import RulesCache


class Worker(threading.Thread):
    def __init__(
        self,
        events: queue.Queue,
        sink: Sink,
        counters: Counters,
        rules: RulesCache,
        *,
        batch_size: int = 500,
        linger: float = 0.2,
        retry_for: float = 5.0,
        max_backoff: float = 1.0,
        warning: DropWarning | None = None,
    ) -> None:
        super().__init__(name="mlmon-sink", daemon=True)
        self._events = events
        self._sink = sink
        self._counters = counters
        self._rules = rules
        self._batch_size = batch_size
        self._linger = linger
        self._retry_for = retry_for
        self._max_backoff = max_backoff
        self._warning = warning
        self._stopping = threading.Event()
        self._abandon = threading.Event()
        self._force_idle = threading.Event()

    def stop(self, *, abandon: bool = False) -> None:
        """Finish what is queued and end; with ``abandon``, retry nothing more and count
        everything undelivered as ``dropped_at_close`` (close() has run out of time)."""
        if abandon:
            self._abandon.set()
        self._stopping.set()

    def request_idle_work(self) -> None:
        """Ask the sink to do its idle work (e.g. join actuals) at the next chance."""
        self._force_idle.set()

    def run(self) -> None:
        while not (self._stopping.is_set() and self._events.empty()):
            if self._abandon.is_set():
                self._drop_queued()
                break
            batch = self._take_batch()
            if batch:
                try:
                    self._deliver(batch)
                finally:
                    for _ in batch:
                        self._events.task_done()
            if self._events.empty():
                force = self._force_idle.is_set()
                self._force_idle.clear()
                self._add(self._safely(lambda f=force: self._sink.idle(force=f)))
                if force:
                    self._counters.add(idle_done=1)
            if self._warning is not None:
                self._warning.check()

    def _drop_queued(self) -> None:
        while True:
            try:
                self._events.get_nowait()
            except queue.Empty:
                return
            self._counters.add(dropped_at_close=1)
            self._events.task_done()

    def _take_batch(self) -> list[dict[str, Any]]:
        try:
            first = self._events.get(timeout=self._linger)
        except queue.Empty:
            return []
        batch = [first]
        while len(batch) < self._batch_size:
            try:
                batch.append(self._events.get_nowait())
            except queue.Empty:
                break
        return batch

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        tagged = untagged = 0
        rules = self._rules
        for event in batch:
            outcome = tag_if_needed(event, rules)
            if outcome == "tagged":
                tagged += 1
                if tagged % 16 == 0:
                    time.sleep(0)  # let the service's threads have the GIL (~200 µs max)
            elif outcome == "untagged":
                untagged += 1
        self._counters.add(tagged=tagged, untagged=untagged)
        pending = batch
        deadline = time.monotonic() + self._retry_for
        backoff = 0.05
        while pending:
            if self._abandon.is_set():
                self._counters.add(dropped_at_close=len(pending))
                return
            try:
                self._add(self._sink.send(pending))
                self._counters.add(sent=len(pending))
                return
            except SinkError as exc:
                self._counters.add(sent=exc.delivered, send_errors=1)
                self._counters.note_error(str(exc))
                pending = pending[exc.delivered :]
            except Exception as exc:  # a sink bug must not kill the thread or lose the count
                self._counters.add(send_errors=1)
                self._counters.note_error(f"{type(exc).__name__}: {exc}")
            if time.monotonic() + backoff > deadline or (self._stopping.is_set() and backoff > 0.4):
                self._counters.add(dropped_send_failed=len(pending))
                return
            self._abandon.wait(backoff)
            backoff = min(self._max_backoff, backoff * 2)

    def _add(self, report: SendReport | None) -> None:
        if report is not None:
            self._counters.add(**report.counters)

    def _safely(self, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except Exception as exc:  # the side channel never fails the service
            self._counters.note_error(f"{type(exc).__name__}: {exc}")
            return None
