"""2. Ingest: events per second through mlmon's path against plain bulk of the same events.

mlmon's path is what `mlmon ingest` and the SDK's elasticsearch sink do:
validate and normalise, tag against the profile, bulk with `create` and
per-item error handling. Plain bulk sends the same raw (untagged) events
with `elasticsearch.helpers.bulk`, same chunk size, same template. Both
write to fresh indices, deleted by name afterwards; runs alternate.
"""

from __future__ import annotations

import statistics
import time

from elasticsearch import helpers

from bench.synth import FEATURES, chunks, profile, raw_events

MODEL_MLMON, MODEL_PLAIN = "bench-ingest-mlmon", "bench-ingest-plain"


def _indices(client, model: str) -> list[str]:
    found = client.indices.get(index=f"mlmon-predictions-{model}-*", allow_no_indices=True)
    return list(found)


def _drop(client, model: str) -> None:
    names = _indices(client, model)
    if names:
        client.indices.delete(index=",".join(names))


def _rules():
    from mlmon._tagging import compile_rules

    return compile_rules(profile(MODEL_MLMON, 5000))


def _mlmon_path(client, raws: list[dict], rules) -> float:
    from mlmon._tagging import tag_event
    from mlmon.es.writer import write_events
    from mlmon.schema.document import normalize_event

    start = time.perf_counter()
    docs = (tag_event(normalize_event(raw), rules) for raw in raws)
    result = write_events(client, docs, source="bench")
    seconds = time.perf_counter() - start
    assert result.indexed == len(raws), result
    return seconds


def _plain_bulk(client, raws: list[dict]) -> float:
    from mlmon.schema.event import predictions_index

    start = time.perf_counter()
    actions = (
        {
            "_op_type": "create",
            "_index": predictions_index(MODEL_PLAIN, raw["@timestamp"]),
            "_id": raw["prediction_id"],
            "_source": raw,
        }
        for raw in raws
    )
    ok, errors = helpers.bulk(client, actions, chunk_size=1000, raise_on_error=False)
    seconds = time.perf_counter() - start
    assert ok == len(raws), errors[:1]
    return seconds


def run(client, n: int = 100_000, repeats: int = 3) -> dict:
    from mlmon._tagging import tag_event
    from mlmon.schema.document import normalize_event

    raws = list(raw_events(next(chunks(n, size=n, seed=3)).frame, MODEL_MLMON))
    plain_raws = [{**r, "model": {**r["model"], "name": MODEL_PLAIN}} for r in raws]
    rules = _rules()
    mlmon_s, plain_s = [], []
    for _ in range(repeats):
        for model in (MODEL_MLMON, MODEL_PLAIN):
            _drop(client, model)
        mlmon_s.append(_mlmon_path(client, raws, rules))
        plain_s.append(_plain_bulk(client, plain_raws))
    for model in (MODEL_MLMON, MODEL_PLAIN):
        _drop(client, model)

    docs = [normalize_event(r) for r in raws[:20_000]]
    start = time.process_time()
    for doc in docs:
        tag_event(doc, rules)
    tag_us = (time.process_time() - start) / len(docs) * 1e6
    mlmon_med, plain_med = statistics.median(mlmon_s), statistics.median(plain_s)
    return {
        "events": n,
        "features": len(FEATURES),
        "repeats": repeats,
        "mlmon_events_per_s": n / mlmon_med,
        "plain_bulk_events_per_s": n / plain_med,
        "ratio_mlmon_time_vs_plain": mlmon_med / plain_med,
        "tagging_us_per_event": tag_us,
        "tagging_us_per_feature": tag_us / len(FEATURES),
        "targets": {
            "mlmon_at_most_1_3x_plain": mlmon_med / plain_med <= 1.3,
            "tagging_at_most_1us_per_feature": tag_us / len(FEATURES) <= 1.0,
        },
    }
