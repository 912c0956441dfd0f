"""Where the SDK's time goes (issue 16): each piece alone, then the whole logger's threads.

Pieces: process CPU per event of each step over 5,000 tagged 20-feature events (min of
7 passes, GC off), beside the benchmark's baseline (dict + orjson). Then the whole logger
saturated (fluentd to a discarding peer, ``block_when_full``): each thread's CPU per event
(``time.thread_time``: a profiler's wall clock charges a thread for the time it waits for
the GIL) and the collector's passes by generation. Writes ``bench/profile-delivery.txt``.
Run: ``python -m bench.profile_delivery [--elasticsearch]`` (the second: the same into
the local node, with the sender thread's share).
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone

from bench import hot_path
from bench.common import BENCH


def _best(call, per: int) -> float:
    best = float("inf")
    for _ in range(7):
        start = time.thread_time()
        call()
        best = min(best, time.thread_time() - start)
    return best / per * 1e6


def pieces(n: int = 5000) -> list[tuple[str, float]]:
    from mlmon._prepare import tag_all
    from mlmon._tagging import RulesCache
    from mlmon.es.writer import operation_for
    from mlmon.schema.event import normalize_features
    from mlmon.sdk._fastpath import PredictionDocs
    from mlmon.sdk._fluentd import FluentdSink
    from mlmon.sdk._stdout import StdoutSink
    from mlmon.sdk.processors import new_id

    events = hot_path._events(n)
    rules = RulesCache(profile=hot_path._profile())
    docs = PredictionDocs({"name": "bench-hot", "version": "v1"})
    slots = [
        x
        for e in events
        for x in docs.row(new_id(), e["features"], e["prediction"], e["score"], None)
    ]
    step = 50 * 4  # the sinks' pieces, four slots an event
    chunks = [slots[i : i + step] for i in range(0, len(slots), step)]
    made = [docs.documents(c) for c in chunks]

    def tag() -> None:
        for piece in made:
            for doc in piece:
                doc.pop("quality", None)
            tag_all(piece, rules)

    fluentd, devnull = FluentdSink("127.0.0.1", 9), open(os.devnull, "w")  # noqa: SIM115
    stdout = StdoutSink(devnull)
    gc.disable()
    try:
        rows = [
            (
                "caller: the row (normalize_features + outcome)",
                lambda: [
                    docs.row("p", e["features"], e["prediction"], e["score"], None) for e in events
                ],
            ),
            (
                "  of which normalize_features",
                lambda: [normalize_features(e["features"]) for e in events],
            ),
            ("caller: the id (new_id)", lambda: [new_id() for _ in events]),
            (
                "worker: documents from rows (pieces of 50)",
                lambda: [docs.documents(c) for c in chunks],
            ),
            ("worker: tag_all (pieces of 50)", tag),
            (
                "worker: fluentd encode (ormsgpack, pieces of 50)",
                lambda: [fluentd.encode(c) for c in made],
            ),
            (
                "worker: stdout send (orjson lines, pieces of 50)",
                lambda: [stdout.send(c) for c in made],
            ),
            (
                "sender: bulk lines (operation_for + lines)",
                lambda: [operation_for(d).lines() for piece in made for d in piece],
            ),
            ("baseline: dict + orjson.dumps", lambda: hot_path._orjson_only(events)),
        ]
        return [(name, _best(call, n)) for name, call in rows]
    finally:
        gc.enable()
        devnull.close()


def _thread_cpu(cls: type, method: str) -> tuple[list[float], Callable[[], None]]:
    """Patch ``cls.method`` (a thread's body) to record the thread's CPU time when it ends;
    the list it records into, and the call that undoes the patch."""
    original = getattr(cls, method)
    seconds: list[float] = []

    def measured(self) -> None:
        try:
            original(self)
        finally:
            seconds.append(time.thread_time())

    setattr(cls, method, measured)
    return seconds, lambda: setattr(cls, method, original)


def threads(n: int = 100_000, *, elasticsearch: bool = False) -> dict[str, float]:
    """The whole logger saturated: fluentd to a discarding peer, or with ``elasticsearch``
    the local node (``MLMON_ES_URL``; the benchmark model's indices deleted after)."""
    from mlmon.sdk import PredictionLogger

    events = hot_path._events(n)
    profile = hot_path._profile()
    gc.collect()
    gc.freeze()  # the harness's heap, as in bench.delivery
    passes = {0: [0, 0.0], 1: [0, 0.0], 2: [0, 0.0]}
    began = [0.0]

    def watch(phase: str, info: dict) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            passes[info["generation"]][0] += 1
            passes[info["generation"]][1] += time.perf_counter() - began[0]

    peer = subprocess.Popen(
        [sys.executable, "-c", hot_path._DISCARD], stdout=subprocess.PIPE, text=True
    )
    from mlmon.sdk._sender import Sender
    from mlmon.sdk._worker import Worker

    worker_cpu, restore_worker = _thread_cpu(Worker, "run")
    sender_cpu, restore_sender = _thread_cpu(Sender, "_run")
    gc.callbacks.append(watch)
    try:
        port = int(peer.stdout.readline())
        log = PredictionLogger(
            "bench-profile",
            "v1",
            sink="elasticsearch" if elasticsearch else f"fluentd://127.0.0.1:{port}",
            profile=profile,
            block_when_full=True,
            max_queue=n + 1,
        )
        caller0, wall0 = time.thread_time(), time.perf_counter()
        for e in events:
            log.prediction(e["features"], e["prediction"], e["score"])
        caller = time.thread_time() - caller0
        log.flush(600)
        wall = time.perf_counter() - wall0
        log.close()
    finally:
        gc.callbacks.remove(watch)
        restore_worker()
        restore_sender()
        peer.kill()
        gc.unfreeze()
        if elasticsearch:
            from bench.delivery import _delete
            from mlmon.es.client import connect

            _delete(connect(), "bench-profile")
    out = {"caller_us": caller / n * 1e6, "worker_us": worker_cpu[0] / n * 1e6, "wall_s": wall}
    out["sender_us"] = sender_cpu[0] / n * 1e6 if sender_cpu else 0.0
    for generation, (count, seconds) in passes.items():
        out[f"gc{generation}_passes"], out[f"gc{generation}_s"] = count, seconds
    return out


def peer_down_delays(n: int = 100_000) -> list[tuple[str, dict]]:
    """Where a slow call with the peer down comes from: the logger's calls (GIL switch
    interval 5 ms, the default, then 0.5 ms), beside the same caller's work with no logger
    thread and no sink, each with its count of calls over 1 ms. If the GIL held by the
    worker delayed calls, a tenth of the switch interval would cut them; if the machine's
    scheduling does, the caller alone has as many."""
    from bench.delivery import _caller_alone

    events = hot_path._events(n)
    profile = hot_path._profile()
    gc.collect()
    gc.freeze()
    rows = []
    try:
        for label, interval in (("switch interval 5 ms", 0.005), ("switch interval 0.5 ms", 5e-4)):
            sys.setswitchinterval(interval)
            rows.append((f"logger, peer down, {label}", hot_path._peer_down(events, profile)))
        sys.setswitchinterval(0.005)
        rows.append(("the caller's work alone, no logger thread", _caller_alone(events)))
    finally:
        sys.setswitchinterval(0.005)
        gc.unfreeze()
    return rows


def main() -> None:
    load, n_down = os.getloadavg()[0], 100_000
    lines = [
        f"# Where the SDK's time goes (issue 16), "
        f"{datetime.now(timezone.utc).isoformat(timespec='seconds')}, load {load:.2f}",
        "# `python -m bench.profile_delivery`",
        "",
        "# Pieces, CPU per event (min of 7 passes over 5,000 tagged 20-feature events, GC off):",
        *(f"{name:52} {us:6.2f} µs" for name, us in pieces()),
    ]
    t = threads()
    lines += [
        "",
        "# The whole logger saturated (fluentd to a discarding peer, block_when_full, "
        "100,000 events), CPU per event by thread (time.thread_time):",
        f"caller thread (prediction() and the loop around it)  {t['caller_us']:6.2f} µs",
        f"worker thread (documents, tagging, encoding, sends)  {t['worker_us']:6.2f} µs",
        f"wall {t['wall_s']:.2f} s; collector passes by generation: "
        + ", ".join(
            f"gen{g} {t[f'gc{g}_passes']} ({t[f'gc{g}_s'] * 1000:.0f} ms)" for g in (0, 1, 2)
        ),
    ]
    if "--elasticsearch" in sys.argv:
        e = threads(30_000, elasticsearch=True)
        lines += [
            "",
            '# The logger saturated into the local Elasticsearch (sink="elasticsearch", '
            "block_when_full, 30,000 events), CPU per event by thread:",
            f"caller thread                                        {e['caller_us']:6.2f} µs",
            f"worker thread (documents, tagging)                   {e['worker_us']:6.2f} µs",
            f"sender thread (bulk encoding, request, answer)       {e['sender_us']:6.2f} µs",
            f"wall {e['wall_s']:.2f} s ({30_000 / e['wall_s']:,.0f} events/s); collector passes: "
            + ", ".join(
                f"gen{g} {e[f'gc{g}_passes']} ({e[f'gc{g}_s'] * 1000:.0f} ms)" for g in (0, 1, 2)
            ),
        ]
    lines += [
        "",
        f"# Calls over 1 ms with the peer down ({n_down:,} calls each, load "
        f"{os.getloadavg()[0]:.2f}): p99 / max / count over 1 ms",
        *(
            f"{name:52} {x['call_p99_us']:6.1f} / {x['call_max_us']:8,.0f} µs / {x['over_1ms']}"
            for name, x in peer_down_delays(n_down)
        ),
    ]
    text = "\n".join(lines) + "\n"
    (BENCH / "profile-delivery.txt").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
