"""Read every document a query matches, a page at a time, in ``prediction_id`` order.

The join, the shadow pairing and ``mlmon tag`` each update what they read:
``search_after`` on the id (not a scroll or a point in time) keeps each page
cheap and lets a document updated out of the query simply not come back.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from elasticsearch import Elasticsearch


def pages(
    client: Elasticsearch,
    *,
    index: str,
    query: dict[str, Any],
    source: Sequence[str],
    page_size: int = 1000,
) -> Iterator[list[dict[str, Any]]]:
    """Pages of hits (``_index``, ``_id``, ``_source``); none when no index matches."""
    search_after = None
    while True:
        hits = client.search(
            index=index,
            query=query,
            size=page_size,
            sort=[{"prediction_id": "asc"}],
            search_after=search_after,
            source=list(source),
            allow_no_indices=True,
            ignore_unavailable=True,
        )["hits"]["hits"]
        if not hits:
            return
        yield hits
        search_after = hits[-1]["sort"]
