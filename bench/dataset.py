"""Load N synthetic 20-feature events into Elasticsearch once (not timed), reuse them after.

Each size is its own model (``bench-n<N>``), loaded through mlmon's own path
(normalise, tag, bulk) in chunks, with its training profile registered.
A model whose index already holds N events is reused, so a second
`make bench` skips loading. The request cache is switched off on these
indices, so repeated traces are measured cold rather than served from cache.
"""

from __future__ import annotations

import time
from datetime import timedelta

from bench.synth import DAYS, END, chunks, profile, raw_events

_ISO = "%Y-%m-%dT%H:%M:%SZ"
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
    from mlmon.es.writer import write_events
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
        done = 0
        for chunk in chunks(n, features=features):
            docs = (
                tag_event(normalize_event(raw), rules) for raw in raw_events(chunk.frame, model)
            )
            done += write_events(client, docs, source="bench").indexed
            rate = done / (time.perf_counter() - start)
            say(f"  loading {model}: {done:,}/{n:,} ({rate:,.0f}/s)")
        seconds = time.perf_counter() - start
    # Idempotent, so a run interrupted after loading finishes the job here.
    slow = client.options(request_timeout=3600)
    indices = ",".join(client.indices.get(index=pattern(n, features)))
    slow.indices.put_settings(index=indices, settings={"index.requests.cache.enable": False})
    slow.indices.refresh(index=indices)
    slow.indices.forcemerge(index=indices, max_num_segments=1, wait_for_completion=True)
    return {"loaded": have != n, "seconds": seconds}
