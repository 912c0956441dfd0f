"""``PredictionLogger``: log every prediction from a model service in a few lines.

    log = PredictionLogger(model="fraud", version="v2", sink="fluentd://127.0.0.1:24224")
    pid = log.prediction(features={...}, prediction="fraud", score=0.91)
    log.actual(pid, label="legit")
    log.flush(); log.close()

The call validates and enqueues (a few microseconds); tagging and shipping
happen in a background thread. Shipping failures never raise into the
service and never block it: they are counted in :meth:`stats`.
"""

from __future__ import annotations

import atexit
import json
import queue
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import structlog

from mlmon.errors import InvalidEventError, ProfileError
from mlmon.es.settings import ConnectionSettings
from mlmon.sdk.processors import EventKind, ModelStamper, TimeStamper, Validate, new_id
from mlmon.sdk.sinks import Sink, sink_from_url
from mlmon.sdk.stats import Counters
from mlmon.sdk.worker import Worker

Processor = Callable[[Any, str, dict[str, Any]], Any]


class _Enqueue:
    """The structlog "logger" at the end of the chain: puts the finished event on the queue."""

    def __init__(self, events: queue.Queue, counters: Counters, *, block: bool) -> None:
        self._events = events
        self._counters = counters
        self._block = block

    def msg(self, **event: Any) -> None:
        try:
            if self._block:
                self._events.put(event)
            else:
                self._events.put_nowait(event)
        except queue.Full:
            self._counters.add(dropped_queue_full=1)

    info = msg


class ProfileRules:
    """The tagging rules in force, loaded in the worker thread and refreshed on a schedule."""

    def __init__(
        self,
        *,
        model: str,
        version: str,
        profile: Any,
        profile_name: str | None,
        settings: ConnectionSettings | None,
        refresh_seconds: float,
        counters: Counters,
    ) -> None:
        from mlmon.baseline.profile import Profile
        from mlmon.tagging import compile_rules

        self._compile = compile_rules
        self._model, self._version, self._name = model, version, profile_name
        self._settings = settings
        self._refresh = refresh_seconds
        self._counters = counters
        self._rules = None
        self._next_load = 0.0
        self._static = profile is not None
        if isinstance(profile, (str, Path)):
            try:
                profile = Profile.from_dict(json.loads(Path(profile).read_text()))
            except (OSError, ValueError) as exc:
                raise ProfileError(f"profile file {profile}: {exc}") from None
        if profile is not None:
            self._rules = compile_rules(profile)

    def __call__(self) -> Any:
        if self._static or time.monotonic() < self._next_load:
            return self._rules
        self._next_load = time.monotonic() + self._refresh
        try:
            from mlmon.baseline.store import load_profile
            from mlmon.es.client import connect

            client = connect(self._settings or ConnectionSettings.from_env(), check=False)
            profile = load_profile(
                client, model=self._model, version=self._version, name=self._name
            )
            client.close()
        except Exception as exc:  # unreachable cluster: keep the rules we have, try again later
            self._counters.add(profile_load_errors=1)
            self._counters.note_error(f"profile load: {exc}")
            return self._rules
        if profile is not None:
            self._rules = self._compile(profile)
        return self._rules


