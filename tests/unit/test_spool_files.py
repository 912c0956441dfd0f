"""The disk spool alone (files in a temporary directory), then the logger with one."""

from __future__ import annotations

import pytest

from mlmon import PredictionLogger
from mlmon.errors import UsageError
from mlmon.sdk._spool import Spool
from mlmon.testing import CapturingSink


def events(start: int, stop: int) -> list[dict]:
    return [{"n": n, "pad": "x" * 50} for n in range(start, stop)]


def drain(spool: Spool, limit: int = 7) -> list[int]:
    seen = []
    while spool.pending:
        batch, token = spool.peek(limit)
        seen.extend(e["n"] for e in batch)
        spool.commit(token, len(batch))
    return seen


def test_events_come_back_in_order_across_segments_and_replayed_segments_go(tmp_path):
    spool = Spool(tmp_path, segment_bytes=500)
    for start in range(0, 100, 10):
        assert spool.append(events(start, start + 10)) == 10
    assert spool.pending == 100
    assert len(list(tmp_path.glob("seg-*.jsonl"))) == 11  # 10 full ones and the open one
    assert drain(spool) == list(range(100))
    assert len(list(tmp_path.glob("seg-*.jsonl"))) == 1  # only the one being written
    spool.close()


def test_a_reopened_spool_resumes_at_its_cursor(tmp_path):
    spool = Spool(tmp_path, segment_bytes=300)
    spool.append(events(0, 20))
    batch, token = spool.peek(5)
    spool.commit(token, len(batch))
    spool.close()
    again = Spool(tmp_path)
    assert again.pending == 15
    again.append(events(20, 25))
    assert drain(again) == list(range(5, 25))
    again.close()


def test_a_full_spool_refuses_whole_appends(tmp_path):
    spool = Spool(tmp_path, max_bytes=1000)
    assert spool.append(events(0, 10)) == 10
    assert spool.append(events(10, 20)) == 0
    assert spool.pending == 10 and spool.bytes <= 1000
    drain(spool)
    assert spool.append(events(20, 25)) == 5  # room again once replayed
    spool.close()


def test_a_torn_last_line_from_a_crash_is_skipped_and_counted(tmp_path):
    spool = Spool(tmp_path)
    spool.append(events(0, 3))
    name = next(tmp_path.glob("seg-*.jsonl"))
    spool.close()
    with name.open("ab") as f:
        f.write(b'{"n": 3, "pad": "xx')  # the process died mid-write
    again = Spool(tmp_path)
    assert drain(again) == [0, 1, 2]
    assert again.corrupt == 1
    again.close()


def test_one_process_at_a_time(tmp_path):
    spool = Spool(tmp_path)
    with pytest.raises(UsageError, match="in use"):
        Spool(tmp_path)
    spool.close()
    Spool(tmp_path).close()
    with pytest.raises(UsageError, match="spool_fsync"):
        Spool(tmp_path, fsync="sometimes")


def test_a_logger_spools_what_the_sink_refuses_and_replays_it_in_order(tmp_path):
    sink = CapturingSink()
    log = PredictionLogger("fraud", "v1", sink=sink, spool_dir=tmp_path, batch_size=10)
    sink.fail_next(3)
    for i in range(100):
        log.prediction(features={"amount": float(i)}, prediction_id=f"p{i:03d}")
    assert log.flush(30)
    assert log.close()
    stats = log.stats()
    assert [e["prediction_id"] for e in sink.events] == [f"p{i:03d}" for i in range(100)]
    assert stats["spooled"] > 0 and stats["replayed"] == stats["spooled"]
    assert stats["sent"] + stats["spooled"] == stats["emitted"] == 100
    assert stats["spool_pending"] == 0 and stats["dropped_send_failed"] == 0


def test_what_close_cannot_deliver_stays_in_the_spool_for_the_next_process(tmp_path):
    sink = CapturingSink()
    sink.fail_next(10**9)
    log = PredictionLogger("fraud", "v1", sink=sink, spool_dir=tmp_path, max_queue=20)
    for i in range(200):  # more than the queue holds: the rest spooled by the caller
        log.prediction(features={"amount": float(i)}, prediction_id=f"p{i:03d}")
    assert log.close(timeout=0.5) is False
    first = log.stats()
    assert first["spooled"] == 200 and first["dropped_at_close"] == 0
    assert first["queued"] == 0 and first["spool_pending"] == 200

    later = CapturingSink()
    with PredictionLogger("fraud", "v1", sink=later, spool_dir=tmp_path) as log:
        assert log.flush(30)
        stats = log.stats()
    assert sorted(e["prediction_id"] for e in later.events) == [f"p{i:03d}" for i in range(200)]
    assert stats["replayed"] == 200 and stats["emitted"] == 0
