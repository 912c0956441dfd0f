"""The approach mlmon replaces: pull every event out of Elasticsearch into pandas.

``python -m bench.pull N FILE`` pages through the model's events with a
point in time and ``search_after`` (the supported way to read everything),
writing each ``_source`` as a JSON line; ``--trace`` then computes the same
report with mlmon's pandas backend on that file. Run as a child process so
its peak memory is measured alone.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import orjson


def pull(client, index: str, out: Path, page: int = 10_000) -> int:
    pit = client.open_point_in_time(index=index, keep_alive="5m")["id"]
    written = 0
    after = None
    try:
        with out.open("wb") as stream:
            while True:
                kwargs = {"search_after": after} if after else {}
                found = client.search(
                    pit={"id": pit, "keep_alive": "5m"},
                    size=page,
                    sort=[{"_shard_doc": "asc"}],
                    track_total_hits=False,
                    **kwargs,
                )
                hits = found["hits"]["hits"]
                if not hits:
                    return written
                for hit in hits:
                    stream.write(orjson.dumps(hit["_source"]) + b"\n")
                written += len(hits)
                after = hits[-1]["sort"]
    finally:
        client.close_point_in_time(id=pit)


def main() -> None:
    from bench.dataset import WINDOW, model_name, pattern
    from mlmon._trace_request import TraceRequest
    from mlmon._trace_request import run as trace_run
    from mlmon.es.client import connect

    n, out = int(sys.argv[1]), Path(sys.argv[2])
    client = connect()
    start = time.perf_counter()
    rows = pull(client, pattern(n), out)
    pulled = time.perf_counter() - start
    result = {"rows": rows, "pull_s": pulled, "bytes": out.stat().st_size}
    if "--trace" in sys.argv:
        start = time.perf_counter()
        report = trace_run(
            TraceRequest(model=model_name(n), window=WINDOW, baseline="training", events=out),
            client_factory=lambda: client,
        )
        result["pandas_trace_s"] = time.perf_counter() - start
        result["top_slice"] = dict(report.slices[0].filters) if report.slices else None
    print(json.dumps(result))


if __name__ == "__main__":
    main()
