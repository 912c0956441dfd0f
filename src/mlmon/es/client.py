"""The Elasticsearch client mlmon uses, and the one place its errors become mlmon's.

:func:`connect` returns a :class:`Client`: the 8.x client with
``perform_request`` — the method every API call, namespaced ones
(``client.indices…``) and ``client.options(...)`` copies included, goes
through — wrapped so that whatever the client library raises leaves as a
:mod:`mlmon.errors` class, the cause chained. Callers catch mlmon's errors
(``ClusterNotFound`` for a 404, ``ClusterError.status`` for the rest) and
never import the client's; the CLI prints them as one line with their exit code.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import elastic_transport
import elasticsearch
from elasticsearch import Elasticsearch
from elasticsearch.serializer import OrjsonSerializer

from mlmon.errors import ClusterError, ClusterNotFound, ClusterUnavailable
from mlmon.es.settings import ConnectionSettings

T = TypeVar("T")

#: Worth another try: the node restarting, overloaded (429) or briefly unavailable.
TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})


class Client(Elasticsearch):
    """The Elasticsearch client whose every call raises mlmon's errors, never the library's."""

    def perform_request(self, method: str, path: str, **kwargs: Any) -> Any:  # type: ignore[override]
        with translate_errors(_url(self)):
            return super().perform_request(method, path, **kwargs)


def connect(settings: ConnectionSettings | None = None, *, check: bool = True) -> Client:
    """A client for ``settings`` (default: from the environment).

    With ``check`` it asks for cluster health once, so a down or refusing
    cluster fails here with one clear line rather than later mid-work.
    ``GET /`` is not used: the test distribution has no root endpoint.
    """
    settings = settings or ConnectionSettings.from_env()
    # orjson decodes the large aggregation answers of a trace ~5x faster than json.
    client = Client(**settings.client_options(), serializer=OrjsonSerializer())  # type: ignore[arg-type]
    if check:
        with_backoff(client.cluster.health)
    return client


def is_transient(error: BaseException) -> bool:
    return isinstance(error, ClusterError) and error.transient


def with_backoff(
    call: Callable[[], T],
    *,
    attempts: int = 4,
    first_wait: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``call()``, again after 0.5, 1 and 2 s when it fails transiently (then it raises).

    For the CLI's reads: a node that restarts or sheds load (429) mid-trace
    costs a few seconds, not the on-call engineer's report.
    """
    wait = first_wait
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except ClusterError as error:
            if attempt == attempts or not is_transient(error):
                raise
            sleep(wait)
            wait *= 2
    raise AssertionError("unreachable")


@contextmanager
def translate_errors(url: str = "the cluster") -> Iterator[None]:
    """Turn the client library's exceptions into mlmon's, keeping the cause chained."""
    try:
        yield
    except (elasticsearch.ApiError, elastic_transport.TransportError) as exc:
        raise mlmon_error(exc, url) from exc


def mlmon_error(exc: Exception, url: str = "the cluster") -> ClusterError:
    """The mlmon error for one client error: the most specific class, the root cause in
    the message, ``status`` and ``transient`` set (pure, so it is unit-tested alone)."""
    if isinstance(exc, elasticsearch.AuthenticationException):
        return ClusterUnavailable(
            f"Elasticsearch at {url} rejected the credentials (401): check MLMON_ES_API_KEY "
            "or MLMON_ES_USER/MLMON_ES_PASSWORD",
            status=401,
        )
    if isinstance(exc, elasticsearch.AuthorizationException):
        return ClusterUnavailable(
            f"Elasticsearch at {url} refused the request (403): {_reason(exc)}", status=403
        )
    if isinstance(exc, elastic_transport.TlsError):
        return ClusterUnavailable(
            f"TLS to Elasticsearch at {url} failed: {_first_line(exc)} (set MLMON_ES_CA_CERTS?)"
        )
    if isinstance(exc, elastic_transport.ConnectionError | elastic_transport.ConnectionTimeout):
        return ClusterUnavailable(
            f"Elasticsearch at {url} is unreachable ({_first_line(exc)}); "
            "start one with `mlmon stack up` or set MLMON_ES_URL",
            transient=True,
        )
    if isinstance(exc, elasticsearch.ApiError):
        status = exc.meta.status
        kind = ClusterNotFound if status == 404 else ClusterError
        return kind(
            f"Elasticsearch error {status}: {_reason(exc)}",
            status=status,
            transient=status in TRANSIENT_STATUSES,
        )
    return ClusterError(f"Elasticsearch at {url}: {_first_line(exc)}")


def _url(client: Elasticsearch) -> str:
    nodes = client.transport.node_pool.all()
    return nodes[0].base_url if nodes else "the cluster"


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "message", None) or exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _reason(exc: elasticsearch.ApiError) -> str:
    """The root cause's type and reason, not the whole response body."""
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error")
    if isinstance(error, dict):
        causes = error.get("root_cause") or [error]
        cause = causes[0]
        return f"{cause.get('type')}: {str(cause.get('reason'))[:300]}"
    return _first_line(exc)


def shard_failure(answer: dict) -> str | None:
    """The first shard's reason when some shards failed (the rest may still answer)."""
    shards = answer.get("_shards") or {}
    if not shards.get("failed"):
        return None
    failures = shards.get("failures") or [{}]
    reason = failures[0].get("reason") or {}
    detail = reason.get("caused_by", reason) if isinstance(reason, dict) else {}
    text = detail.get("reason") or reason.get("type") if isinstance(reason, dict) else reason
    return f"{shards['failed']} of {shards.get('total')} shards failed: {str(text)[:200]}"
