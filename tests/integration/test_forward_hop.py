"""The forward hop for real: SDK ``fluentd://`` sink → OpenTelemetry Collector → Elasticsearch.

The collector is the one `make test` builds (``mlmon.stack.collector``) with
``pipelines/otelcol/config.yaml``, run on free loopback ports against the
suite's node. Its documents must equal, field by field, the same events
written by the SDK's ``elasticsearch`` sink under another model name: same
index names (the config's OTTL copy of mlmon's naming rule, across a month
boundary), same ``_id``, same source once the model names are swapped.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pandas as pd
import pytest
from elasticsearch import ApiError

from conftest import forget_model, unique_model
from mlmon import PredictionLogger
from mlmon.baseline import build_profile
from mlmon.es.join import join_pending
from mlmon.es.settings import ConnectionSettings
from mlmon.schema.event import actuals_index, deadletter_index, model_indices, predictions_index
from mlmon.stack.collector import Agent, binary_path, start

#: 30 minutes before a month ends, one event a second: the stream crosses into February.
START = datetime(2026, 1, 31, 23, 30, tzinfo=timezone.utc)
N = 3000
MERCHANTS = ["café-東京", "zürich-ß", "shop-🚀", "plain", "Ωmega"]


def free_port() -> int:
    """A loopback port free for TCP and UDP (the receiver answers heartbeats on UDP)."""
    while True:
        with socket.socket() as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


@pytest.fixture(scope="module")
def collector_binary() -> Path:
    path = binary_path()
    if not path.is_file():
        pytest.fail(
            f"the OpenTelemetry Collector is not built ({path} is missing): run `make otelcol` "
            "(`make test` does it first)"
        )
    return path


class Collector:
    """Starts and stops the collector on the same ports, as an agent restart would."""

    def __init__(self, binary: Path, log_file: Path) -> None:
        self.binary, self.log_file = binary, log_file
        self.forward_port, self.metrics_port = free_port(), free_port()
        self.agent: Agent | None = None

    @property
    def sink(self) -> str:
        return f"fluentd://127.0.0.1:{self.forward_port}"

    def start(self) -> None:
        self.agent = start(
            self.binary,
            es_url=ConnectionSettings.from_env().url,
            forward_port=self.forward_port,
            metrics_port=self.metrics_port,
            log_file=self.log_file,
        )

    def stop(self) -> None:
        if self.agent is not None:
            self.agent.stop()
            self.agent = None

    def rss_mb(self) -> float:
        assert self.agent is not None
        status = Path(f"/proc/{self.agent.process.pid}/status").read_text()
        kb = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(kb) / 1024


@pytest.fixture
def collector(es, collector_binary, tmp_path) -> Iterator[Collector]:
    running = Collector(collector_binary, tmp_path / "otelcol.log")
    running.start()
    yield running
    running.stop()


@pytest.fixture
def two_models(es) -> Iterator[tuple[str, str]]:
    """One model name per path (forward hop, direct), deleted after."""
    names = unique_model("fwd"), unique_model("dir")
    yield names
    for name in names:
        forget_model(es, name)


def profile_for(model: str):
    frame = pd.DataFrame(
        {
            "merchant": [MERCHANTS[i % 4] for i in range(400)],  # the fifth one is unseen
            "amount": [1.0 + i % 100 for i in range(400)],
            "age": [18 + i % 60 for i in range(400)],
        }
    )
    return build_profile(
        frame, model=model, version="v1", name="training", created_at="2026-01-01T00:00:00.000Z"
    )


def emit(log: PredictionLogger, count: int) -> None:
    """Predictions with every quality problem, nested latency, tags and unicode; some actuals."""
    for i in range(count):
        features: dict = {"merchant": MERCHANTS[i % 5], "amount": 1.5 + i % 120, "age": 20 + i % 9}
        if i % 7 == 0:
            features["age"] = None  # missing
        if i % 11 == 0:
            del features["merchant"]  # absent
        log.prediction(
            features,
            prediction="fraud" if i % 3 == 0 else "légit",
            score=round((i % 100) / 100, 2),
            latency_ms={"total": 3.25 + i % 5, "inference": 1.5, "features": {"amount": 0.25}},
            tags={"region": ["eu", "us", "日本"][i % 3], "shard": i % 4, "canary": i % 2 == 0},
            prediction_id=f"p{i:05d}",
            timestamp=START + timedelta(seconds=i),
        )
        if i % 5 == 0:
            log.actual(f"p{i:05d}", label="fraud" if i % 2 else "légit", timestamp=START)


def send(model: str, sink: str, count: int = N) -> dict[str, int]:
    profile = profile_for(model)
    with PredictionLogger(model, "v1", sink=sink, profile=profile) as log:
        emit(log, count)
        assert log.flush(120)
        return log.stats()


def stored(es, kind: str, model: str) -> dict[str, tuple[str, dict]]:
    """``_id`` → (index, source) of every document of a model's indices of one kind."""
    pattern = model_indices(kind, model)
    es.indices.refresh(index=pattern)
    found: dict[str, tuple[str, dict]] = {}
    for hit in es.search(index=pattern, size=10_000, query={"match_all": {}})["hits"]["hits"]:
        found[hit["_id"]] = (hit["_index"], hit["_source"])
    return found


