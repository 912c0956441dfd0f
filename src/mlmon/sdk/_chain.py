"""The general call path: the service's structlog processors, then the queue (or spool).

The plain prediction call skips the processors (see :mod:`mlmon.sdk._fastpath`)
but ends in the same :meth:`Chain.enqueue`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from mlmon.sdk._handoff import Handoff
from mlmon.sdk._stats import Counters, DropWarning

if TYPE_CHECKING:
    from mlmon.sdk._spool import Spool

Processor = Callable[[Any, str, dict[str, Any]], Any]


class Chain:
    """Runs the processors as structlog does and puts the finished event on the queue.

    Each processor is a structlog processor, ``(logger, method_name, event_dict)``
    → ``event_dict``, and may raise ``structlog.DropEvent``. The chain runs here
    rather than through ``structlog.wrap_logger``, which would do the same: importing
    structlog (it loads rich and asyncio when they are installed) would cost a model
    service more time than all of the SDK.
    """

    def __init__(
        self,
        processors: Sequence[Processor],
        events: Handoff,
        counters: Counters,
        warning: DropWarning,
        *,
        block: bool,
        spool: Spool | None,
    ) -> None:
        self._processors = tuple(processors)
        self._events = events
        self._counters = counters
        self._warning = warning
        self._block = block
        self._spool = spool

    def __call__(self, kind: str, fields: dict[str, Any]) -> None:
        fields["event"] = kind  # structlog's message, last, as structlog puts it
        for processor in self._processors:
            fields = processor(self, "info", fields)
        self.enqueue(fields)

    def enqueue(self, fields: dict[str, Any]) -> None:
        if self._block:
            self._events.put(fields)
        elif not self._events.offer(fields):
            if self._spool is not None and self._spool.append((fields,)):
                self._counters.add(spooled=1)
                return
            if self._spool is None:
                self._counters.add(dropped_queue_full=1)
            else:
                self._counters.add(dropped_spool_full=1)
            self._warning.check()


def is_drop_event(error: BaseException) -> bool:
    """``structlog.DropEvent`` from a service's own processor (structlog is loaded then)."""
    structlog = sys.modules.get("structlog")
    return structlog is not None and isinstance(error, structlog.DropEvent)
