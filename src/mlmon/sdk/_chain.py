"""The general call path: the service's structlog processors, then the queue (or spool).

The plain prediction call skips the processors (see :mod:`mlmon.sdk._fastpath`)
but ends in the same :meth:`Chain.enqueue`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from mlmon.sdk._handoff import WIDTH, Handoff
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
        documents: Callable[[list[Any]], list[dict[str, Any]]],
    ) -> None:
        self._processors = tuple(processors)
        self._events = events
        self._counters = counters
        self._warning = warning
        self._block = block
        self._spool = spool
        self._documents = documents

    def __call__(self, kind: str, fields: dict[str, Any]) -> None:
        fields["event"] = kind  # structlog's message, last, as structlog puts it
        for processor in self._processors:
            fields = processor(self, "info", fields)
        self.enqueue(fields)

    def enqueue(self, *event: Any) -> None:
        """A finished event, or a plain call's row (:mod:`mlmon.sdk._fastpath`)."""
        if self._block:
            self._events.put(*event)
        elif not self._events.offer(*event):
            if self._spool is not None and self._spool.append(self._documents(_slots(event))):
                self._counters.add(spooled=1)
                return
            if self._spool is None:
                self._counters.add(dropped_queue_full=1)
            else:
                self._counters.add(dropped_spool_full=1)
            self._warning.check(aside=True)


def _slots(event: tuple[Any, ...]) -> list[Any]:
    """One event as the hand-off lays it out (:data:`~mlmon.sdk._handoff.WIDTH` slots)."""
    return [*event, *(None,) * (WIDTH - len(event))]


def is_drop_event(error: BaseException) -> bool:
    """``structlog.DropEvent`` from a service's own processor (structlog is loaded then)."""
    structlog = sys.modules.get("structlog")
    return structlog is not None and isinstance(error, structlog.DropEvent)
