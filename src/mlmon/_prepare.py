"""Prepare an event for indexing: normalise → decide whether to tag → tag.

The one path of every way in (the SDK's worker, ``mlmon ingest``,
``mlmon tag``, the file source), so an event becomes the same document
whichever way it travelled. The SDK normalises in the caller's thread
(invalid input raises there) and tags in its worker, so the two steps are
also callable apart: :func:`~mlmon.schema.document.normalize_event`, then
:func:`tag_if_needed`. Pure apart from the rules cache's lookups.
"""

from __future__ import annotations

from typing import Any, Literal

from mlmon._tagging import RulesCache, tag_events
from mlmon.schema.document import normalize_event

#: What :func:`tag_if_needed` did: tagged it, found no profile for it, or left
#: it as it came (an actual, or a prediction tagged upstream or earlier).
Tagging = Literal["tagged", "untagged", "kept"]


def needs_tagging(doc: dict[str, Any]) -> bool:
    """Predictions are tagged unless they already carry a ``quality`` block."""
    return doc["event"]["kind"] == "prediction" and "quality" not in doc


def tag_if_needed(doc: dict[str, Any], rules: RulesCache | None) -> Tagging:
    """Tag a normalised ``doc`` in place against its model version's rules, if it needs it."""
    return tag_all([doc], rules)[0]


def tag_all(docs: list[dict[str, Any]], rules: RulesCache | None) -> list[Tagging]:
    """:func:`tag_if_needed` for each of ``docs``, a batch per model version at a time
    (:func:`~mlmon._tagging.tag_events`); what tagging did to each, in order."""
    outcomes: list[Tagging] = ["kept"] * len(docs)
    versions: dict[tuple[str, str | None], list[int]] = {}
    for i, doc in enumerate(docs):
        if doc["event"]["kind"] == "prediction" and "quality" not in doc:  # needs_tagging
            model = doc["model"]
            versions.setdefault((model["name"], model.get("version")), []).append(i)
    for (model, version), positions in versions.items():
        found = rules.get(model, version) if rules is not None else None
        if found is not None:
            tag_events([docs[i] for i in positions], found)
        for i in positions:
            outcomes[i] = "untagged" if found is None else "tagged"
    return outcomes


def prepare_event(raw: Any, rules: RulesCache | None) -> tuple[dict[str, Any], Tagging]:
    """The indexed document of one raw event, and what tagging did to it.

    Raises :class:`~mlmon.errors.InvalidEventError` naming the first wrong field.
    """
    doc = normalize_event(raw)
    return doc, tag_if_needed(doc, rules)


__all__ = ["Tagging", "needs_tagging", "prepare_event", "tag_all", "tag_if_needed"]
