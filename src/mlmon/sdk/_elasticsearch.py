"""The Elasticsearch sink: bulk-indexes directly and joins actuals (the client loaded on use)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from mlmon.errors import MlmonError, SinkError
from mlmon.es.settings import ConnectionSettings
from mlmon.sdk.sinks import SendReport


class ElasticsearchSink:
    """Bulk-indexes directly (development, tests, small deployments) and joins actuals."""

    #: Events per bulk request (and the logger's batch when it is given none): a request
    #: costs its round trip and the node's per-request work, so fewer, bigger ones.
    preferred_batch = 2000
    #: A send waits on the node: the logger keeps one in flight while it tags the next
    #: batch (:mod:`mlmon.sdk._sender`).
    overlap_sends = True

    def __init__(
        self,
        settings: ConnectionSettings | None = None,
        *,
        join_interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings or ConnectionSettings.from_env()
        self._client: Any = None
        self._join_interval = join_interval
        self._clock = clock
        self._last_join = 0.0
        self._models_to_join: set[str] = set()

    def _connect(self) -> Any:
        if self._client is None:
            from mlmon.es.client import connect

            self._client = connect(self._settings, check=False)
        return self._client

    def send(self, batch: list[dict[str, Any]]) -> SendReport:
        from mlmon.es.writer import write_events

        try:
            result = write_events(
                self._connect(), batch, source="sdk", max_items=self.preferred_batch
            )
        except MlmonError as exc:
            raise SinkError(str(exc)) from exc
        if result.actuals or self._models_to_join:
            self._models_to_join.update(e["model"]["name"] for e in batch)
        return SendReport(
            {
                "indexed": result.indexed,
                "duplicates": result.duplicates,
                "dead_lettered": result.dead_lettered,
                "rejected": result.failed,
            }
        )

    def idle(self, *, force: bool = False) -> SendReport | None:
        """Join actuals written since the last pass (at most every ``join_interval`` seconds)."""
        if not self._models_to_join:
            return None
        if not force and self._clock() - self._last_join < self._join_interval:
            return None
        from mlmon.es.join import join_pending

        joined = pending = 0
        try:
            for model in sorted(self._models_to_join):
                result = join_pending(self._connect(), model=model)
                joined += result.joined
                pending += result.pending
        except MlmonError:
            return SendReport({"join_errors": 1})
        self._last_join = self._clock()
        if not pending:
            self._models_to_join.clear()
        return SendReport({"joined": joined})

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
