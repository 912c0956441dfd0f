"""3. and 4. The analyzer: `mlmon trace` as events grow, the alternatives, slice search.

For each size the events are loaded once (not timed). Timed, each in a
fresh child process so its peak RSS is its own:

- `mlmon trace` (the CLI, JSON report), median of ``repeats`` runs, caches
  cleared before each;
- scroll-and-pandas: pull every event (point in time + search_after) into a
  file and compute the same report with mlmon's pandas backend;
- Evidently's data-drift preset and NannyML's univariate drift over the 20
  features of the pulled events (they answer only the drift part).

Slice search: pruned against exhaustive enumeration of 2- and 3-feature
crosses, same top-K, requests and time, in this process.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench import dataset
from bench.common import run_child
from mlmon.errors import ClusterError


def _trace_cli(client, n: int, out: Path, *, cold: bool = False) -> dict:
    """One `mlmon trace` in a fresh process. Query and request caches are always
    cleared; ``cold`` also drops fielddata (the global ordinals of keyword fields,
    which a live cluster keeps between traces and rebuilds after a refresh)."""
    client.indices.clear_cache(index=dataset.pattern(n), query=True, request=True, fielddata=cold)
    run = run_child(
        [sys.executable, "-m", "mlmon", "trace", "--model", dataset.model_name(n), "--window",
         dataset.WINDOW, "--baseline", "training", "--format", "json", "-o", str(out)]
    )  # fmt: skip
    if run.returncode != 0:
        raise RuntimeError(f"mlmon trace failed: {run.stderr}")
    report = json.loads(out.read_text())
    return {
        "seconds": run.seconds,
        "peak_rss_mb": run.peak_rss_mb,
        "top_slice": (report.get("slices") or [{}])[0].get("filters"),
        "requests": report.get("stats", {}).get("slice_requests"),
    }


def trace_scaling(client, sizes: list[int], repeats: int, say=print) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            load = dataset.ensure(client, n, say=say)
            first = _trace_cli(client, n, Path(tmp) / f"{n}.json", cold=True)
            runs = [_trace_cli(client, n, Path(tmp) / f"{n}.json") for _ in range(repeats)]
            rows.append(
                {
                    "events": n,
                    "load_s": load["seconds"],
                    "trace_s": statistics.median(r["seconds"] for r in runs),
                    "trace_runs_s": [r["seconds"] for r in runs],
                    "trace_cold_s": first["seconds"],
                    "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                    "top_slice": runs[0]["top_slice"],
                    "slice_requests": runs[0]["requests"],
                }
            )
            row = rows[-1]
            say(
                f"  trace {n:,}: {row['trace_s']:.2f} s warm, {row['trace_cold_s']:.2f} s cold, "
                f"{row['peak_rss_mb']:.0f} MB"
            )
    return rows


def alternatives(client, sizes: list[int], peers_python: str | None, say=print) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            dataset.ensure(client, n, say=say)
            file = Path(tmp) / f"pulled-{n}.jsonl"
            pulled = run_child([sys.executable, "-m", "bench.pull", str(n), str(file), "--trace"])
            if pulled.returncode != 0:
                raise RuntimeError(f"pull failed: {pulled.stderr}")
            detail = json.loads(pulled.stdout.strip().splitlines()[-1])
            row = {
                "events": n,
                "scroll_pandas_s": pulled.seconds,
                "pull_s": detail["pull_s"],
                "pandas_trace_s": detail["pandas_trace_s"],
                "scroll_pandas_peak_rss_mb": pulled.peak_rss_mb,
                "pulled_mb": detail["bytes"] / 2**20,
                "same_top_slice": detail["top_slice"],
            }
            for tool in ("evidently", "nannyml") if peers_python else ():
                try:
                    peer = run_child(
                        [peers_python, "-m", "bench.peers", tool, str(file)], timeout=1800
                    )
                except Exception as error:  # a timeout is a figure too
                    row[tool] = {"error": str(error)[:200]}
                    continue
                if peer.returncode != 0:
                    row[tool] = {"error": peer.stderr.strip().splitlines()[-1][:200]}
                    continue
                figures = json.loads(peer.stdout.strip().splitlines()[-1])
                row[tool] = {
                    **figures,
                    "total_s": detail["pull_s"] + peer.seconds,
                    "peak_rss_mb": peer.peak_rss_mb,
                }
            file.unlink(missing_ok=True)
            rows.append(row)
            say(f"  scroll+pandas {n:,}: {row['scroll_pandas_s']:.1f} s")
    return rows


def slice_search(client, sizes: list[int], say=print) -> list[dict]:
    from mlmon._trace_request import TraceRequest
    from mlmon._trace_request import run as trace_run
    from mlmon.analysis.result import to_json
    from mlmon.analysis.trace import TraceSettings

    rows = []
    for n in sizes:
        dataset.ensure(client, n, say=say)
        row: dict = {"events": n}
        modes = [("pruned", True, 3), ("exhaustive", False, 3)] if n <= 100_000 else []
        modes += [("pruned_depth2", True, 2), ("exhaustive_depth2", False, 2)]
        for mode, prune, depth in modes:
            settings = TraceSettings()
            exact = {} if prune else {"sample_above": 10**15}  # exhaustive: every cross, exact
            settings = replace(
                settings,
                slices=replace(settings.slices, prune=prune, max_depth=depth, **exact),
            )
            client.indices.clear_cache(index=dataset.pattern(n), query=True, request=True)
            start = time.perf_counter()
            try:
                report = trace_run(
                    TraceRequest(
                        model=dataset.model_name(n),
                        window=dataset.WINDOW,
                        baseline="training",
                        settings=settings,
                    ),
                    client_factory=lambda: client,
                )
            except ClusterError as error:  # what the node could not do is a figure too
                row[mode] = {"error": str(error)[:300], "trace_s": time.perf_counter() - start}
                say(f"  slices {n:,} {mode}: failed after {row[mode]['trace_s']:.0f} s")
                continue
            stats = to_json(report)["stats"]
            row[mode] = {
                "trace_s": time.perf_counter() - start,
                "slice_requests": stats["slice_requests"],
                "requests_by_level": stats["slice_requests_by_level"],
                "slices_scored": stats["slices_scored"],
                "top_k": stats["slice_top_k"],
            }
        for suffix in ("", "_depth2"):
            p, e = row.get(f"pruned{suffix}"), row.get(f"exhaustive{suffix}")
            row[f"same_top_k{suffix}"] = (
                None
                if not p or not e or "error" in p or "error" in e
                else [json.dumps(k, sort_keys=True) for k, _ in p["top_k"]]
                == [json.dumps(k, sort_keys=True) for k, _ in e["top_k"]]
            )
        rows.append(row)
        for mode in modes:
            x = row[mode[0]]
            requests = x.get("slice_requests")
            say(f"  slices {n:,} {mode[0]}: {requests} requests, {x['trace_s']:.1f} s")
    return rows
