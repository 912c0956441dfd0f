"""The bulk retry path against injected faults, in front of the real Elasticsearch.

A fault-injecting loopback proxy (tests/faultproxy.py) rejects bulk items
with 429/503 the way Elasticsearch does, answers whole requests with
429/503, answers too late for the client's timeout after indexing, and
resets connections before and after forwarding. Through all of it, every
event is indexed or dead-lettered, none twice, and the SDK's counters add up.
"""

from __future__ import annotations

from faultproxy import PASS, Fault, FaultProxy
from mlmon.es.settings import ConnectionSettings
from mlmon.sdk import PredictionLogger

EVENTS = 1_000

PLAN = [
    PASS,
    Fault("items", status=429, every=3),
    Fault("whole", status=429),
    Fault("items", status=503, every=5),
    Fault("slow", delay=3.0),  # indexed, but the client (2 s timeout) never hears it
    Fault("reset"),
    Fault("reset", forward=True),  # indexed, then the connection drops
    Fault("whole", status=503),
    PASS,
]


def _ids(es, index: str, model: str) -> list[str]:
    es.indices.refresh(index=index, ignore_unavailable=True, allow_no_indices=True)
    hits = es.search(
        index=index,
        query={"term": {"model.name": model}},
        size=10_000,
        source=["prediction_id"],
        ignore_unavailable=True,
    )["hits"]["hits"]
    return [hit["_source"]["prediction_id"] if "_source" in hit else hit["_id"] for hit in hits]


def test_every_event_is_indexed_or_dead_lettered_once_through_injected_faults(es, model):
    settings = ConnectionSettings.from_env(request_timeout=2.0)
    with FaultProxy(settings.url, PLAN) as proxy:
        log = PredictionLogger(
            model,
            "v1",
            sink=proxy.url,
            settings=settings,
            batch_size=200,
            retry_for=120.0,
            block_when_full=True,
        )
        ids = []
        for n in range(EVENTS):
            pid = log.prediction({"plan": ["basic", "pro"][n % 2], "amount": float(n)}, "stay")
            ids.append(pid)
            log.actual(pid, label="churn" if n % 7 == 0 else "stay")
        log.close(timeout=600)  # wait for the retries: the point is what they deliver
        stats = log.stats()

    print("faults applied:", dict(proxy.seen))
    print("sdk counters:", stats)
    # Every fault kind in the plan was met at least once.
    for kind in ("items", "whole", "slow", "reset", "pass"):
        assert proxy.seen[kind] >= 1, kind
    assert proxy.seen["rejected_429"] > 0 and proxy.seen["rejected_503"] > 0

    predictions = _ids(es, f"mlmon-predictions-{model}-*", model)
    actuals = _ids(es, f"mlmon-actuals-{model}-*", model)
    dead = _ids(es, "mlmon-deadletter-*", model)
    print(
        f"indexed {len(predictions)} predictions, {len(actuals)} actuals; dead letters {len(dead)}"
    )

    # None twice: ids are unique within the index, and no event is both indexed and dead-lettered.
    assert len(predictions) == len(set(predictions))
    assert len(actuals) == len(set(actuals))
    assert not set(dead) & (set(predictions) | set(actuals))
    # Nothing lost: each prediction and each actual is indexed or dead-lettered.
    assert set(predictions) | set(dead) >= set(ids)
    assert set(actuals) | set(dead) >= set(ids)
    # The SDK counted every call, and a request that was indexed without the client
    # hearing it came back as duplicates, not as second documents.
    assert stats["emitted"] == 2 * EVENTS
    dropped = sum(v for k, v in stats.items() if k.startswith("dropped"))
    assert dropped == 0, stats
    assert stats["sent"] == 2 * EVENTS
    assert stats.get("duplicates", 0) > 0  # the slow and forwarded-reset requests


def test_a_close_that_a_slow_bulk_request_outlasts_leaves_final_counts_that_add_up(
    es, model, monkeypatch
):
    import mlmon.sdk._logger as logger_module

    monkeypatch.setattr(logger_module, "_CLOSE_GRACE", 1.0)
    settings = ConnectionSettings.from_env(request_timeout=30.0)
    with FaultProxy(settings.url, [Fault("slow", delay=5.0), PASS]) as proxy:
        log = PredictionLogger(model, "v1", sink=proxy.url, settings=settings, batch_size=100)
        for n in range(300):
            log.prediction({"plan": "basic", "amount": float(n)}, "stay")
        assert log.close(timeout=0.5) is False  # the first request is still out
        final = log.stats()
        log._worker.join(30)  # its answer comes; what the worker does next is not counted
        assert not log._worker.is_alive()
        assert log.stats() == final
    assert proxy.seen["slow"] == 1
    in_the_send = final["unconfirmed_at_close"]
    assert 0 < in_the_send <= 100 and final["queued"] == 0 and final["sent"] == 0
    assert final["emitted"] == 300 == final["dropped_at_close"] + in_the_send
    # "Unconfirmed": the slow request was in fact indexed, as close() could not know.
    assert len(_ids(es, f"mlmon-predictions-{model}-*", model)) == in_the_send
