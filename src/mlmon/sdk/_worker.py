"""The logger's background thread: bounded hand-off in, tagged batches out.

The model service's thread only validates and enqueues (never blocks: a full
queue is a counted drop, or with a spool a line on disk). This thread tags
each batch against the current profile, sends it, and on failure either
retries with capped back-off for ``retry_for`` seconds and counts what it
still cannot deliver, or — with a spool — appends it to the spool at once
and replays the spool, oldest first, as soon as the sink takes events again.
While the spool holds events, new batches queue behind them on disk, so
events reach the sink in the order they were spooled. For a sink whose sends
wait on the network (``overlap_sends``: Elasticsearch), a :class:`Sender`
thread has one batch in flight while this one makes and tags the next (see
:mod:`mlmon.sdk._sender`). Memory is bounded by the queue size plus two batches.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mlmon._prepare import tag_all
from mlmon._tagging import RulesCache
from mlmon.sdk._handoff import WIDTH, Handoff
from mlmon.sdk._sender import Sender
from mlmon.sdk._stats import Counters, DropWarning
from mlmon.sdk.sinks import SendReport, Sink, SinkError

if TYPE_CHECKING:
    from mlmon.sdk._spool import Spool


class Worker(threading.Thread):
    def __init__(
        self,
        events: Handoff,
        sink: Sink,
        counters: Counters,
        rules: RulesCache,
        documents: Callable[[list[Any]], list[dict[str, Any]]],
        *,
        batch_size: int | None = None,
        linger: float = 0.2,
        retry_for: float = 5.0,
        max_backoff: float = 1.0,
        warning: DropWarning | None = None,
        spool: Spool | None = None,
    ) -> None:
        super().__init__(name="mlmon-sink", daemon=True)
        self._events = events
        self._sink = sink
        self._counters = counters
        self._rules = rules
        self._documents = documents  # the plain calls' rows become documents here
        #: Events per send: the sink's preference (50 for a socket or a stream, where a send
        #: is cheap; 2,000 for a bulk request), within the batch size. Without a batch size
        #: given, a batch is 500 events, or the sink's preference when it is more.
        preferred = getattr(sink, "preferred_batch", None)
        if batch_size is None:
            batch_size = max(500, preferred or 0)
        self._piece = min(batch_size, preferred) if preferred else batch_size
        self._batch_size = batch_size
        self._linger = linger
        self._retry_for = retry_for
        self._max_backoff = max_backoff
        self._warning = warning
        self._spool = spool
        self._stopping = threading.Event()
        self._abandon = threading.Event()
        self._force_idle = threading.Event()
        self._next_replay = 0.0  # with a spool: when to try the sink again after a failure
        self._replay_backoff = 0.05
        self._sender = Sender(self._send) if getattr(sink, "overlap_sends", False) else None
        #: The batch the sender has in flight: its documents, what tagging did to each,
        #: and its take's retry deadline (collected by :meth:`_settle`).
        self._in_flight: tuple[list[dict[str, Any]], list[str], float] | None = None
        #: Events in the sink's send right now (what close() cannot know the fate of).
        self.sending = 0

    def stop(self, *, abandon: bool = False) -> None:
        """Finish what is queued and end; with ``abandon``, retry nothing more: what is
        undelivered goes to the spool, or without one is counted as ``dropped_at_close``."""
        if abandon:
            self._abandon.set()
        self._stopping.set()
        self._events.wake()

    def request_idle_work(self) -> None:
        """Ask the sink to do its idle work (e.g. join actuals) at the next chance."""
        self._force_idle.set()
        self._events.wake()

    @property
    def backlog(self) -> int:
        """Events in the spool still to replay (0 without a spool)."""
        return self._spool.pending if self._spool is not None else 0

    def run(self) -> None:
        try:
            self._loop()
        finally:
            self._settle()
            if self._sender is not None:
                self._sender.close()

    def _loop(self) -> None:
        events = self._events
        while not (self._stopping.is_set() and events.empty()):
            if self._abandon.is_set():
                self._settle()
                rest = self._documents(events.take(len(events) + 1, 0))
                self._set_aside(rest, "dropped_at_close")
                events.done(len(rest))
                continue
            if self._in_flight is not None and len(events) < self._batch_size:
                self._settle()  # no full batch to prepare meanwhile: let the next one grow
            batch = events.take(self._batch_size, self._linger)
            if batch:
                self._handle(batch)
            if self.backlog:
                self._settle()
                self._replay()
            if events.empty():
                self._settle()
                force = self._force_idle.is_set()
                self._force_idle.clear()
                self._add(self._safely(lambda f=force: self._sink.idle(force=f)))
                if force:
                    self._counters.add(idle_done=1)
                    events.progressed()
            if self._warning is not None:
                self._warning.check()

    def _handle(self, slots: list[Any]) -> None:
        """A batch taken from the hand-off, a sink-sized piece at a time: each piece's
        documents are made, tagged, sent and freed before the next one's, so few are alive
        when the garbage collector passes (survivors reach the oldest generation, and each
        full collection walks the whole service's heap). With a sender, a piece is made
        and tagged while the one before it is in flight, then sent once that one's
        outcome is in."""
        step = self._piece * WIDTH
        deadline = 0.0  # the batch's retries end retry_for after its first send
        for start in range(0, len(slots), step):
            docs = self._documents(slots[start : start + step])
            outcomes = self._tag(docs)
            self._settle()
            if self._abandon.is_set() or self.backlog:  # closing, or behind older ones on disk
                reason = "dropped_at_close" if self._abandon.is_set() else "dropped_send_failed"
                self._set_aside(docs, reason, outcomes)
                self._events.done(len(docs))
            else:
                deadline = deadline or time.monotonic() + self._retry_for
                if self._sender is None:
                    self._deliver(docs, outcomes, self._send(docs), deadline)
                else:
                    self._sender.submit(docs)
                    self._in_flight = (docs, outcomes, deadline)

    def _settle(self) -> None:
        """Collect the send in flight, if any, and deliver or count the rest of its batch."""
        if self._in_flight is None:
            return
        docs, outcomes, deadline = self._in_flight
        self._in_flight = None
        assert self._sender is not None
        self._deliver(docs, outcomes, self._sender.collect(), deadline)

    def _tag(self, batch: list[dict[str, Any]]) -> list[str]:
        """Tag in place; what tagging did to each. Counted once per event: when it is
        delivered or when it goes to the spool tagged (a replay then keeps the tags)."""
        return tag_all(batch, self._rules)

    def _count_tagging(self, outcomes: list[str]) -> None:
        self._counters.add(tagged=outcomes.count("tagged"), untagged=outcomes.count("untagged"))

    def _send(self, pending: list[dict[str, Any]]) -> int:
        """One attempt; how many leading events of ``pending`` were delivered."""
        self.sending = len(pending)
        try:
            self._add(self._sink.send(pending))
            return len(pending)
        except SinkError as exc:
            self._counters.add(send_errors=1)
            self._counters.note_error(str(exc))
            return exc.delivered
        except Exception as exc:  # a sink bug must not kill the thread or lose the count
            self._counters.add(send_errors=1)
            self._counters.note_error(f"{type(exc).__name__}: {exc}")
            return 0
        finally:
            self.sending = 0

    def _deliver(
        self, batch: list[dict[str, Any]], outcomes: list[str], delivered: int, deadline: float
    ) -> None:
        """After a first send that delivered ``delivered`` leading events: retry the rest
        with capped back-off until ``deadline`` (or spool it at once), then count what is
        still undelivered; the batch is then off the hand-off's books."""
        pending = batch
        backoff = 0.05
        try:
            while True:
                self._counters.add(sent=delivered)
                self._count_tagging(outcomes[:delivered])
                pending, outcomes = pending[delivered:], outcomes[delivered:]
                if not pending:
                    return
                if self._spool is not None:  # the spool is the retry: nothing waits in memory
                    self._set_aside(pending, "dropped_send_failed", outcomes)
                    self._next_replay = time.monotonic() + self._replay_backoff
                    return
                if time.monotonic() + backoff > deadline:
                    self._counters.add(dropped_send_failed=len(pending))
                    return
                self._abandon.wait(backoff)
                backoff = min(self._max_backoff, backoff * 2)
                if self._abandon.is_set():
                    self._set_aside(pending, "dropped_at_close")
                    return
                delivered = self._send(pending)
        finally:
            self._events.done(len(batch))

    def _set_aside(
        self, events: list[dict[str, Any]], reason: str, outcomes: list[str] | None = None
    ) -> None:
        """Into the spool when there is one (``spooled``; their tagging counted, if they were
        tagged), else counted as lost for ``reason``."""
        if not events:
            return
        if self._spool is None:
            self._counters.add(**{reason: len(events)})
        elif self._spool.append(events):
            self._counters.add(spooled=len(events))
            if outcomes is not None:
                self._count_tagging(outcomes)
        else:
            self._counters.add(dropped_spool_full=len(events))

    def _replay(self) -> None:
        """Send the spool's oldest events while the sink takes them and nothing new waits."""
        spool = self._spool
        assert spool is not None
        while spool.pending and not self._abandon.is_set():
            if time.monotonic() < self._next_replay:
                return
            batch, token = spool.peek(self._batch_size)
            if batch:
                outcomes = self._tag(batch)
                delivered = self._send(batch)
                if delivered < len(batch):  # the sink is still away: look again later
                    self._replay_backoff = min(self._max_backoff, self._replay_backoff * 2)
                    self._next_replay = time.monotonic() + self._replay_backoff
                    return
                self._replay_backoff = 0.05
                self._count_tagging(outcomes)
            spool.commit(token, len(batch))
            self._counters.add(replayed=len(batch))
            if len(self._events) >= self._batch_size:
                return  # let the live events in line (they go behind on disk)

    def _add(self, report: SendReport | None) -> None:
        if report is not None:
            self._counters.add(**report.counters)

    def _safely(self, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except Exception as exc:  # the side channel never fails the service
            self._counters.note_error(f"{type(exc).__name__}: {exc}")
            return None
