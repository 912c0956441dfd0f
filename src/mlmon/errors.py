"""mlmon's exceptions: one root, each class named for what the caller can do.

::

    MlmonError (exit 1)                 anything mlmon reports to a user
    ├── UsageError (exit 2)             bad arguments, files or configuration
    │   ├── InvalidEventError           an event that cannot be indexed (also a ValueError)
    │   ├── ProfileError                a baseline file or stored profile that cannot be used
    │   └── LayerError                  a Kibana panel that cannot be built (mlmon.kibana.queries)
    ├── NoEvents (exit 4)               the model logged nothing in the window asked about
    ├── StackError                      the local Elasticsearch could not be set up or started
    ├── SinkError                       an SDK sink could not send (counted, never raised to
    │                                   the model service)
    └── ClusterError (exit 3)           Elasticsearch cannot do what was asked
        ├── ClusterUnavailable          unreachable, refusing, or unauthorised
        │   └── TemplatesNotPermitted   may not manage index templates (mlmon.es.setup)
        ├── ClusterFeatureMissing       the node lacks an API or aggregation mlmon relies on
        └── ClusterNotFound             the index or document asked for does not exist (404)

Elasticsearch client errors become these classes in one place: the client
:func:`mlmon.es.client.connect` returns maps them on every call. The CLI
prints ``str(error)`` as one line and exits with ``error.exit_code``; any
other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

from typing import Any


class MlmonError(Exception):
    """Root of every error mlmon reports to a user."""

    exit_code = 1


class UsageError(MlmonError):
    """The input (arguments, file, configuration) is wrong; fixing it is the user's move."""

    exit_code = 2


class InvalidEventError(UsageError, ValueError):
    """An event that cannot be indexed; the message names the field."""


class ProfileError(UsageError):
    """A baseline file or stored profile that cannot be built or used."""


class NoEvents(MlmonError):
    """Nothing to analyse: no prediction of the model in the window (no traffic yet, or
    retention removed it). Not a cluster failure: the cluster answered "none"."""

    exit_code = 4

    def __init__(self, model: str, version: str | None, window: Any) -> None:
        version_text = f" version {version}" if version else ""
        super().__init__(
            f"no events for model {model!r}{version_text} in window {window.start}..{window.end}"
        )
        self.model = model
        self.version = version
        self.window = window


class StackError(MlmonError):
    """The local stack could not be set up or started."""


class SinkError(MlmonError):
    """A send failed; ``delivered`` leading events of the batch did get through."""

    def __init__(self, message: str, *, delivered: int = 0) -> None:
        super().__init__(message)
        self.delivered = delivered


class ClusterError(MlmonError):
    """Elasticsearch could not do what was asked; ``status`` is the HTTP status if any,
    ``transient`` whether the same request may succeed in a moment (429, 503, a restart)."""

    exit_code = 3

    def __init__(self, message: str, *, status: int | None = None, transient: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.transient = transient


class ClusterUnavailable(ClusterError):
    """The cluster is unreachable, refuses the connection, or rejects the credentials."""


class ClusterFeatureMissing(ClusterError):
    """The node lacks an API or aggregation mlmon relies on."""


class ClusterNotFound(ClusterError):
    """The index or document asked for does not exist (HTTP 404)."""
