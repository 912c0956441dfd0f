"""The SDK: processors alone, then PredictionLogger's promises to the service it runs in."""

from __future__ import annotations

import io
import socket
import statistics
import threading
import time
from datetime import datetime, timezone

import numpy as np
import orjson
import pandas as pd
import pytest

from mlmon import PredictionLogger
from mlmon.baseline import build_profile
from mlmon.errors import InvalidEventError, UsageError
from mlmon.es.settings import ConnectionSettings
from mlmon.sdk import EventKind, ModelStamper, PredictionId, TimeStamper, Validate
from mlmon.sdk.sinks import epoch_seconds, sink_from_url
from mlmon.testing import CapturingSink

FIXED = datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=timezone.utc)


def logger(sink, **kw) -> PredictionLogger:
    kw.setdefault("profile", PROFILE)
    return PredictionLogger(model="fraud", version="v1", sink=sink, clock=lambda: FIXED, **kw)


PROFILE = build_profile(
    pd.DataFrame({"merchant": ["a", "b"] * 5, "amount": [1.0, 9.0] * 5}),
    model="fraud",
    version="v1",
    name="training",
    created_at="2026-01-01T00:00:00.000Z",
)


# --- processors, each alone -----------------------------------------------------


def test_event_kind_moves_structlogs_message_out_of_event():
    assert EventKind()(None, "info", {"event": "prediction"}) == {
        "event": {"kind": "prediction", "schema_version": 1}
    }


def test_model_stamper_and_timestamper_and_id():
    stamped = ModelStamper("fraud", "v2", environment="prod")(None, "info", {})
    assert stamped["model"] == {"name": "fraud", "version": "v2", "environment": "prod"}
    with pytest.raises(InvalidEventError):
        ModelStamper("Fraud!", "v1")
    assert TimeStamper(lambda: FIXED)(None, "info", {})["@timestamp"] == "2026-11-22T10:00:00.123Z"
    kept = TimeStamper(lambda: FIXED)(None, "info", {"@timestamp": "given"})
    assert kept["@timestamp"] == "given"
    assert len(PredictionId()(None, "info", {})["prediction_id"]) == 32
    assert PredictionId()(None, "info", {"prediction_id": "mine"})["prediction_id"] == "mine"


def test_validate_is_the_schemas_validation():
    with pytest.raises(ValueError, match=r"features\.x"):
        Validate()(
            None,
            "info",
            {
                "@timestamp": "2026-01-01T00:00:00Z",
                "prediction_id": "p",
                "model": {"name": "m", "version": "v"},
                "features": {"x": [1]},
            },
        )


# --- the logger ---------------------------------------------------------------


def test_events_are_normalised_tagged_and_ids_returned():
    sink = CapturingSink()
    with logger(sink) as log:
        pid = log.prediction(
            features={
                "merchant": "zz",
                "amount": np.float32(2.5),
                "age": pd.NA,
                "flag": np.bool_(True),
                "x": np.nan,
            },
            prediction=np.int64(1),
            score=np.float64(0.75),
            latency_ms={"total": 3},
            tags={"region": "eu"},
        )
        assert log.actual(pid, label=0) == pid
    prediction, actual = sink.events
    assert prediction == {
        "@timestamp": "2026-11-22T10:00:00.123Z",
        "event": {"kind": "prediction", "schema_version": 1},
        "model": {"name": "fraud", "version": "v1"},
        "prediction_id": pid,
        "features": {"merchant": "zz", "amount": 2.5, "age": None, "flag": "true", "x": None},
        "tags": {"region": "eu"},
        "prediction": {"label": "1", "score": 0.75},
        "latency_ms": {"total": 3.0},
        "quality": {
            "missing": [],
            "unseen": ["merchant"],
            "out_of_range": [],
            "invalid": [],
            "unexpected": ["age", "flag", "x"],
            "missing_count": 0,
            "unseen_count": 1,
            "out_of_range_count": 0,
            "invalid_count": 0,
            "unexpected_count": 3,
            "profile": "fraud:v1:training:r1",
        },
    }
    assert actual["event"]["kind"] == "actual" and actual["actual"] == {"label": "0"}
    assert "quality" not in actual
    assert sink.closed


