"""Elasticsearch access: connection settings, error mapping, templates, bulk writes.

``ConnectionSettings`` is plain data; ``Client`` and ``connect`` import the
Elasticsearch client, so they load on first use and importing this package
(the SDK does, for its settings) stays light.

Internal to mlmon: no compatibility promise between releases. The public API is
``mlmon``, ``mlmon.sdk`` (and its processors, sinks), ``mlmon.errors``, ``mlmon.testing``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlmon.es.settings import ConnectionSettings

if TYPE_CHECKING:
    from mlmon.es.client import Client, connect


def __getattr__(name: str) -> Any:
    if name in ("Client", "connect"):
        from mlmon.es import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Client", "ConnectionSettings", "connect"]
