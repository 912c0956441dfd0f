"""One node and three nodes: the same events traced on each (not part of `make bench`).

    python -m bench.nodes                     # 10^5 events, median of 3
    python -m bench.nodes --events 10000 --repeats 1

Each layout is a stack of its own, started here with `mlmon stack up` and
stopped after, one at a time (never two at once on the machine), on the
ports of MLMON_ES_URL and the next ones:

- 1 node, 1 GB heap, the shipped layout (one primary per index);
- 1 node, 1 GB heap, the model's index made first with 3 primaries (the
  shards alone, without more nodes);
- 3 nodes, 512 MB heap each, 3 primaries and 1 replica per index.

The same synthetic events (bench.dataset) are loaded into each, force-merged,
and traced with the `mlmon trace` CLI in a fresh process, query and request
caches cleared before each run (bench.analyzer). Figures: ``bench/nodes.json``
and a section of ``bench/RESULTS.md`` (re-running a layout replaces its row).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench import dataset
from bench.analyzer import _trace_cli as trace_cli
from bench.common import BENCH, machine, splice_section
from bench.synth import DAYS, END

SECTION_START = "<!-- bench.nodes: start -->"
SECTION_END = "<!-- bench.nodes: end -->"


@dataclass(frozen=True)
class Layout:
    name: str
    nodes: int
    shards: int
    replicas: int
    heap: str


LAYOUTS = (
    Layout("1 node, shipped layout", 1, 1, 0, "1 GB"),
    Layout("1 node, 3 shards", 1, 3, 0, "1 GB"),
    Layout("3 nodes, 3 shards + 1 replica", 3, 3, 1, "3 × 512 MB"),
)


def _mlmon(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "mlmon", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"mlmon {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    return done.stdout.strip()


def measure(layout: Layout, *, url: str, stack_dir: Path, events: int, repeats: int, say) -> dict:
    """Start ``layout``'s stack, load and trace the events, stop it; the figures."""
    from elasticsearch import Elasticsearch

    from mlmon.stack.shards import create_split

    env = {"MLMON_ES_URL": url, "MLMON_STACK_DIR": str(stack_dir)}
    nodes = ["--nodes", str(layout.nodes)] if layout.nodes > 1 else []
    os.environ.update(env)  # bench.dataset and the traced child read the connection from it
    try:
        started = time.perf_counter()
        say(f"{layout.name}: {_mlmon('stack', 'up', *nodes, env=env)}")
        start_s = time.perf_counter() - started
        _mlmon("setup", env=env)  # the templates, before any index is made
        client = Elasticsearch(url, request_timeout=3600)
        if layout.shards > 1:
            start = END - timedelta(days=DAYS)
            create_split(
                client,
                dataset.model_name(events),
                start,
                END,
                shards=layout.shards,
                replicas=layout.replicas,
            )
        load = dataset.ensure(client, events, say=say)
        indices = client.indices.get_settings(index=dataset.pattern(events))
        shards = {int(s["settings"]["index"]["number_of_shards"]) for s in indices.values()}
        assert shards == {layout.shards}, f"{layout.name}: indices have {shards} shards"
        health = client.cluster.health(wait_for_status="green", timeout="300s")
        assert health["status"] == "green", health
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "report.json"
            runs = [trace_cli(client, events, out) for _ in range(repeats)]
        say(f"{layout.name}: " + ", ".join(f"{r['seconds']:.2f} s" for r in runs))
        return {
            "layout": layout.name,
            "nodes": health["number_of_nodes"],
            "shards": layout.shards,
            "replicas": layout.replicas,
            "heap": layout.heap,
            "events": events,
            "start_s": start_s,
            "load_s": load["seconds"],
            "trace_s": statistics.median(r["seconds"] for r in runs),
            "trace_runs_s": [r["seconds"] for r in runs],
            "top_slice": runs[0]["top_slice"],
            "slice_requests": runs[0]["requests"],
            "load_average_1m": os.getloadavg()[0],
            "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
    finally:
        say(f"{layout.name}: {_mlmon('stack', 'down', env=env)}")


def markdown(section: dict) -> list[str]:
    """The RESULTS.md section: the layouts side by side, ratio against one node."""
    rows = section["rows"]
    base = next((r["trace_s"] for r in rows if r["nodes"] == 1 and r["shards"] == 1), None)
    lines = [
        SECTION_START,
        f"## One node and three nodes ({rows[0]['events']:,} events × 20 features)",
        "",
        "Measured with `python -m bench.nodes` (not part of `make bench`): each layout a "
        "stack of its own, started alone, the same events loaded, `mlmon trace` median of "
        f"{section['repeats']} runs with caches cleared.",
        "",
        "| layout | heap | trace (runs) | ratio to 1 node, 1 shard | top slice | "
        "machine load (1 min) | measured |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        runs = ", ".join(f"{s:.2f}" for s in row["trace_runs_s"])
        ratio = f"{row['trace_s'] / base:.2f}×" if base else "—"
        lines.append(
            f"| {row['layout']} | {row['heap']} | {row['trace_s']:.2f} s ({runs}) | {ratio} | "
            f"{row['top_slice']} | {row['load_average_1m']:.1f} | {row['measured_at']} |"
        )
    lines += [
        "",
        "This is not a scale-out. The three nodes share the same 2 cores and one disk, "
        "so they add coordination (a search fans out to every shard and the coordinating "
        "node merges the answers) without adding CPU; a real cluster puts each node on "
        "its own machine. What the figures show is what splitting a model's index into "
        "shards costs or saves on this machine, and that the answer does not change "
        "(the same top slice; tests/integration/test_cluster.py checks the whole report "
        "against the pandas backend on three nodes). Other agents shared the machine "
        "while this ran: the load column is the 1-minute load average when a row's last trace "
        "ended, and a spread of runs wider than the gap between rows means the rows do not "
        "differ (section 3 has the same 100,000 events traced on a quiet node).",
        "",
        SECTION_END,
    ]
    return lines


def main(argv: list[str] | None = None) -> None:
    from mlmon.es.settings import ConnectionSettings
    from mlmon.stack import default_stack_dir

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--layouts",
        default=",".join(str(i) for i in range(len(LAYOUTS))),
        help="Which layouts, by position: "
        + "; ".join(f"{i} {layout.name}" for i, layout in enumerate(LAYOUTS)),
    )
    parser.add_argument("--url", default=ConnectionSettings.from_env().url)
    parser.add_argument(
        "--stack-dir",
        type=Path,
        default=default_stack_dir().with_name(default_stack_dir().name + "-bench-nodes"),
        help="Parent of the layouts' stack directories (removed after).",
    )
    args = parser.parse_args(argv)
    clock = time.perf_counter()

    def say(text: str) -> None:
        print(f"[{time.perf_counter() - clock:6.0f}s] {text}", file=sys.stderr, flush=True)

    rows = []
    for index in (int(i) for i in args.layouts.split(",")):
        layout = LAYOUTS[index]
        stack_dir = args.stack_dir / f"layout-{index}"
        stack_dir.mkdir(parents=True, exist_ok=True)
        args.stack_dir.chmod(0o755)
        try:
            rows.append(
                measure(
                    layout,
                    url=args.url,
                    stack_dir=stack_dir,
                    events=args.events,
                    repeats=args.repeats,
                    say=say,
                )
            )
        finally:
            shutil.rmtree(stack_dir, ignore_errors=True)
    figures = BENCH / "nodes.json"
    previous = json.loads(figures.read_text()) if figures.is_file() else {}
    measured = {row["layout"] for row in rows}
    kept = [row for row in previous.get("rows", []) if row["layout"] not in measured]
    order = [layout.name for layout in LAYOUTS]
    section = {
        "machine": machine(),
        "repeats": args.repeats,
        "rows": sorted([*kept, *rows], key=lambda row: order.index(row["layout"])),
    }
    figures.write_text(json.dumps(section, indent=2) + "\n")
    splice_section(
        "\n".join(markdown(section)) + "\n", BENCH / "RESULTS.md", SECTION_START, SECTION_END
    )
    say(f"wrote {figures} and {BENCH / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
