"""Cost as work grows (issue 15): trace time and peak memory against events and features.

Two curves: events 10⁴ … 10⁷ at 20 features, and features 10, 20, 50, 100 at
10⁶ events (``--features-at``). Each point: the events are loaded once
(bench.dataset, not timed; reused on later runs), then `mlmon trace` in a
fresh process, query and request caches cleared before each run, its wall
time (median of ``--repeats``), its peak RSS, and the shard queries the node
ran for it. Every point is written to ``bench/cost_curves.json`` as soon as
it is measured, so an interrupted run resumes where it stopped
(``--missing-only`` skips the points already there); the RESULTS.md section
is rebuilt from all the points in the file, each with its machine load.

    python -m bench.cost_curves --sizes 10000,100000,1000000,10000000 --features 10,20,50,100
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench import dataset
from bench.common import BENCH, ROOT, run_child, splice_section

START = "<!-- cost-curves:start -->"
END = "<!-- cost-curves:end -->"
FIGURES = BENCH / "cost_curves.json"
#: Trace-time targets of issue 15 at 20 features, in seconds.
TARGETS = {10_000: 1.0, 100_000: 1.5, 10_000_000: 15.0}


def point_id(events: int, features: int) -> str:
    return f"{events}x{features}"


def _query_total(client) -> int:
    nodes = client.nodes.stats(metric="indices", index_metric="search")["nodes"]
    return sum(node["indices"]["search"]["query_total"] for node in nodes.values())


def _revision() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
        return done.stdout.strip()

    # The figures this run writes (cost_curves.json, RESULTS.md) are not code changes.
    dirty = "+changes" if git("status", "--porcelain", "--", "src", "bench/*.py") else ""
    return git("rev-parse", "--short", "HEAD") + dirty


def measure(client, events: int, features: int, repeats: int, say=print) -> dict:
    """One point: load if needed, then ``repeats`` traces in fresh processes."""
    started = time.perf_counter()
    loaded = dataset.ensure(client, events, say=say, features=features)
    model = dataset.model_name(events, features)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        for i in range(repeats):
            client.indices.clear_cache(
                index=dataset.pattern(events, features), query=True, request=True
            )
            before = _query_total(client)
            run = run_child(
                [sys.executable, "-m", "mlmon", "trace", "--model", model, "--window",
                 dataset.WINDOW, "--baseline", "training", "--format", "json", "-o", str(out)]
            )  # fmt: skip
            if run.returncode != 0:
                raise RuntimeError(f"mlmon trace {model} failed: {run.stderr.strip()[-500:]}")
            report = json.loads(out.read_text())
            runs.append(
                {
                    "seconds": run.seconds,
                    "peak_rss_mb": run.peak_rss_mb,
                    "shard_queries": _query_total(client) - before,
                    "load_1min": os.getloadavg()[0],
                    "top_slice": (report.get("slices") or [{}])[0].get("filters"),
                }
            )
            say(f"  {model}: trace {i + 1}/{repeats} {run.seconds:.2f} s, {run.peak_rss_mb:.0f} MB")
    return {
        "events": events,
        "features": features,
        "trace_s": statistics.median(r["seconds"] for r in runs),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "runs": runs,
        "load_s": loaded["seconds"],
        "point_s": time.perf_counter() - started,
        "measured": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "revision": _revision(),
    }


def _verdict(events: int, features: int, seconds: float) -> str:
    target = TARGETS.get(events) if features == 20 else None
    if target is None:
        return "none set"
    return f"< {target:g} s: {'met' if seconds < target else '**missed**'}"


def _rows(points: list[dict], key: str) -> list[str]:
    rows, previous = [], None
    for p in sorted(points, key=lambda p: p[key]):
        growth = (
            f"{p['trace_s'] / previous['trace_s']:.2f}× for {p[key] / previous[key]:g}× {key}"
            if previous
            else "—"
        )
        loads = [r["load_1min"] for r in p["runs"]]
        times = ", ".join(f"{r['seconds']:.2f}" for r in p["runs"])
        verdict = _verdict(p["events"], p["features"], p["trace_s"])
        cells = [
            f"{p[key]:,}",
            f"{p['trace_s']:.2f} ({times})",
            growth,
            f"{p['peak_rss_mb']:.0f}",
            str(p["runs"][-1]["shard_queries"]),
            f"{min(loads):.1f}–{max(loads):.1f}",
            verdict,
            f"{p['point_s']:.0f} s",
            f"{p['revision']}, {p['measured']}",
        ]
        rows.append("| " + " | ".join(cells) + " |")
        previous = p
    return rows


def section(points: dict[str, dict], features_at: int) -> str:
    header = (
        "| {} | trace s, median (runs) | growth | peak RSS MB | shard queries | load (1 min) "
        "| target | point took | revision, measured |"
    )
    rule = "|---|---|---|---|---|---|---|---|---|"
    by_events = [p for p in points.values() if p["features"] == 20]
    by_features = [p for p in points.values() if p["events"] == features_at]
    lines = [
        START,
        "## Cost as work grows: trace time and peak memory (issue 15)",
        "",
        "`python -m bench.cost_curves` (figures in `bench/cost_curves.json`): each point "
        "`mlmon trace` in a fresh process (with mlmon's bytecode cached, as installed: since "
        "11:53 on 2026-12-02; earlier points compiled mlmon on every start, ~0.4 s), query and "
        "request caches cleared before each run, "
        "the median of its runs; peak RSS of the trace process; shard queries the node ran for "
        "one trace. The machine is 2 cores shared with other sessions: the load column is the "
        '1-minute load average after each run, and absolute times grow with it. "Point took" is '
        "loading (first time only) plus the traces.",
        "",
        "Against events, 20 features:",
        "",
        header.format("events"),
        rule,
        *_rows(by_events, "events"),
        "",
        f"Against features, {features_at:,} events:",
        "",
        header.format("features"),
        rule,
        *_rows(by_features, "features"),
    ]
    missing = [n for n in (10_000, 100_000, 1_000_000, 10_000_000) if n not in
               {p["events"] for p in by_events}]  # fmt: skip
    missing_f = [f for f in (10, 20, 50, 100) if f not in {p["features"] for p in by_features}]
    if missing or missing_f:
        lines += [
            "",
            "Not measured yet: "
            + ", ".join([f"{n:,} events" for n in missing] + [f"{f} features" for f in missing_f])
            + ".",
        ]
    lines.append(END)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000,10000000",
                        help="events at 20 features, comma-separated")  # fmt: skip
    parser.add_argument("--features", default="10,20,50,100",
                        help="feature counts at --features-at events")  # fmt: skip
    parser.add_argument("--features-at", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--missing-only", action="store_true",
                        help="skip points already in bench/cost_curves.json")  # fmt: skip
    args = parser.parse_args(argv)
    from mlmon.es.client import connect

    client = connect()
    saved = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    points: dict[str, dict] = saved.get("points", {})
    wanted = [(int(n), 20) for n in args.sizes.split(",") if n]
    wanted += [(args.features_at, int(f)) for f in args.features.split(",") if f]
    wanted = list(dict.fromkeys(wanted))  # 20 features at --features-at is on both curves
    for i, (events, features) in enumerate(wanted, 1):
        key = point_id(events, features)
        if args.missing_only and key in points:
            print(f"[{i}/{len(wanted)}] {events:,} × {features}: already measured, skipped")
            continue
        print(f"[{i}/{len(wanted)}] {events:,} events × {features} features", flush=True)
        points[key] = measure(client, events, features, args.repeats)
        p = points[key]
        print(
            f"  → {p['trace_s']:.2f} s, {p['peak_rss_mb']:.0f} MB; point took {p['point_s']:.0f} s"
        )
        FIGURES.write_text(
            json.dumps({"features_at": args.features_at, "points": points}, indent=2) + "\n"
        )
    text = section(points, args.features_at)
    splice_section(text, BENCH / "RESULTS.md", START, END)
    print(text)


if __name__ == "__main__":
    main()
