"""Shadow predictions paired with the live prediction of the same request (pure).

A shadow prediction carries ``trace.shadow_of``: the id of the live
prediction it shadowed. Pairing writes, onto the shadow's document, the
little of the live prediction that a paired comparison needs (its version,
label, total latency and, once the actual is known, its correctness and
absolute error) as a ``pair`` block.

Why store the partner on the shadow instead of pairing at query time: a
paired comparison needs, per request, *both* outcomes. Read from two
documents, that is a ``terms``/``composite`` aggregation keyed by the request
id (one bucket per request: memory and time grow with traffic, the opposite
of what the analyzer promises) or pulling raw events. With the partner's
outcome on the shadow, every paired count is a plain filter or ``terms``
count over the shadows: agreement is ``pair.agree``, McNemar's four cells
are the ``terms`` of ``pair.outcome``, the paired error test needs the
``extended_stats`` of ``pair.abs_error_diff`` — per slice too, as
sub-aggregations of the slice buckets the trace already uses. The cost is
one partial update per shadow, written by the same idempotent steps as the
join (:mod:`mlmon.es.join`, :mod:`mlmon.es.pair`), and the pandas backend
builds the same block with the same function.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlmon.schema.document import score_outcome

#: ``pair.outcome``: which of the two was right on a labelled request.
#: ``model.deployment`` of a prediction logged for a request another version served.
SHADOW = "shadow"
OUTCOMES = ("both", "candidate", "against", "neither")


def shadow_of(doc: Mapping[str, Any]) -> str | None:
    """The live prediction id a shadow prediction shadowed (None for any other)."""
    return (doc.get("trace") or {}).get("shadow_of")


def outcome(candidate_correct: bool, against_correct: bool) -> str:
    if candidate_correct and against_correct:
        return "both"
    if candidate_correct:
        return "candidate"
    if against_correct:
        return "against"
    return "neither"


def pair_block(
    shadow: Mapping[str, Any], live: Mapping[str, Any], actual: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The ``pair`` block of a shadow document, given its live partner and the actual.

    ``shadow`` and ``live`` are prediction documents (``prediction``, ``model``,
    ``latency_ms``); ``actual`` the request's actual block (label/value) or None
    while it has not arrived. Only what both sides allow is written.
    """
    mine = shadow.get("prediction") or {}
    theirs = live.get("prediction") or {}
    block: dict[str, Any] = {"version": (live.get("model") or {}).get("version")}
    if theirs.get("label") is not None:
        block["label"] = theirs["label"]
        if mine.get("label") is not None:
            block["agree"] = mine["label"] == theirs["label"]
    latency = (live.get("latency_ms") or {}).get("total")
    if latency is not None:
        block["latency_ms"] = latency
    if actual:
        my_score = score_outcome(mine, actual)
        their_score = score_outcome(theirs, actual)
        if "correct" in their_score:
            block["correct"] = their_score["correct"]
            if "correct" in my_score:
                block["outcome"] = outcome(my_score["correct"], their_score["correct"])
        if "abs_error" in their_score:
            block["abs_error"] = their_score["abs_error"]
            if "abs_error" in my_score:
                block["abs_error_diff"] = my_score["abs_error"] - their_score["abs_error"]
    return {k: v for k, v in block.items() if v is not None}


def actual_block(live: Mapping[str, Any]) -> dict[str, Any] | None:
    """The actual a live document was joined with, as the join received it (label/value)."""
    joined = live.get("actual") or {}
    given = {k: joined[k] for k in ("label", "value") if joined.get(k) is not None}
    return given or None


def shadow_update(shadow: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
    """The partial document for one shadow: its pair block, and the live one's actual."""
    actual = actual_block(live)
    body: dict[str, Any] = {"pair": pair_block(shadow, live, actual)}
    if actual and not shadow.get("actual"):
        block = dict(actual)
        block.update(score_outcome(shadow.get("prediction"), actual))
        if (live.get("actual") or {}).get("timestamp"):
            block["timestamp"] = live["actual"]["timestamp"]
        body["actual"] = block
    return body


__all__ = ["OUTCOMES", "actual_block", "outcome", "pair_block", "shadow_of", "shadow_update"]