def wait_for_count(es, kind: str, model: str, expected: int, timeout: float = 60.0) -> int:
    pattern = model_indices(kind, model)
    deadline = time.monotonic() + timeout
    count = -1
    while time.monotonic() < deadline:
        try:
            es.indices.refresh(index=pattern, allow_no_indices=True, ignore_unavailable=True)
            count = es.count(index=pattern, allow_no_indices=True, ignore_unavailable=True)
            count = count["count"]
        except ApiError as error:  # an index the collector just created has no started shard yet
            if error.meta.status != 503:
                raise
        if count >= expected:
            return count
        time.sleep(0.5)
    return count


def renamed(value: object, old: str, new: str) -> object:
    return orjson.loads(orjson.dumps(value).replace(old.encode(), new.encode()))


def without_join_time(source: dict) -> dict:
    return {**source, "join": {**source["join"], "joined_at": "-"}} if "join" in source else source


def test_the_forward_hop_writes_what_the_elasticsearch_sink_writes(es, collector, two_models):
    forwarded, direct = two_models
    actuals = len(range(0, N, 5))

    sent = send(forwarded, collector.sink)
    assert sent["sent"] == sent["emitted"] == N + actuals, sent
    assert wait_for_count(es, "predictions", forwarded, N) == N
    assert wait_for_count(es, "actuals", forwarded, actuals) == actuals
    rss = collector.rss_mb()
    join_pending(es, model=forwarded)  # what `mlmon join` does in a deployment

    written = send(direct, "elasticsearch")
    assert written["sent"] == N + actuals and written.get("indexed") == N + actuals, written
    assert join_pending(es, model=direct).pending == 0

    for kind, count in (("predictions", N), ("actuals", actuals)):
        via_hop, via_sink = stored(es, kind, forwarded), stored(es, kind, direct)
        assert len(via_hop) == len(via_sink) == count, kind
        assert via_hop.keys() == via_sink.keys(), kind
        for doc_id, (index, source) in via_hop.items():
            other_index, other_source = via_sink[doc_id]
            assert renamed(index, forwarded, direct) == other_index, doc_id
            mine = without_join_time(renamed(source, forwarded, direct))
            assert mine == without_join_time(other_source), doc_id

    # Both use mlmon's rule (mlmon.schema.event), across the month boundary.
    hop_predictions = stored(es, "predictions", forwarded)
    months = {index for index, _ in hop_predictions.values()}
    assert months == {
        predictions_index(forwarded, "2026-01-31T23:59:59.999Z"),
        predictions_index(forwarded, "2026-02-01T00:00:00.000Z"),
    }
    for index, source in hop_predictions.values():
        assert index == predictions_index(forwarded, source["@timestamp"])
    for index, source in stored(es, "actuals", forwarded).values():
        assert index == actuals_index(forwarded, source["@timestamp"])
    tagged = [s for _, s in hop_predictions.values() if s["quality"].get("unseen")]
    assert tagged and all(s["quality"]["unseen"] == ["merchant"] for s in tagged)
    assert {s["features"].get("merchant") for _, s in hop_predictions.values()} >= set(MERCHANTS)

    # Resending the same events adds nothing: the exporter uses bulk `create` with the same ids.
    again = send(forwarded, collector.sink)
    assert again["sent"] == N + actuals, again
    time.sleep(3)  # longer than the exporter's flush interval and the batch timeout
    assert wait_for_count(es, "predictions", forwarded, N) == N
    assert wait_for_count(es, "actuals", forwarded, actuals) == actuals
    print(
        f"forward hop: {N} predictions + {actuals} actuals sent twice, "
        f"{len(hop_predictions)} + {actuals} documents, identical to the elasticsearch sink's; "
        f"collector RSS {rss:.0f} MB"
    )


