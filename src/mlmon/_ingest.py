"""Events without the SDK: ``mlmon ingest`` (JSON lines) and ``mlmon tag`` (late tagging).

Both use the same pieces as the SDK: :mod:`mlmon._prepare` (normalise, decide,
tag: :func:`~mlmon._prepare.tag_all`, a batch at a time, as the SDK's worker),
:class:`mlmon._tagging.RulesCache` and :func:`mlmon.es.writer.write_events`, so the
documents are the same whichever path they took. Nothing is dropped silently:
a line that cannot be parsed or validated goes to the dead-letter index with
its line number and reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from elasticsearch import Elasticsearch

from mlmon._prepare import tag_all
from mlmon._tagging import RulesCache
from mlmon.baseline.store import profile_loader
from mlmon.errors import InvalidEventError, UsageError
from mlmon.es.bulk import Operation, execute
from mlmon.es.join import join_pending
from mlmon.es.paging import pages
from mlmon.es.writer import WriteResult, deadletter_operation, write_deadletters, write_events
from mlmon.schema.document import normalize_event
from mlmon.schema.event import model_indices, normalize_timestamp

Progress = Callable[[int], None]


@dataclass
class IngestResult:
    lines: int = 0
    written: WriteResult = field(default_factory=WriteResult)
    invalid: int = 0  # of written.dead_lettered: lines refused before indexing
    tagged: int = 0
    untagged: int = 0  # predictions with no profile to tag against
    joined: int = 0
    pending_actuals: int = 0


def ingest_file(
    client: Elasticsearch,
    path: Path,
    *,
    batch_size: int = 2000,
    progress: Progress | None = None,
    profile_name: str | None = None,
) -> IngestResult:
    """Validate, tag and index every line of a JSON-lines file, then join actuals."""
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    result = IngestResult()
    rules = RulesCache(profile_loader(client, name=profile_name))
    models: set[str] = set()
    docs: list[dict[str, Any]] = []
    refused: list[Operation] = []

    def flush() -> None:
        if docs:
            outcomes = tag_all(docs, rules)  # a batch per model version, as the SDK's worker
            result.tagged += outcomes.count("tagged")
            result.untagged += outcomes.count("untagged")
            result.written.add(write_events(client, docs, source="ingest"))
            docs.clear()
        if refused:
            result.written.add(write_deadletters(client, refused))
            refused.clear()

    for number, line in _lines(path, progress):
        result.lines += 1
        try:
            doc = normalize_event(_parse(line))
        except InvalidEventError as exc:
            result.invalid += 1
            refused.append(
                deadletter_operation(
                    line.decode("utf-8", "replace"),
                    source="ingest",
                    error_type="invalid_event",
                    reason=f"{path.name} line {number}: {exc}",
                    location=f"{path}:{number}",
                )
            )
        else:
            models.add(doc["model"]["name"])
            docs.append(doc)
        if len(docs) + len(refused) >= batch_size:
            flush()
    flush()
    for model in sorted(models):
        joined = join_pending(client, model=model)
        result.joined += joined.joined
        result.pending_actuals += joined.pending
    return result


def _lines(path: Path, progress: Progress | None) -> Iterator[tuple[int, bytes]]:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if progress:
                progress(len(line))
            if line.strip():
                yield number, line.rstrip(b"\r\n")


def _parse(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise InvalidEventError(f"not valid JSON ({exc})") from None


@dataclass
class TagResult:
    seen: int = 0
    tagged: int = 0
    no_profile: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def tag_untagged(
    client: Elasticsearch,
    *,
    model: str,
    since: str | None = None,
    profile_name: str | None = None,
    page_size: int = 1000,
    progress: Progress | None = None,
) -> TagResult:
    """Tag predictions that arrived untagged, with bulk partial updates of ``quality``."""
    index = model_indices("predictions", model)
    filters: list[dict[str, Any]] = [
        {"term": {"model.name": model}},
        {"term": {"event.kind": "prediction"}},
    ]
    if since:
        filters.append({"range": {"@timestamp": {"gte": _since(since)}}})
    query = {"bool": {"filter": filters, "must_not": [{"exists": {"field": "quality.profile"}}]}}
    rules = RulesCache(profile_loader(client, name=profile_name))
    result = TagResult()
    client.indices.refresh(index=index, allow_no_indices=True, ignore_unavailable=True)
    for hits in pages(
        client, index=index, query=query, source=["features", "model", "event"], page_size=page_size
    ):
        docs = [_taggable(hit["_source"], model) for hit in hits]
        updates = []
        for hit, doc, tagging in zip(hits, docs, tag_all(docs, rules), strict=True):
            if tagging != "tagged":
                result.no_profile += 1
                continue
            updates.append(
                Operation("update", hit["_index"], hit["_id"], {"quality": doc["quality"]})
            )
        outcome = execute(client, updates)
        result.seen += len(hits)
        result.tagged += len(outcome.succeeded)
        result.failed += len(outcome.failed)
        result.errors.extend(outcome.summary())
        if progress:
            progress(len(hits))
    return result


def _taggable(source: dict[str, Any], model: str) -> dict[str, Any]:
    """What tagging reads of an indexed prediction (a page of them is tagged at once)."""
    return {
        "event": source.get("event") or {"kind": "prediction"},
        "model": {"name": model, "version": source.get("model", {}).get("version")},
        "features": source.get("features", {}),
    }


def _since(value: str) -> str:
    """ISO-8601 or Elasticsearch date math (``now-1d``)."""
    if value.startswith("now"):
        return value
    try:
        return normalize_timestamp(value, field="--since")
    except InvalidEventError as exc:
        raise UsageError(str(exc)) from None
