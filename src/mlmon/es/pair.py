"""Pair shadow predictions with their live partner, with plain bulk partial updates.

The join (:mod:`mlmon.es.join`) pairs a shadow when the actual arrives. This
pass covers the rest, whatever arrived first: it pages through shadows with
no ``pair`` block yet, finds their live predictions with one ``ids`` query
per page and writes each shadow's ``pair`` block — with the live
prediction's actual, when the join already gave it one, so a shadow indexed
after its request's actual was joined still gets it. A shadow whose live
prediction is not indexed yet stays unpaired for a later pass. Idempotent:
running it twice writes the same blocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch

from mlmon.es.bulk import Operation, execute
from mlmon.es.paging import pages
from mlmon.schema.event import model_indices
from mlmon.schema.pairing import shadow_of, shadow_update


@dataclass(frozen=True)
class PairResult:
    paired: int
    pending: int  # shadows whose live prediction is not indexed yet
    failed: int
    errors: tuple[str, ...] = ()


def unpaired_query(model: str) -> dict[str, Any]:
    return {
        "bool": {
            "filter": [
                {"term": {"event.kind": "prediction"}},
                {"term": {"model.name": model}},
                {"exists": {"field": "trace.shadow_of"}},
            ],
            "must_not": [{"exists": {"field": "pair.version"}}],
        }
    }


def pair_pending(client: Elasticsearch, *, model: str, page_size: int = 1000) -> PairResult:
    """One pass over the model's unpaired shadows."""
    index = model_indices("predictions", model)
    client.indices.refresh(index=index, allow_no_indices=True, ignore_unavailable=True)
    paired = pending = failed = 0
    errors: list[str] = []
    for page in pages(
        client,
        index=index,
        query=unpaired_query(model),
        source=["prediction", "trace.shadow_of", "actual"],
        page_size=page_size,
    ):
        wanted = sorted({shadow_of(hit["_source"]) for hit in page})
        lives = client.search(
            index=index,
            query={"bool": {"filter": [{"ids": {"values": wanted}}]}},
            size=len(wanted),
            source=["prediction", "model.version", "latency_ms.total", "actual"],
        )["hits"]["hits"]
        found = {hit["_id"]: hit["_source"] for hit in lives}
        updates = [
            Operation(
                "update",
                hit["_index"],
                hit["_id"],
                shadow_update(hit["_source"], found[shadow_of(hit["_source"])]),
            )
            for hit in page
            if shadow_of(hit["_source"]) in found
        ]
        pending += len(page) - len(updates)
        outcome = execute(client, updates)
        paired += len(outcome.succeeded)
        failed += len(outcome.failed)
        errors.extend(outcome.summary())
    if paired:
        client.indices.refresh(index=index, allow_no_indices=True, ignore_unavailable=True)
    return PairResult(paired=paired, pending=pending, failed=failed, errors=tuple(errors[:10]))


__all__ = ["PairResult", "pair_pending", "unpaired_query"]
