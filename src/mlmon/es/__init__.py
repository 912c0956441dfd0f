"""Elasticsearch access: connection settings, error mapping, templates, bulk writes."""

from mlmon.es.client import connect, translate_errors
from mlmon.es.settings import ConnectionSettings

__all__ = ["ConnectionSettings", "connect", "translate_errors"]