class PredictionLogger:
    """Log predictions and actuals of one model version.

    Args:
        model, version: the model's name (lowercase, digits, ``_``, ``-``) and version.
        sink: ``"stdout"``, ``"elasticsearch"`` (or an ``http(s)://`` URL),
            ``"fluentd://host:port"``, or a sink object (see :mod:`mlmon.testing`).
        profile: a :class:`~mlmon.baseline.Profile`, a path to a profile JSON file,
            or None to load the model's registered profile from Elasticsearch
            (``profile_name`` picks one; default the newest) every ``refresh_seconds``.
        strict: invalid input raises ``ValueError`` naming the field; with
            ``strict=False`` it is counted (``stats()["invalid"]``) and skipped.
        max_queue: events held while the sink is slow or down; beyond it they are
            dropped and counted (``dropped_queue_full``), never blocking the caller.
        block_when_full: for batch jobs (backfills, the simulator) only: wait for room
            in the queue instead of dropping. A model service keeps the default.
        processors: extra structlog processors run before validation (e.g. to hash PII).
    """

    def __init__(
        self,
        model: str,
        version: str,
        sink: str | Sink = "stdout",
        *,
        environment: str | None = None,
        deployment: str | None = None,
        profile: Any = None,
        profile_name: str | None = None,
        refresh_seconds: float = 300.0,
        settings: ConnectionSettings | None = None,
        strict: bool = True,
        max_queue: int = 10_000,
        block_when_full: bool = False,
        batch_size: int = 500,
        retry_for: float = 5.0,
        processors: Sequence[Processor] = (),
        clock: Callable[[], datetime] | None = None,
        stream: IO[Any] | None = None,
    ) -> None:
        self._strict = strict
        self._counters = Counters()
        self._events: queue.Queue = queue.Queue(maxsize=max_queue)
        stamper = ModelStamper(model, version, environment=environment, deployment=deployment)
        self.model, self.version = model, version
        self._sink = sink_from_url(sink, settings=settings, stream=stream)
        rules = ProfileRules(
            model=model,
            version=version,
            profile=profile,
            profile_name=profile_name,
            settings=settings,
            refresh_seconds=refresh_seconds,
            counters=self._counters,
        )
        self._log = structlog.wrap_logger(
            _Enqueue(self._events, self._counters, block=block_when_full),
            processors=[EventKind(), stamper, TimeStamper(clock), *processors, Validate()],
            context_class=dict,
            cache_logger_on_first_use=True,
        )
        self._worker = Worker(
            self._events,
            self._sink,
            self._counters,
            rules,
            batch_size=batch_size,
            retry_for=retry_for,
        )
        self._worker.start()
        self._closed = False
        self._lock = threading.Lock()
        atexit.register(_close_at_exit, weakref.ref(self))

    # -- the hot path --------------------------------------------------------

    def prediction(
        self,
        features: Mapping[str, Any],
        prediction: Any = None,
        score: Any = None,
        *,
        value: Any = None,
        actual: Any = None,
        latency_ms: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        trace: Mapping[str, Any] | None = None,
        prediction_id: str | None = None,
        timestamp: datetime | str | None = None,
    ) -> str | None:
        """Log one prediction; returns its id (for :meth:`actual`), or None if skipped."""
        pid = prediction_id or new_id()
        fields: dict[str, Any] = {"prediction_id": pid, "features": features}
        outcome = {
            k: v
            for k, v in (("label", prediction), ("score", score), ("value", value))
            if v is not None
        }
        if outcome:
            fields["prediction"] = outcome
        if actual is not None:
            fields["actual"] = actual
        if latency_ms:
            fields["latency_ms"] = latency_ms
        if tags:
            fields["tags"] = tags
        if trace:
            fields["trace"] = trace
        if timestamp is not None:
            fields["@timestamp"] = timestamp
        return pid if self._emit("prediction", fields) else None

    def actual(
        self,
        prediction_id: str,
        label: Any = None,
        value: Any = None,
        *,
        timestamp: datetime | str | None = None,
    ) -> str | None:
        """Log the ground truth of an earlier prediction, whenever it arrives."""
        fields: dict[str, Any] = {
            "prediction_id": prediction_id,
            "actual": {k: v for k, v in (("label", label), ("value", value)) if v is not None},
        }
        if timestamp is not None:
            fields["@timestamp"] = timestamp
        return prediction_id if self._emit("actual", fields) else None

    def _emit(self, kind: str, fields: dict[str, Any]) -> bool:
        if self._closed:
            self._counters.add(dropped_after_close=1)
            return False
        try:
            self._log.info(kind, **fields)
        except InvalidEventError:
            self._counters.add(invalid=1)
            if self._strict:
                raise
            return False
        self._counters.add(emitted=1)
        return True

    # -- control -------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        """Counters: every emitted event is sent, dropped (counted by reason) or still queued."""
        counts = self._counters.snapshot()
        counts["queued"] = self._events.unfinished_tasks
        return counts

    @property
    def last_error(self) -> str | None:
        """The most recent shipping error, for diagnostics (never raised)."""
        return self._counters.last_error

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything emitted so far is delivered or counted; True if it was in time."""
        deadline = time.monotonic() + timeout
        events = self._events
        with events.all_tasks_done:
            while events.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._worker.is_alive():
                    return False
                events.all_tasks_done.wait(remaining)
        before = self._counters.get("idle_done")
        self._worker.request_idle_work()
        while self._counters.get("idle_done") == before and self._worker.is_alive():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Flush, stop the background thread and close the sink (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self.flush(timeout)
        self._worker.stop()
        self._worker.join(timeout=max(0.1, timeout))
        self._sink.close()

    def __enter__(self) -> PredictionLogger:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _close_at_exit(ref: weakref.ref) -> None:
    logger = ref()
    if logger is not None:
        logger.close(timeout=2.0)