def test_a_record_the_rule_cannot_route_goes_to_the_deadletter(es, collector):
    from fluent.sender import FluentSender

    marker = unique_model("unrouted")
    record = {"event": "not a map", "prediction_id": marker}
    sender = FluentSender("mlmon", host="127.0.0.1", port=collector.forward_port)
    try:
        assert sender.emit("prediction.x", record)
    finally:
        sender.close()
    deadline = time.monotonic() + 30
    hits: list = []
    while time.monotonic() < deadline and not hits:
        time.sleep(0.5)
        es.indices.refresh(index="mlmon-deadletter-*", allow_no_indices=True)
        hits = es.search(
            index="mlmon-deadletter-*",
            query={"term": {"prediction_id": marker}},
            allow_no_indices=True,
        )["hits"]["hits"]
    assert len(hits) == 1
    hit = hits[0]
    try:
        source = hit["_source"]
        assert (source["source"], source["error_type"]) == ("otelcol", "unrouted_record")
        assert orjson.loads(source["raw"]) == record
        assert hit["_index"] == deadletter_index(source["@timestamp"])
    finally:
        es.delete(index=hit["_index"], id=hit["_id"], refresh=True)


def test_with_the_collector_down_calls_return_at_once_drops_are_counted_and_a_restart_heals(
    es, collector, two_models
):
    model = two_models[0]
    before, during, after = 500, 500, 500
    calls_ms: list[float] = []
    with PredictionLogger(model, "v1", sink=collector.sink, profile=None, retry_for=0.5) as log:
        for i in range(before):
            log.prediction({"amount": float(i)}, prediction_id=f"before-{i}")
        assert log.flush(60)
        assert wait_for_count(es, "predictions", model, before) == before
        collector.stop()
        for i in range(during):
            started = time.perf_counter()
            log.prediction({"amount": float(i)}, prediction_id=f"during-{i}")
            calls_ms.append((time.perf_counter() - started) * 1000)
        assert log.flush(60)
        down = log.stats()
        collector.start()
        for i in range(after):
            log.prediction({"amount": float(i)}, prediction_id=f"after-{i}")
        assert log.flush(60)
        stats = log.stats()
    dropped = stats.get("dropped_send_failed", 0) + stats.get("dropped_queue_full", 0)
    indexed = wait_for_count(es, "predictions", model, before + after)
    print(
        f"collector outage: emitted {stats['emitted']}, sent {stats['sent']}, dropped {dropped} "
        f"(while down: {down}); indexed {indexed}; slowest call {max(calls_ms):.2f} ms"
    )
    assert max(calls_ms) < 50, "a log call blocked while the collector was down"
    assert stats["emitted"] == before + during + after
    assert stats["sent"] + dropped == stats["emitted"], stats  # nothing unaccounted
    assert dropped >= during - 2, "the outage should have cost the events sent meanwhile"
    ids = set(stored(es, "predictions", model))
    assert {f"before-{i}" for i in range(before)} <= ids
    assert {f"after-{i}" for i in range(after)} <= ids  # after the restart everything flows
    # What the SDK counted as sent while the agent was gone (a write into a socket whose
    # peer had just closed) is the forward protocol's at-most-once, not silent loss in mlmon.
    assert len(ids) <= stats["sent"]
