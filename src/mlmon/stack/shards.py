"""A model's indices split into several shards, to spread it over a local cluster.

The shipped templates give every index one primary (and a replica where a
second node exists): right for the data sizes mlmon's monthly indices hold.
Tests and benchmarks that prove answers do not depend on the layout create a
model's indices first, with more primaries and replicas; the templates'
mappings still apply (explicit settings win over a template's). Index names
come from `mlmon.schema.event`, as everywhere.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from mlmon.schema.event import actuals_index, predictions_index


def monthly_indices(model: str, start: datetime, end: datetime) -> list[str]:
    """Both kinds' index names for every day from ``start`` to ``end`` (inclusive)."""
    names: set[str] = set()
    day = start
    while day <= end:
        stamp = day.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        names.update((predictions_index(model, stamp), actuals_index(model, stamp)))
        day += timedelta(days=1)
    return sorted(names)


def create_split(
    client, model: str, start: datetime, end: datetime, *, shards: int, replicas: int
) -> list[str]:
    """Create ``model``'s indices for the span with ``shards`` primaries and ``replicas``
    (an existing index is left as it is: a shard count cannot change in place)."""
    names = monthly_indices(model, start, end)
    for index in names:
        if client.indices.exists(index=index):
            continue
        client.indices.create(
            index=index,
            settings={
                "index.number_of_shards": shards,
                "index.number_of_replicas": replicas,
                "index.auto_expand_replicas": "false",
            },
        )
    return names