@pytest.mark.parametrize(
    ("features", "fragment"),
    [
        ({"bad name": 1}, "feature name"),
        ({"x": [1, 2]}, "features.x has type list"),
        ({"x": "y" * 5000}, "features.x is a string of 5000"),
        ({"x": float("inf")}, "features.x is infinite"),
    ],
)
def test_invalid_input_raises_naming_the_field_or_is_counted(features, fragment):
    sink = CapturingSink()
    with logger(sink) as log, pytest.raises(ValueError, match=fragment):
        log.prediction(features=features)
    lenient = CapturingSink()
    with logger(lenient, strict=False) as log:
        assert log.prediction(features=features) is None
        assert log.prediction(features={"amount": 1.0}) is not None
        log.flush()
        stats = log.stats()
    assert (stats["invalid"], stats["emitted"], len(lenient.events)) == (1, 1, 1)


def test_a_stalled_sink_never_blocks_the_caller_and_overflow_is_counted():
    sink = CapturingSink()
    sink.block()
    log = logger(sink, max_queue=100, batch_size=10)
    durations = []
    for i in range(1000):
        start = time.perf_counter()
        log.prediction(features={"amount": float(i)})
        durations.append(time.perf_counter() - start)
    stats = log.stats()
    assert statistics.median(durations) < 0.001
    assert stats["dropped_queue_full"] >= 1000 - 100 - 10
    assert stats["emitted"] == 1000
    sink.release()
    assert log.flush(timeout=10)
    log.close()
    final = log.stats()
    assert final["sent"] + final["dropped_queue_full"] == 1000 and final["queued"] == 0
    assert len(sink.events) == final["sent"]


def test_failed_sends_are_retried_then_counted_and_later_events_flow():
    sink = CapturingSink()
    with logger(sink, retry_for=0.3) as log:
        sink.fail_next(1)
        log.prediction(features={"amount": 1.0})
        assert log.flush()
        assert (log.stats()["sent"], log.stats()["dropped_send_failed"]) == (1, 0)  # retried
        sink.fail_next(10_000)
        log.prediction(features={"amount": 2.0})
        assert log.flush()
        assert log.stats()["dropped_send_failed"] == 1
        assert "told to fail" in log.last_error
        sink.fail_next(0)
        log.prediction(features={"amount": 3.0})
        assert log.flush()
        stats = log.stats()
    assert stats["sent"] == 2 and [e["features"]["amount"] for e in sink.events] == [1.0, 3.0]
    assert stats["emitted"] == stats["sent"] + stats["dropped_send_failed"]


def test_without_a_profile_events_go_untagged_and_are_counted():
    sink = CapturingSink()
    nowhere = ConnectionSettings(url=f"http://127.0.0.1:{closed_port()}")
    with logger(sink, profile=None, settings=nowhere, refresh_seconds=3600) as log:
        log.prediction(features={"amount": 1.0})
        log.flush()
        assert log.stats()["untagged"] == 1
        assert log.stats()["profile_load_errors"] == 1
    assert "quality" not in sink.events[0]


def test_events_after_close_are_counted_not_sent():
    sink = CapturingSink()
    log = logger(sink)
    log.close()
    log.close()  # idempotent
    assert log.prediction(features={"amount": 1.0}) is None
    assert log.stats()["dropped_after_close"] == 1 and not sink.events


# --- sinks ----------------------------------------------------------------------


