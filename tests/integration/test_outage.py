"""Elasticsearch stops and comes back mid-stream: every event is delivered or counted.

The SDK keeps serving (no call blocks), counts what it drops while the
cluster is away, and delivers again once it is back; the actuals' join
finishes after the restart. This stops and restarts the suite's own node
(`mlmon stack down` / `up`), so it takes ~20 s and runs last among the
integration tests that share the node.
"""

from __future__ import annotations

import threading
import time

from conftest import run_mlmon
from mlmon import PredictionLogger
from mlmon.es.join import join_pending
from mlmon.schema.event import model_indices


def test_a_restart_mid_stream_loses_nothing_unaccounted(es, model):
    total, down_at, up_at = 600, 200, 400
    calls_ms: list[float] = []
    restarted = threading.Event()
    ids: list[str] = []
    after_restart: list[str] = []  # emitted once `stack up` had returned
    with PredictionLogger(model, "v1", sink="elasticsearch", retry_for=2.0) as log:
        for i in range(total):
            if i == down_at:
                assert run_mlmon("stack", "down").returncode == 0
            if i == up_at:
                up = run_mlmon("stack", "up", timeout=300)
                assert up.returncode == 0, up.stderr
                restarted.set()
            start = time.perf_counter()
            pid = log.prediction({"merchant": f"m{i % 7}"}, prediction="legit")
            if pid:
                log.actual(pid, label="legit" if i % 3 else "fraud")
                ids.append(pid)
                if restarted.is_set():
                    after_restart.append(pid)
            calls_ms.append((time.perf_counter() - start) * 1000)
            time.sleep(0.005)
        assert log.flush(60)
        stats = log.stats()
    print("outage stats", stats, "max call ms", round(max(calls_ms), 2))
    assert restarted.is_set()
    assert max(calls_ms) < 50, "a log call blocked while the cluster was down"
    emitted = stats["emitted"]
    assert emitted == 2 * total
    dropped = stats.get("dropped_send_failed", 0) + stats.get("dropped_queue_full", 0)
    assert dropped > 0, "the outage should have cost something, or the test did not stop the node"
    assert stats["sent"] + dropped == emitted, stats  # nothing unaccounted

    predictions, actuals = model_indices("predictions", model), model_indices("actuals", model)
    es.indices.refresh(index=f"{predictions},{actuals}")
    indexed = es.count(index=predictions)["count"]
    stored_actuals = es.count(index=actuals)["count"]
    assert indexed + stored_actuals == stats["sent"]
    # After the restart everything flowed again: each prediction logged once the node was
    # back is there. (Those logged just before the stop may have been in a batch the node
    # never answered: dropped after retry_for, and counted above.)
    assert len(after_restart) == total - up_at
    back = es.count(index=predictions, query={"ids": {"values": after_restart}})["count"]
    assert back == len(after_restart), f"{back} of {len(after_restart)} logged after the restart"
    assert indexed >= back

    join_pending(es, model=model)
    es.indices.refresh(index=predictions)
    joined = es.count(index=predictions, query={"exists": {"field": "actual.label"}})["count"]
    # every actual whose prediction got in is joined; actuals without one wait, counted
    pending = es.count(
        index=actuals, query={"bool": {"must_not": {"exists": {"field": "join.joined_at"}}}}
    )
    assert joined + pending["count"] == stored_actuals
