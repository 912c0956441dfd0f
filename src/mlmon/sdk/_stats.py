"""Thread-safe counters behind ``PredictionLogger.stats()``, and the warning when drops start."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable

#: Always present in stats(), even at zero.
STANDARD = (
    "emitted",
    "sent",
    "queued",
    "dropped_queue_full",
    "dropped_send_failed",
    "dropped_at_close",
    "invalid",
    "tagged",
    "untagged",
)

#: Every way an event can be lost, with what to change so it is not.
DROPS = {
    "dropped_queue_full": "the queue (max_queue={max_queue}) was full",
    "dropped_send_failed": "the sink failed for longer than retry_for={retry_for}s",
    "dropped_spool_full": "the spool (spool_max_bytes={spool_max_bytes}) was full",
    "dropped_at_close": "close() reached its timeout with them undelivered",
}

#: Emitted and accounted for, apart from the drops: ``emitted`` is these plus the drops
#: plus ``queued`` (and, once closed, ``unconfirmed_at_close``).
ACCOUNTED = ("sent", "spooled", "dropped_by_processor")

#: What may still be counted once the books are closed (calls made after close()).
AFTER_CLOSE = frozenset({"dropped_after_close", "invalid"})


def warn(message: str) -> None:
    """Through the standard ``logging`` module, logger ``mlmon.sdk`` (imported on the first
    warning: a service that never drops does not pay for importing it)."""
    import logging

    logging.getLogger("mlmon.sdk").warning(message)


class Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self.last_error: str | None = None
        #: Counted on every call, from any thread: ``next()`` on a count is atomic and takes
        #: no lock (a third of the cost of :meth:`add`).
        self._emitted = itertools.count()
        self._final_emitted: int | None = None  # set when the books are closed

    def emitted(self) -> None:
        next(self._emitted)

    def _emitted_so_far(self) -> int:
        if self._final_emitted is not None:
            return self._final_emitted
        return int(repr(self._emitted)[len("count(") : -1])  # the count's next value

    @property
    def closed(self) -> bool:
        return self._final_emitted is not None

    def add(self, **amounts: int) -> None:
        with self._lock:
            final = self._final_emitted is not None
            for name, amount in amounts.items():
                if amount and not (final and name not in AFTER_CLOSE):
                    self._counts[name] += amount

    def close_books(self, unsent: int) -> None:
        """Make the counts final while the worker may still hold events (a send that has not
        returned): what is neither delivered nor counted is ``dropped_at_close`` if it was
        in no send (``unsent``, at most), else ``unconfirmed_at_close`` (in a send whose
        outcome is unknown: maybe delivered). Later counts from the worker are ignored."""
        with self._lock:
            emitted = self._emitted_so_far()
            accounted = sum(self._counts[name] for name in (*ACCOUNTED, *DROPS))
            open_ = max(0, emitted - accounted)
            waiting = min(unsent, open_)
            self._counts["dropped_at_close"] += waiting
            self._counts["unconfirmed_at_close"] += open_ - waiting
            self._final_emitted = emitted

    def note_error(self, message: str) -> None:
        self.last_error = message[:500]

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            counts = dict(self._counts)
        counts.pop("idle_done", None)
        counts["emitted"] = self._emitted_so_far()
        return {**dict.fromkeys(STANDARD, 0), **counts}

    def get(self, name: str) -> int:
        with self._lock:
            return self._counts[name]

    def drops(self) -> dict[str, int]:
        with self._lock:
            return {name: self._counts[name] for name in DROPS if self._counts[name]}


class DropWarning:
    """One ``logging`` warning when events start to be dropped, then at most one a minute.

    Each says how many were dropped since the last one, why, and which setting
    keeps them. Called from the worker's loop and from the caller's drop path
    (so a stalled sink still warns); the check is one clock read.
    """

    def __init__(
        self,
        counters: Counters,
        *,
        model: str,
        settings: dict[str, object],
        interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._counters = counters
        self._model = model
        self._settings = settings
        self._interval = interval
        self._clock = clock
        self._next = 0.0
        self._reported: dict[str, int] = {}
        self._lock = threading.Lock()

    def check(self, *, final: bool = False, aside: bool = False) -> None:
        """Warn if drops are new and the last warning is a minute old; ``final`` (at close):
        whatever was not yet reported, whenever the last warning was. ``aside`` (the
        caller's drop path): the warning is written by a short-lived thread, so the
        service's call never waits on a logging handler's I/O (a pipe, a log shipper)."""
        if (not final and self._clock() < self._next) or not self._lock.acquire(blocking=final):
            return
        if aside:  # the lock is released by that thread, once it has warned
            threading.Thread(target=self._report, name="mlmon-warning", daemon=True).start()
            return
        self._report(final=final)

    def _report(self, *, final: bool = False) -> None:
        """The warning itself; called holding the lock, which it releases."""
        try:
            drops = self._counters.drops()
            new = {k: v - self._reported.get(k, 0) for k, v in drops.items()}
            new = {k: v for k, v in new.items() if v > 0}
            if not new:
                return
            self._reported = drops
            self._next = self._clock() + self._interval
            warn(self.message(new, final=final))
        finally:
            self._lock.release()

    def message(self, new: dict[str, int], *, final: bool = False) -> str:
        reasons = "; ".join(
            f"{count:,} {name}: {DROPS[name].format(**self._settings)}"
            for name, count in new.items()
        )
        when = "since the last warning, at close" if final else "since the last warning"
        later = "" if final else f"; next warning in {self._interval:.0f}s at the earliest"
        return (
            f"mlmon: {sum(new.values()):,} events of model {self._model!r} dropped {when} "
            f"({reasons}). A service: set spool_dir= to keep them on disk until the sink is "
            "back; a batch job: block_when_full=True to wait instead. Counted in stats()"
            f"{later}."
        )