def test_stdout_sink_writes_one_json_line_per_event():
    stream = io.StringIO()
    captured = CapturingSink()
    for sink in (captured, "stdout"):
        with logger(sink, stream=stream) as log:
            pid = log.prediction(features={"amount": 1.0}, prediction="a", prediction_id="p1")
            log.actual(pid, label="b")
    lines = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    assert lines == captured.events


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_fluentd_sink_with_the_peer_down_returns_fast_and_counts_drops():
    with logger(f"fluentd://127.0.0.1:{closed_port()}", retry_for=0.2) as log:
        durations = []
        for i in range(1000):
            start = time.perf_counter()
            log.prediction(features={"amount": float(i)})
            durations.append(time.perf_counter() - start)
        log.flush(timeout=30)
        stats = log.stats()
    assert statistics.median(durations) < 0.001
    assert stats["sent"] == 0
    assert stats["dropped_send_failed"] + stats["dropped_queue_full"] == 1000
    assert "Connection refused" in (log.last_error or "")


def test_sink_urls():
    assert type(sink_from_url("stdout")).__name__ == "StdoutSink"
    assert type(sink_from_url("elasticsearch")).__name__ == "ElasticsearchSink"
    assert type(sink_from_url("https://es.example:9200")).__name__ == "ElasticsearchSink"
    with pytest.raises(UsageError, match="unknown sink"):
        sink_from_url("kafka://x")
    assert epoch_seconds("1970-01-01T00:00:01.500Z") == 1.5


def test_elasticsearch_sink_with_the_cluster_down_counts_drops_without_raising():
    nowhere = ConnectionSettings(url=f"http://127.0.0.1:{closed_port()}", request_timeout=1)
    with logger("elasticsearch", settings=nowhere, retry_for=0.2) as log:
        start = time.perf_counter()
        for i in range(100):
            log.prediction(features={"amount": float(i)})
        assert time.perf_counter() - start < 0.5
        log.flush(timeout=30)
        stats = log.stats()
    assert (stats["sent"], stats["dropped_send_failed"]) == (0, 100)
    assert "unreachable" in log.last_error


def test_redact_drops_and_hashes_before_anything_leaves_the_process(monkeypatch):
    from mlmon.sdk import Redact

    sink = CapturingSink()
    redact = Redact(drop=["features.customer_id"], hash=["features.email", "tags.user"], key="k1")
    with logger(sink, processors=[redact]) as log:
        log.prediction(
            features={"merchant": "a", "customer_id": "C-991", "email": "ann@example.com"},
            prediction="legit",
            tags={"user": "ann"},
        )
        log.prediction(features={"merchant": "a", "email": "ann@example.com"}, prediction="x")
    first, second = sink.events
    raw = orjson.dumps(sink.events)
    assert b"C-991" not in raw and b"ann@example.com" not in raw and b'"ann"' not in raw
    assert "customer_id" not in first["features"]
    assert first["features"]["email"] == second["features"]["email"]  # still joins and slices
    assert len(first["features"]["email"]) == 32
    other_key = CapturingSink()
    with logger(other_key, processors=[Redact(hash=["features.email"], key="k2")]) as log:
        log.prediction(features={"merchant": "a", "email": "ann@example.com"}, prediction="x")
    assert other_key.events[0]["features"]["email"] != first["features"]["email"]
    monkeypatch.delenv("MLMON_HASH_KEY", raising=False)
    with pytest.raises(ValueError, match="needs key= or MLMON_HASH_KEY"):
        Redact(hash=["features.email"])
    monkeypatch.setenv("MLMON_HASH_KEY", "from-env")
    assert Redact(hash=["features.email"])._key == b"from-env"


def test_a_services_structlog_processors_run_in_the_chain_and_may_drop_events():
    import structlog

    def drop_zero(_logger, method, event):
        assert method == "info" and event["event"]["kind"] == "prediction"
        if event["features"]["amount"] == 0.0:
            raise structlog.DropEvent
        return event

    sink = CapturingSink()
    with logger(sink, processors=[drop_zero]) as log:
        assert log.prediction(features={"amount": 0.0}) is not None
        log.prediction(features={"amount": 1.0})
        log.flush()
        stats = log.stats()
    assert [e["features"]["amount"] for e in sink.events] == [1.0]
    assert (stats["emitted"], stats["sent"], stats["dropped_by_processor"]) == (2, 1, 1)


