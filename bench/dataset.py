"""Load N synthetic 20-feature events into Elasticsearch once (not timed), reuse them after.

Each size is its own model (``bench-n<N>``), loaded in chunks with its training
profile registered: every document is mlmon's own (``normalize_event``, then
``tag_event`` against the profile, into the index ``operation_for`` names, so the
same template maps it), sent as raw orjson ``_bulk`` bodies by a second thread
while the next chunk is built (:func:`_bulk_load`): mlmon's writer keeps per-item
bookkeeping a benchmark load does not need, and went at ~1,300 events/s.
A model whose index already holds N events is reused, so a second
`make bench` skips loading. The request cache is switched off on these
indices, so repeated traces are measured cold rather than served from cache.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

from bench.synth import DAYS, END, chunks, profile, raw_events

_ISO = "%Y-%m-%dT%H:%M:%SZ"
#: Documents per ``_bulk`` body: ~15 MB at 100 features, well under the node's
#: ``http.max_content_length`` (100 MB).
BULK_DOCUMENTS = 5_000
WINDOW = f"{(END - timedelta(days=DAYS)).strftime(_ISO)}..{END.strftime(_ISO)}"


def model_name(n: int, features: int = 20) -> str:
    """``bench-n<N>`` (20 features, the name every earlier run used), else
    ``bench-f<F>-n<N>``: no name extends another's, so no index pattern spans two."""
    return f"bench-n{n}" if features == 20 else f"bench-f{features}-n{n}"


def pattern(n: int, features: int = 20) -> str:
    return f"mlmon-predictions-{model_name(n, features)}-*"


def count(client, n: int, features: int = 20) -> int:
    found = client.count(
        index=pattern(n, features),
        query={"term": {"model.name": model_name(n, features)}},
        allow_no_indices=True,
        ignore_unavailable=True,
    )
    return found["count"]


def register_profile(client, model: str, features: int = 20) -> None:
    from mlmon.baseline.store import load_profile, save_profile

    if load_profile(client, model=model, name="training") is None:
        save_profile(client, profile(model, features=features))


def ensure(client, n: int, say=print, features: int = 20) -> dict:
    """Make sure the model of N events × ``features`` holds exactly N events; return
    whether and how long loading took."""
    from mlmon._tagging import compile_rules, tag_event
    from mlmon.baseline.store import load_profile
    from mlmon.es.writer import operation_for
    from mlmon.schema.document import normalize_event

    model = model_name(n, features)
    register_profile(client, model, features)
    have = count(client, n, features)
    seconds = 0.0
    if have != n:
        if have:
            client.indices.delete(index=",".join(client.indices.get(index=pattern(n, features))))
        rules = compile_rules(load_profile(client, model=model, name="training"))
        start = time.perf_counter()

        def bodies() -> Iterator[tuple[int, bytes]]:
            lines: list[bytes] = []  # each a bulk item, as mlmon's writer encodes it
            for chunk in chunks(n, features=features):
                for raw in raw_events(chunk.frame, model):
                    lines.append(operation_for(tag_event(normalize_event(raw), rules)).lines())
                    if len(lines) == BULK_DOCUMENTS:
                        yield len(lines), b"".join(lines)
                        lines = []
            if lines:
                yield len(lines), b"".join(lines)

        def progress(done: int) -> None:
            rate = done / (time.perf_counter() - start)
            say(f"  loading {model}: {done:,}/{n:,} ({rate:,.0f}/s)")

        _bulk_load(client, bodies(), progress)
        seconds = time.perf_counter() - start
    # Idempotent, so a run interrupted after loading finishes the job here.
    slow = client.options(request_timeout=3600)
    indices = ",".join(client.indices.get(index=pattern(n, features)))
    slow.indices.put_settings(index=indices, settings={"index.requests.cache.enable": False})
    slow.indices.refresh(index=indices)
    slow.indices.forcemerge(index=indices, max_num_segments=1, wait_for_completion=True)
    return {"loaded": have != n, "seconds": seconds}


def _bulk_load(
    client, bodies: Iterator[tuple[int, bytes]], progress: Callable[[int], None]
) -> None:
    """Send each ``(documents, ndjson)`` body with ``_bulk`` from a second thread, so
    building the next chunk (Python) overlaps the node's indexing; any refused item
    stops the load (a benchmark over a partial dataset would measure nothing)."""
    slow = client.options(request_timeout=600)
    pending: queue.Queue = queue.Queue(maxsize=2)
    failure: list[str] = []

    def send() -> None:
        done = 0
        while (item := pending.get()) is not None:
            if failure:
                continue
            count, body = item
            answer = slow.perform_request(
                "POST", "/_bulk", body=body,
                headers={"content-type": "application/x-ndjson", "accept": "application/json"},
            ).body  # fmt: skip
            if answer.get("errors"):
                refused = [i for i in answer["items"] if next(iter(i.values())).get("error")]
                failure.append(f"{len(refused)} documents refused, first: {refused[0]}")
                continue
            done += count
            progress(done)

    sender = threading.Thread(target=send)
    sender.start()
    try:
        for count, body in bodies:
            if failure:
                break
            pending.put((count, body))
    finally:
        pending.put(None)
        sender.join()
    if failure:
        raise RuntimeError(f"bench load: {failure[0]}")
