"""1. The hot path: what `PredictionLogger.prediction` costs a model service.

Process CPU time (all threads: the caller's and mlmon's background worker
that tags, serialises and sends) per event over N events to a real TCP
peer, against (a) building the same event dict with a UTC timestamp and an
id and serialising it with orjson, and (b) the standard library's logging
with a JSON formatter. Then the same logger with the peer down: the call's
latency and the process memory while everything is dropped and counted.

The peer is a separate process that accepts the forward-protocol connection
and discards the bytes: it stands in for Fluentd's CPU, which is not ours
to count. (It proves nothing about Fluentd; the compose Fluentd does that.)
"""

from __future__ import annotations

import io
import json
import logging
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import orjson

from bench.synth import FEATURES, chunks, profile

_DISCARD = """
import socket, sys, threading
server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 0)); server.listen(16)
print(server.getsockname()[1], flush=True)
def drain(conn):
    while conn.recv(1 << 20):
        pass
while True:
    conn, _ = server.accept()
    threading.Thread(target=drain, args=(conn,), daemon=True).start()
"""


def _events(n: int) -> list[dict]:
    frame = next(chunks(n, size=n)).frame
    rows = frame[FEATURES].astype(object).where(frame[FEATURES].notna(), None)
    return [
        {"features": f, "prediction": p, "score": s}
        for f, p, s in zip(rows.to_dict("records"), frame["predicted"], frame["score"], strict=True)
    ]


def _profile():
    return profile("bench-hot", 5000)


def _mlmon(events: list[dict], port: int, profile) -> dict:
    from mlmon.sdk import PredictionLogger

    logger = PredictionLogger(
        "bench-hot",
        "v1",
        sink=f"fluentd://127.0.0.1:{port}",
        profile=profile,
        max_queue=len(events) + 1,
    )
    calls = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for e in events:
        t = time.perf_counter_ns()
        logger.prediction(e["features"], e["prediction"], e["score"])
        calls.append(time.perf_counter_ns() - t)
    delivered = logger.flush(120)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    stats = logger.stats()
    logger.close()
    calls.sort()
    return {
        "cpu_us_per_event": cpu / len(events) * 1e6,
        "wall_s": wall,
        "call_p50_us": calls[len(calls) // 2] / 1000,
        "call_p99_us": calls[int(len(calls) * 0.99)] / 1000,
        "delivered_all": delivered and stats.get("sent", 0) == len(events),
        "stats": {k: v for k, v in stats.items() if v},
    }


def _orjson_only(events: list[dict]) -> dict:
    sink = io.BytesIO()
    cpu0 = time.process_time()
    for e in events:
        doc = {
            "@timestamp": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "event": {"kind": "prediction", "schema_version": 1},
            "model": {"name": "bench-hot", "version": "v1"},
            "prediction_id": uuid.uuid4().hex,
            "features": e["features"],
            "prediction": {"label": e["prediction"], "score": e["score"]},
        }
        sink.write(orjson.dumps(doc))
    return {"cpu_us_per_event": (time.process_time() - cpu0) / len(events) * 1e6}


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "@timestamp": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
                "message": record.getMessage(),
                "prediction_id": uuid.uuid4().hex,
                "features": record.features,  # type: ignore[attr-defined]
                "prediction": record.prediction,  # type: ignore[attr-defined]
            }
        )


def _stdlib_logging(events: list[dict]) -> dict:
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(_JsonFormatter())
    log = logging.getLogger("bench.stdlib")
    log.handlers, log.propagate = [handler], False
    log.setLevel(logging.INFO)
    cpu0 = time.process_time()
    for e in events:
        log.info(
            "prediction",
            extra={
                "features": e["features"],
                "prediction": {"label": e["prediction"], "score": e["score"]},
            },
        )
    return {"cpu_us_per_event": (time.process_time() - cpu0) / len(events) * 1e6}


def _rss_mb() -> float:
    """Resident memory now (not the peak, which earlier phases already set)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _peer_down(events: list[dict], profile) -> dict:
    """Nothing listens: every call must still return at once, and memory stay bounded."""
    from mlmon.sdk import PredictionLogger

    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    logger = PredictionLogger(
        "bench-hot", "v1", sink=f"fluentd://127.0.0.1:{port}", profile=profile
    )
    rss0 = _rss_mb()
    calls = []
    for e in events:
        t = time.perf_counter_ns()
        logger.prediction(e["features"], e["prediction"], e["score"])
        calls.append(time.perf_counter_ns() - t)
    stats = logger.stats()
    logger.close(timeout=2)
    calls.sort()
    return {
        "call_p99_us": calls[int(len(calls) * 0.99)] / 1000,
        "call_max_us": calls[-1] / 1000,
        "over_1ms": sum(1 for c in calls if c > 1_000_000),
        "rss_growth_mb": _rss_mb() - rss0,
        "dropped": stats.get("dropped_queue_full", 0) + stats.get("dropped_send_failed", 0),
        "emitted": stats.get("emitted", 0),
        "queue_bound": 10_000,
    }


def run(n: int = 100_000, repeats: int = 3) -> dict:
    events = _events(n)
    profile = _profile()
    peer = subprocess.Popen([sys.executable, "-c", _DISCARD], stdout=subprocess.PIPE, text=True)
    try:
        port = int(peer.stdout.readline())
        rounds = []
        for _ in range(repeats):  # interleaved, so drift in machine load hits all three
            rounds.append(
                {
                    "mlmon": _mlmon(events, port, profile),
                    "orjson": _orjson_only(events),
                    "stdlib": _stdlib_logging(events),
                }
            )
    finally:
        peer.kill()

    def med(name: str, key: str) -> float:
        return statistics.median(r[name][key] for r in rounds)

    mlmon_cpu, orjson_cpu, stdlib_cpu = (
        med(k, "cpu_us_per_event") for k in ("mlmon", "orjson", "stdlib")
    )
    down = _peer_down(events, profile)
    return {
        "events": n,
        "repeats": repeats,
        "mlmon_cpu_us_per_event": mlmon_cpu,
        "orjson_cpu_us_per_event": orjson_cpu,
        "stdlib_logging_cpu_us_per_event": stdlib_cpu,
        "ratio_vs_orjson": mlmon_cpu / orjson_cpu,
        "ratio_vs_stdlib_logging": mlmon_cpu / stdlib_cpu,
        "call_p50_us": med("mlmon", "call_p50_us"),
        "call_p99_us": med("mlmon", "call_p99_us"),
        "delivered_all": all(r["mlmon"]["delivered_all"] for r in rounds),
        "peer_down": down,
        "targets": {
            "cpu_at_most_2x_orjson": mlmon_cpu <= 2 * orjson_cpu,
            "cheaper_than_stdlib_logging": mlmon_cpu < stdlib_cpu,
            "call_p99_under_50us": med("mlmon", "call_p99_us") < 50,
            "peer_down_call_under_1ms": down["call_max_us"] < 1000,
        },
    }