def test_two_stdout_sinks_writing_to_one_pipe_never_interleave_lines():
    """A v1 and a v2 canary logger in one process share stdout (a pipe under a node agent):
    without one lock for both, their batches interleaved mid-line."""
    import subprocess
    import sys

    import orjson

    program = """
import threading
from mlmon.sdk.sinks import StdoutSink
batch = [{"prediction_id": f"p{i}", "features": {"x": "y" * 400}} for i in range(500)]
def send(version):
    sink = StdoutSink()
    for _ in range(20):
        sink.send([{**event, "version": version} for event in batch])
writers = [threading.Thread(target=send, args=(v,)) for v in ("v1", "v2")]
for w in writers:
    w.start()
for w in writers:
    w.join()
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, check=True)
    lines = done.stdout.splitlines()
    assert len(lines) == 2 * 20 * 500
    assert all(orjson.loads(line)["features"]["x"] == "y" * 400 for line in lines)


# --- drops are visible, close is final -------------------------------------------


def test_drops_start_one_rate_limited_warning_naming_the_setting(caplog):
    sink = CapturingSink()
    sink.block()
    log = logger(sink, max_queue=10, batch_size=5)
    with caplog.at_level("WARNING", logger="mlmon.sdk"):
        for i in range(200):
            log.prediction(features={"amount": float(i)})
        sink.release()
        log.close()
    records = [r for r in caplog.records if r.name == "mlmon.sdk"]
    warnings = [r.getMessage() for r in records]
    # When drops start, one line; the rest of that minute's drops, once more at close.
    assert len(warnings) == 2, warnings
    # The first written by a thread of its own, never in the caller's call.
    assert records[0].threadName == "mlmon-warning" != threading.current_thread().name
    dropped = log.stats()["dropped_queue_full"]
    assert dropped > 100
    # It counts the drops made by the time it ran.
    first = int(warnings[0].split()[1].replace(",", ""))
    assert 1 <= first < dropped and "max_queue=10" in warnings[0]
    assert "dropped_queue_full" in warnings[0] and "next warning in 60s" in warnings[0]
    assert "spool_dir=" in warnings[0] and "block_when_full=True" in warnings[0]
    assert warnings[1].startswith(f"mlmon: {dropped - first:,} events")
    assert "at close" in warnings[1]


def test_a_later_burst_of_drops_warns_again_after_the_interval():
    from mlmon.sdk._stats import Counters, DropWarning

    now = [0.0]
    counters = Counters()
    said: list[str] = []
    warning = DropWarning(counters, model="m", settings={"max_queue": 5}, clock=lambda: now[0])
    warning.check()  # nothing dropped: nothing said
    counters.add(dropped_queue_full=3)
    import mlmon.sdk._stats as stats_module

    original = stats_module.warn
    stats_module.warn = said.append
    try:
        warning.check()
        counters.add(dropped_queue_full=4)
        now[0] = 30.0
        warning.check()  # within the minute: quiet
        now[0] = 61.0
        warning.check()
        warning.check()  # nothing new
    finally:
        stats_module.warn = original
    assert len(said) == 2
    assert said[0].startswith("mlmon: 3 events") and said[1].startswith("mlmon: 4 events")


def test_close_with_a_timeout_is_final_and_counts_what_it_could_not_deliver():
    sink = CapturingSink()
    log = logger(sink, retry_for=600, batch_size=10)
    sink.fail_next(10**9)  # the sink is down for good: the worker would retry for 10 minutes
    for i in range(100):
        log.prediction(features={"amount": float(i)})
    start = time.perf_counter()
    assert log.close(timeout=0.5) is False
    assert time.perf_counter() - start < 3
    stats = log.stats()
    assert stats["queued"] == 0
    assert stats["dropped_at_close"] == 100 and stats["sent"] == 0
    assert sink.closed  # and only after the worker stopped
    assert not log._worker.is_alive()


@pytest.mark.parametrize("overlap", [False, True], ids=["one thread", "with a sender"])
def test_close_outlasted_by_a_stuck_send_still_leaves_final_counts_that_add_up(
    monkeypatch, overlap
):
    import mlmon.sdk._logger as logger_module

    monkeypatch.setattr(logger_module, "_CLOSE_GRACE", 0.5)
    sink = CapturingSink()
    sink.overlap_sends = overlap
    log = logger(sink, batch_size=10)
    sink.block()  # the first send hangs (a node that stopped answering mid-request)
    for i in range(100):
        log.prediction(features={"amount": float(i)})
    assert log.close(timeout=0.2) is False
    final = log.stats()
    assert final["queued"] == 0 and final["sent"] == 0
    assert final["unconfirmed_at_close"] == 10  # the batch in the stuck send
    assert final["emitted"] == 100 == final["dropped_at_close"] + final["unconfirmed_at_close"]
    sink.release()  # the send returns after close gave up: the counts stay as they were
    log._worker.join(5)
    assert not log._worker.is_alive() and len(sink.events) == 10
    assert log.stats() == final


def test_a_sender_keeps_one_send_in_flight_and_delivers_in_order_exactly_once():
    sink = CapturingSink()
    sink.overlap_sends = True
    log = logger(sink, batch_size=50, block_when_full=True, max_queue=100)
    for i in range(2000):
        log.prediction(features={"amount": float(i)})
    assert log.close() is True
    assert [e["features"]["amount"] for e in sink.events] == [float(i) for i in range(2000)]
    stats = log.stats()
    assert stats["emitted"] == stats["sent"] == stats["tagged"] == 2000 and stats["queued"] == 0


def test_a_sender_retries_a_failed_send_before_the_next_batch_goes():
    sink = CapturingSink()
    sink.overlap_sends = True
    sink.fail_next(3)
    log = logger(sink, batch_size=20, block_when_full=True, max_queue=40, retry_for=30)
    for i in range(500):
        log.prediction(features={"amount": float(i)})
    assert log.close() is True
    assert [e["features"]["amount"] for e in sink.events] == [float(i) for i in range(500)]
    stats = log.stats()
    assert (stats["sent"], stats["send_errors"], stats["dropped_send_failed"]) == (500, 3, 0)


def test_close_in_time_says_so():
    sink = CapturingSink()
    log = logger(sink)
    log.prediction(features={"amount": 1.0})
    assert log.close() is True
    assert log.stats()["sent"] == 1 and log.stats()["dropped_at_close"] == 0


def test_fluentd_sink_sends_forward_mode_messages_one_per_tag_with_event_times():
    import msgpack

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    received = bytearray()

    def receive() -> None:
        conn, _ = server.accept()
        while chunk := conn.recv(1 << 16):
            received.extend(chunk)

    import threading

    reader = threading.Thread(target=receive)
    reader.start()
    port = server.getsockname()[1]
    with logger(f"fluentd://127.0.0.1:{port}") as log:
        for i in range(50):
            pid = log.prediction(features={"amount": float(i)}, prediction="a")
            log.actual(pid, label="b")
    reader.join(10)
    server.close()
    messages = list(msgpack.Unpacker(io.BytesIO(bytes(received)), raw=False))
    entries = {}
    for tag, batch in messages:  # Forward mode: [tag, [[time, record], ...]]
        for moment, record in batch:
            assert moment.code == 0  # EventTime: seconds and nanoseconds, big-endian
            seconds, nanos = int.from_bytes(moment.data[:4]), int.from_bytes(moment.data[4:])
            assert seconds + nanos / 1e9 == epoch_seconds("2026-11-22T10:00:00.123Z")
            entries.setdefault(tag, []).append(record)
    assert set(entries) == {"mlmon.prediction.fraud", "mlmon.actual.fraud"}
    assert [r["features"]["amount"] for r in entries["mlmon.prediction.fraud"]] == [
        float(i) for i in range(50)
    ]
    assert len(entries["mlmon.actual.fraud"]) == 50
    assert len(messages) < 100  # batched: not one message per event
