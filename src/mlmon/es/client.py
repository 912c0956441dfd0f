"""Build a client and map the client library's errors onto mlmon's, at one boundary."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import elastic_transport
import elasticsearch
from elasticsearch import Elasticsearch

from mlmon.errors import ClusterError, ClusterUnavailable
from mlmon.es.settings import ConnectionSettings


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
            client.cluster.health()
    return client


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
