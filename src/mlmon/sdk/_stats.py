"""Thread-safe counters behind ``PredictionLogger.stats()``."""

from __future__ import annotations

import threading
from collections import Counter

#: Always present in stats(), even at zero.
STANDARD = (
    "emitted",
    "sent",
    "queued",
    "dropped_queue_full",
    "dropped_send_failed",
    "invalid",
    "tagged",
    "untagged",
)


class Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self.last_error: str | None = None

    def add(self, **amounts: int) -> None:
        with self._lock:
            for name, amount in amounts.items():
                if amount:
                    self._counts[name] += amount

    def note_error(self, message: str) -> None:
        self.last_error = message[:500]

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            counts = dict(self._counts)
        counts.pop("idle_done", None)
        return {**dict.fromkeys(STANDARD, 0), **counts}

    def get(self, name: str) -> int:
        with self._lock:
            return self._counts[name]
