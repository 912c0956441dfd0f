"""Where one trace's time goes, request by request: each HTTP call of an in-process trace.

For every call the node answered during `mlmon trace` (caches cleared first):
its path, the searches it carried, the node's own ``took`` (summed over an
``_msearch``'s searches, which run in parallel), the wall time the client
waited, and the bytes of the answer; grouped by the trace's phase. Run it on
two trees side by side to see what a change moved:

    PYTHONPATH=src:. python -m bench.trace_requests 10000
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import elastic_transport
import orjson

from bench import dataset


@dataclass(frozen=True)
class Call:
    phase: str
    path: str
    searches: int
    took_ms: int
    wall_s: float
    answer_bytes: int


def trace_calls(n: int, features: int = 20) -> tuple[float, list[Call]]:
    from mlmon._trace_request import TraceRequest, run
    from mlmon.es.client import connect

    client = connect()
    calls: list[Call] = []
    phase = ["resolve"]
    send = elastic_transport.Transport.perform_request

    def timed(self, method, target, *args, **kwargs):
        started = time.perf_counter()
        answer = send(self, method, target, *args, **kwargs)
        wall = time.perf_counter() - started
        body = answer.body if isinstance(answer.body, dict) else {}
        took = [r.get("took", 0) for r in body.get("responses", [body])]
        size = len(orjson.dumps(body))
        calls.append(Call(phase[0], target.split("?")[0], len(took), sum(took), wall, size))
        return answer

    client.indices.clear_cache(index=dataset.pattern(n, features), query=True, request=True)
    request = TraceRequest(
        model=dataset.model_name(n, features), window=dataset.WINDOW, baseline="training"
    )
    elastic_transport.Transport.perform_request = timed
    try:
        started = time.perf_counter()
        run(request, client_factory=lambda: client, say=lambda step: phase.__setitem__(0, step))
        total = time.perf_counter() - started
    finally:
        elastic_transport.Transport.perform_request = send
    return total, calls


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("events", type=int)
    parser.add_argument("--features", type=int, default=20)
    args = parser.parse_args(argv)
    total, calls = trace_calls(args.events, args.features)
    waited = sum(c.wall_s for c in calls)
    print(
        f"{args.events:,} events × {args.features} features: trace {total:.2f} s in process, "
        f"{len(calls)} calls, {waited:.2f} s waiting on the node, "
        f"{sum(c.answer_bytes for c in calls) / 1e6:.1f} MB of answers; "
        f"the rest ({total - waited:.2f} s) is Python"
    )
    for phase in dict.fromkeys(c.phase for c in calls):
        mine = [c for c in calls if c.phase == phase]
        print(f"{phase}: {sum(c.wall_s for c in mine):.2f} s waiting")
        for c in mine:
            print(
                f"   {c.path[-32:]:32s} {c.searches:3d} searches, took {c.took_ms:6d} ms, "
                f"wall {c.wall_s:5.2f} s, {c.answer_bytes / 1e3:7.0f} kB"
            )


if __name__ == "__main__":
    main()
