"""The bounded hand-off between the service's threads and the logger's worker.

A ``deque`` (``extend``/``popleft`` are atomic under the GIL) instead of
``queue.Queue``, whose every ``put`` and ``get`` takes a lock and notifies a
condition: the caller pays one length check and one ``extend``, and wakes the
worker only when it is asleep. Only the worker takes events out.

Each event is :data:`WIDTH` slots of the deque: a plain call's row laid out
flat (id, time, features, outcome) or a document and three ``None``. Flat,
because a queued tuple holding dicts is an object the garbage collector
tracks, and a queue of them, promoted to the oldest generation, made full
collections (over the whole service's heap) a quarter of the SDK's cost; the
id, the time and two dicts of plain values are not tracked at all.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

#: Slots per event in the deque.
WIDTH = 4


class Handoff:
    def __init__(self, capacity: int, *, gather: float = 0.005) -> None:
        self.capacity = capacity
        self._slots = capacity * WIDTH
        #: How long the worker lets a short batch grow before taking it: at moderate rates
        #: one wake-up, tagging pass and send per few milliseconds, not one per event.
        self.gather = gather
        self._items: deque[Any] = deque()
        self._wake = threading.Event()
        self._room = threading.Event()
        self._sleeping = False
        #: Taken out by the worker and not yet delivered or counted: with a sender, up to
        #: two batches (may briefly overlap with the items still in the deque: never an
        #: undercount).
        self.in_flight = 0
        self._progress = threading.Condition()

    # -- the callers' side ---------------------------------------------------

    def offer(self, first: Any, second: Any = None, third: Any = None, fourth: Any = None) -> bool:
        """Enqueue one event (a row's four fields, or a document alone) unless full; never
        waits."""
        items = self._items
        if len(items) >= self._slots:
            return False
        items.extend((first, second, third, fourth))
        if self._sleeping:
            self._wake.set()
        return True

    def put(self, first: Any, second: Any = None, third: Any = None, fourth: Any = None) -> None:
        """Enqueue, waiting for room (``block_when_full``)."""
        while not self.offer(first, second, third, fourth):
            self._room.clear()
            if len(self._items) < self._slots:
                continue
            self._room.wait(0.05)

    def __len__(self) -> int:
        """Events in the deque (not those taken out)."""
        return len(self._items) // WIDTH

    @property
    def queued(self) -> int:
        return len(self) + self.in_flight

    def empty(self) -> bool:
        return not self._items

    # -- the worker's side ---------------------------------------------------

    def take(self, limit: int, wait: float) -> list[Any]:
        """Up to ``limit`` events, waiting up to ``wait`` seconds for the first: their
        slots, flat (:data:`WIDTH` per event)."""
        items = self._items
        if not items:
            self._sleeping = True
            if not items:
                self._wake.wait(wait)
            self._sleeping = False
            self._wake.clear()
        if items and len(items) < limit * WIDTH and self.gather:
            time.sleep(self.gather)
        count = min(limit, len(items) // WIDTH)
        self.in_flight += count  # before they leave the deque: queued never undercounts
        popleft = items.popleft
        batch = [popleft() for _ in range(count * WIDTH)]
        self._room.set()
        return batch

    def done(self, count: int) -> None:
        """``count`` events taken are delivered or counted (only the worker takes and
        calls this: one writer of ``in_flight``)."""
        self.in_flight -= count
        self.progressed()

    def progressed(self) -> None:
        """Wake whoever waits on the worker (:meth:`wait_empty`, :meth:`wait_progress`)."""
        with self._progress:
            self._progress.notify_all()

    def wait_progress(self, timeout: float) -> None:
        """Until the worker reports progress, or ``timeout`` seconds."""
        with self._progress:
            self._progress.wait(timeout)

    def wake(self) -> None:
        self._wake.set()

    def wait_empty(self, deadline: float, alive: Any) -> bool:
        """Until nothing is queued (True) or ``deadline`` passes / the worker dies (False)."""
        with self._progress:
            while self.queued:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not alive():
                    return False
                self.wake()
                self._progress.wait(min(remaining, 0.05))
        return True
