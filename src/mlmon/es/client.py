"""Build a client and map the client library's errors onto mlmon's, at one boundary."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import elastic_transport
import elasticsearch
from elasticsearch import Elasticsearch

from mlmon.errors import ClusterError, ClusterUnavailable
from mlmon.es.settings import ConnectionSettings

T = TypeVar("T")


def connect(settings: ConnectionSettings | None = None, *, check: bool = True) -> Elasticsearch:
    """A client for ``settings`` (default: from the environment).

    With ``check`` it asks for cluster health once, so a down or refusing
    cluster fails here with one clear line rather than later mid-work.
    ``GET /`` is not used: the test distribution has no root endpoint.
    """
    settings = settings or ConnectionSettings.from_env()
    client = Elasticsearch(**settings.client_options())  # type: ignore[arg-type]
    if check:
        with translate_errors(settings.url):
            with_backoff(client.cluster.health)
    return client


#: Worth another try: the node restarting, overloaded (429) or briefly unavailable.
TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})


def is_transient(error: BaseException) -> bool:
    if isinstance(error, elastic_transport.ConnectionError | elastic_transport.ConnectionTimeout):
        return not isinstance(error, elastic_transport.TlsError)  # a bad certificate stays bad
    return isinstance(error, elasticsearch.ApiError) and error.meta.status in TRANSIENT_STATUSES


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
        except Exception as error:
            if attempt == attempts or not is_transient(error):
                raise
            sleep(wait)
            wait *= 2
    raise AssertionError("unreachable")


@contextmanager
def translate_errors(url: str = "the cluster") -> Iterator[None]:
    """Turn the client's exceptions into mlmon's, keeping the cause chained."""
    try:
        yield
    except elasticsearch.AuthenticationException as exc:
        raise ClusterUnavailable(
            f"Elasticsearch at {url} rejected the credentials (401): check MLMON_ES_API_KEY "
            "or MLMON_ES_USER/MLMON_ES_PASSWORD"
        ) from exc
    except elasticsearch.AuthorizationException as exc:
        raise ClusterUnavailable(
            f"Elasticsearch at {url} refused the request (403): {_reason(exc)}"
        ) from exc
    except elastic_transport.TlsError as exc:
        raise ClusterUnavailable(
            f"TLS to Elasticsearch at {url} failed: {_first_line(exc)} (set MLMON_ES_CA_CERTS?)"
        ) from exc
    except (elastic_transport.ConnectionError, elastic_transport.ConnectionTimeout) as exc:
        raise ClusterUnavailable(
            f"Elasticsearch at {url} is unreachable ({_first_line(exc)}); "
            "start one with `mlmon stack up` or set MLMON_ES_URL"
        ) from exc
    except elasticsearch.ApiError as exc:
        raise ClusterError(f"Elasticsearch error {exc.meta.status}: {_reason(exc)}") from exc


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
