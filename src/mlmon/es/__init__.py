"""Elasticsearch access: connection settings, error mapping, templates, bulk writes."""

from mlmon.es.client import Client, connect
from mlmon.es.settings import ConnectionSettings

__all__ = ["Client", "ConnectionSettings", "connect"]
