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
import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

from mlmon.errors import InvalidEventError
from mlmon.sdk._chain import Chain, Processor, is_drop_event
from mlmon.sdk._fastpath import PredictionDocs
from mlmon.sdk._handoff import Handoff
from mlmon.sdk._outcome import Task, logger_task, outcome
from mlmon.sdk._rules import given_profile, rules_cache
from mlmon.sdk._stats import Counters, DropWarning, warn
from mlmon.sdk._worker import Worker
from mlmon.sdk.processors import EventKind, ModelStamper, TimeStamper, Validate, new_id
from mlmon.sdk.sinks import Sink, sink_from_url

if TYPE_CHECKING:
    from datetime import datetime

    from mlmon.es.settings import ConnectionSettings

#: How long close() waits, after its timeout, for a send already in flight to return.
_CLOSE_GRACE = 5.0


def _plain_id(prediction_id: object) -> bool:
    """An id the direct path may take as it is (others go through the schema's check)."""
    return type(prediction_id) is str and 0 < len(prediction_id) <= 128


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
        spool_dir: a directory for a disk spool (see :mod:`mlmon.sdk._spool`): what does
            not fit the queue or cannot be sent is appended there and replayed in order
            when the sink is back; bounded by ``spool_max_bytes`` (then dropped, counted
            as ``dropped_spool_full``); ``spool_fsync`` is "segment", "always" or "never".
        processors: extra structlog processors run before validation (e.g. to hash PII);
            one may raise ``structlog.DropEvent`` (counted as ``dropped_by_processor``).
        batch_size: events the background thread takes at a time; by default 2,000 for
            Elasticsearch (one bulk request), 500 for the others (sent 50 at a time).
        task: ``"regression"`` or ``"classification"``; by default the given profile's.
            A regression logger stores a number passed as ``prediction=``/``label=`` as
            the outcome's ``value``; a logger that knows no task refuses a fractional
            ``prediction=``/``label=`` (pass ``value=``).
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
        spool_dir: str | os.PathLike[str] | None = None,
        spool_max_bytes: int = 1 << 30,
        spool_fsync: str = "segment",
        batch_size: int | None = None,
        retry_for: float = 5.0,
        processors: Sequence[Processor] = (),
        clock: Callable[[], datetime] | None = None,
        stream: IO[Any] | None = None,
        task: Task | None = None,
    ) -> None:
        profile = given_profile(profile)
        self.task: Task | None = logger_task(task, profile)
        self._strict = strict
        self._counters = Counters()
        self._events = Handoff(max_queue)
        stamper = ModelStamper(model, version, environment=environment, deployment=deployment)
        self._stamper = stamper
        self.model, self.version = model, version
        self._sink = sink_from_url(sink, settings=settings, stream=stream)
        self._spool = None
        if spool_dir is not None:
            from mlmon.sdk._spool import Spool

            self._spool = Spool(spool_dir, max_bytes=spool_max_bytes, fsync=spool_fsync)
        rules = rules_cache(
            profile,
            profile_name=profile_name,
            settings=settings,
            refresh_seconds=refresh_seconds,
            counters=self._counters,
        )
        warning = DropWarning(
            self._counters,
            model=model,
            settings={
                "max_queue": max_queue,
                "retry_for": retry_for,
                "spool_max_bytes": spool_max_bytes,
            },
        )
        docs = PredictionDocs(stamper.block)
        self._log = Chain(
            [EventKind(), stamper, TimeStamper(clock), *processors, Validate()],
            self._events,
            self._counters,
            warning,
            block=block_when_full,
            spool=self._spool,
            documents=docs.documents,
        )
        self._worker = Worker(
            self._events,
            self._sink,
            self._counters,
            rules,
            docs.documents,
            batch_size=batch_size,
            retry_for=retry_for,
            warning=warning,
            spool=self._spool,
        )
        self._worker.start()
        #: The plain call's direct path: only without processors of the service's own
        #: (they must see the raw event) and without a test clock.
        self._fast = docs if not processors and clock is None else None
        self._block = block_when_full
        self._closed = False
        self._closed_clean = False
        self._warning = warning
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
        attributions: Mapping[str, Any] | None = None,
        actual: Any = None,
        latency_ms: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        trace: Mapping[str, Any] | None = None,
        prediction_id: str | None = None,
        timestamp: datetime | str | None = None,
        deployment: str | None = None,
        shadow_of: str | None = None,
    ) -> str | None:
        """Log one prediction; returns its id (for :meth:`actual`), or None if skipped.

        A shadow (a candidate that saw the request but whose answer was not served):
        ``deployment="shadow", shadow_of=<the live prediction's id>``, with the same
        features. The live prediction's actual then joins the shadow too, and
        ``mlmon compare`` pairs the two. ``deployment`` overrides the logger's own
        for this one event.

        ``attributions``: the model's additive attribution of this prediction per feature
        (SHAP values, a tree library's contributions), ``{feature: number}``; the trace
        ranks features by their mean |attribution| and says when one's importance changed.
        """
        if prediction is not None and (type(prediction) is not str or self.task == "regression"):
            # A regressor's number is its value (or refused: value=); a class's text stays.
            try:
                given = outcome(
                    prediction, value, task=self.task, argument="prediction", field="prediction"
                )
            except InvalidEventError as error:
                return self._refuse(error)
            prediction, value = given.get("label"), given.get("value")
        fast = self._fast
        if (
            fast is not None
            and actual is None
            and latency_ms is None
            and tags is None
            and trace is None
            and timestamp is None
            and deployment is None
            and shadow_of is None
            and (prediction_id is None or _plain_id(prediction_id))
        ):
            if self._closed:
                self._counters.add(dropped_after_close=1)
                return None
            pid = prediction_id or new_id()
            try:
                row = fast.row(pid, features, prediction, score, value, attributions)
            except InvalidEventError:
                self._counters.add(invalid=1)
                if self._strict:
                    raise
                return None
            if self._block or not self._events.offer(*row):
                self._log.enqueue(*row)
            self._counters.emitted()
            return pid
        pid = prediction_id or new_id()
        fields: dict[str, Any] = {"prediction_id": pid, "features": features}
        if shadow_of is not None and deployment is None:
            from mlmon.schema.pairing import SHADOW

            deployment = SHADOW
        if deployment is not None:
            fields["model"] = {**self._stamper.block, "deployment": deployment}
        if shadow_of is not None:
            trace = {**(trace or {}), "shadow_of": shadow_of}
        given = {
            k: v
            for k, v in (("label", prediction), ("score", score), ("value", value))
            if v is not None
        }
        if given:
            fields["prediction"] = given
        if actual is not None:
            fields["actual"] = actual
        if attributions is not None:
            fields["attributions"] = attributions
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
        try:
            given = outcome(label, value, task=self.task, argument="label", field="actual")
        except InvalidEventError as error:
            return self._refuse(error)
        fields: dict[str, Any] = {"prediction_id": prediction_id, "actual": given}
        if timestamp is not None:
            fields["@timestamp"] = timestamp
        return prediction_id if self._emit("actual", fields) else None

    def _refuse(self, error: InvalidEventError) -> None:
        """Count an invalid call; raise it when strict (None: the call was skipped)."""
        self._counters.add(invalid=1)
        if self._strict:
            raise error

    def _emit(self, kind: str, fields: dict[str, Any]) -> bool:
        if self._closed:
            self._counters.add(dropped_after_close=1)
            return False
        try:
            self._log(kind, fields)
        except InvalidEventError:
            self._counters.add(invalid=1)
            if self._strict:
                raise
            return False
        except BaseException as error:
            if not is_drop_event(error):
                raise
            self._counters.add(dropped_by_processor=1)
            self._counters.emitted()
            return True
        self._counters.emitted()
        return True

    # -- control -------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        """Counters: ``emitted = sent + queued + spooled + dropped_*`` (by reason; after a
        close() that a stuck send outlasted, ``+ unconfirmed_at_close``); with a
        spool, ``replayed`` (sent from it, also from an earlier process) and ``spool_pending``
        (on disk, still to replay)."""
        counts = self._counters.snapshot()
        counts["queued"] = 0 if self._counters.closed else self._events.queued
        if self._spool is not None:
            counts["spool_pending"] = self._spool.pending
            counts["spool_bytes"] = self._spool.bytes
            counts["spool_corrupt"] = self._spool.corrupt
        return counts

    @property
    def last_error(self) -> str | None:
        """The most recent shipping error, for diagnostics (never raised)."""
        return self._counters.last_error

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything emitted so far is delivered (with a spool: replayed too) or
        counted as dropped; True if it was in time."""
        deadline = time.monotonic() + timeout
        alive = self._worker.is_alive
        if not self._events.wait_empty(deadline, alive):
            return False
        while self._worker.backlog:
            if time.monotonic() > deadline or not alive():
                return False
            self._events.wake()
            time.sleep(0.01)
        if not self._events.wait_empty(deadline, alive):
            return False
        before = self._counters.get("idle_done")
        self._worker.request_idle_work()
        while self._counters.get("idle_done") == before and self._worker.is_alive():
            if time.monotonic() > deadline:
                return False
            self._events.wait_progress(0.01)
        return True

    def close(self, timeout: float = 10.0) -> bool:
        """Deliver for up to ``timeout`` seconds, stop the background thread, close the sink.

        After it, ``stats()`` is final: what was not delivered in time is counted as
        ``dropped_at_close`` (``queued`` is 0). The sink closes only once the thread has
        stopped; a send already in flight may hold it up to the sink's own timeout
        (``_CLOSE_GRACE`` at most, then a warning, the sink is left open, and that send's
        events are ``unconfirmed_at_close``: its outcome is unknown, and what the thread
        does after it is not counted).
        True when everything was delivered. Idempotent.
        """
        with self._lock:
            if self._closed:
                return self._closed_clean
            self._closed = True
        delivered = self.flush(timeout)
        self._worker.stop(abandon=True)  # flush had its time: nothing more is retried
        self._worker.join(timeout=_CLOSE_GRACE)
        self._counters.close_books(unsent=self._events.queued - self._worker.sending)
        if self._worker.is_alive():
            stuck = self._counters.get("unconfirmed_at_close")
            warn(
                f"mlmon: close(): a send was still in flight after {_CLOSE_GRACE:g} s; "
                f"its {stuck:,} events counted as unconfirmed_at_close (maybe delivered)"
            )
            self._closed_clean = False
            return False
        self._sink.close()
        if self._spool is not None:
            self._spool.close()
        self._warning.check(final=True)  # drops since the last warning: said now, not lost
        self._closed_clean = delivered and not self._counters.get("dropped_at_close")
        return self._closed_clean

    def __enter__(self) -> PredictionLogger:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _close_at_exit(ref: weakref.ref) -> None:
    logger = ref()
    if logger is not None:
        logger.close(timeout=2.0)
