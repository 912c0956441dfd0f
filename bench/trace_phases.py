"""Where a trace's time goes, and the searches it costs, against an earlier revision.

For each size the events are loaded once (bench.dataset). Then, alternating
the two code trees in the same run so machine load hits both alike:
`mlmon trace` in a fresh process (caches cleared first), its wall time, and
the shard-level queries the node ran for it (``_nodes/stats``
``query_total``, so searches merged by mlmon count once per shard). The
reports of both trees must be identical; the section says whether they are.
Last, one in-process trace of the current tree timed per phase.

    python -m bench.trace_phases --against b631043 --sizes 10000 --repeats 3
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
from itertools import pairwise
from pathlib import Path

from bench import dataset
from bench.common import installed_env, splice_section

START = "<!-- trace-phases:start -->"
END = "<!-- trace-phases:end -->"
ROOT = Path(__file__).resolve().parent.parent


def _query_total(client) -> int:
    nodes = client.nodes.stats(metric="indices", index_metric="search")["nodes"]
    return sum(node["indices"]["search"]["query_total"] for node in nodes.values())


def _trace(client, n: int, src: Path, out: Path) -> tuple[float, int, dict]:
    client.indices.clear_cache(index=dataset.pattern(n), query=True, request=True)
    before = _query_total(client)
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "mlmon", "trace", "--model", dataset.model_name(n), "--window",
         dataset.WINDOW, "--baseline", "training", "--format", "json", "-o", str(out)],
        env=installed_env({"PYTHONPATH": f"{src}:{ROOT}"}), capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if run.returncode != 0:
        raise RuntimeError(f"mlmon trace ({src}) failed: {run.stderr.strip()}")
    return seconds, _query_total(client) - before, json.loads(out.read_text())


def _phases(client, n: int) -> list[tuple[str, float]]:
    from mlmon._trace_request import TraceRequest, run

    client.indices.clear_cache(index=dataset.pattern(n), query=True, request=True)
    marks: list[tuple[str, float]] = [("resolve", time.perf_counter())]
    request = TraceRequest(model=dataset.model_name(n), window=dataset.WINDOW, baseline="training")

    def mark(step: str) -> None:
        marks.append((step, time.perf_counter()))

    run(request, client_factory=lambda: client, say=mark)
    mark("end")
    return [(step, later - at) for (step, at), (_, later) in pairwise(marks)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--against", required=True, help="git revision to compare with")
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    from mlmon.es.client import connect

    client = connect()
    rows, phases = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), args.against],
            check=True,
            capture_output=True,
        )
        try:
            for n in [int(s) for s in args.sizes.split(",")]:
                dataset.ensure(client, n)
                figures: dict[str, list[tuple[float, int]]] = {"before": [], "after": []}
                reports = {}
                for _ in range(args.repeats):
                    for side, src in (("before", old / "src"), ("after", ROOT / "src")):
                        seconds, queries, reports[side] = _trace(
                            client, n, src, Path(tmp) / f"{side}.json"
                        )
                        figures[side].append((seconds, queries))
                rows.append((n, figures, reports["before"] == reports["after"]))
                phases[n] = _phases(client, n)
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False
            )
    load = os.getloadavg()[0]
    lines = [
        START,
        "## Trace time and searches per trace, before and after (issue 15)",
        "",
        f"`python -m bench.trace_phases --against {args.against}`: `mlmon trace` in a fresh "
        f"process, caches cleared, the two trees alternating in one run; load average "
        f"{load:.1f} on this 2-core machine (absolute times are inflated by it, the ratio and "
        "the query counts are not).",
        "",
        "| events | before: median s | after: median s | ratio | shard queries before → after "
        "| same report | target |",
        "|---|---|---|---|---|---|---|",
    ]
    targets = {10_000: 1.0, 100_000: 1.5, 10_000_000: 15.0}
    for n, figures, same in rows:
        before = statistics.median(s for s, _ in figures["before"])
        after = statistics.median(s for s, _ in figures["after"])
        queries = f"{figures['before'][-1][1]} → {figures['after'][-1][1]}"
        target = targets.get(n)
        verdict = (
            f"< {target:g} s: {'met' if after < target else 'missed'}" if target else "none set"
        )
        lines.append(
            f"| {n:,} | {before:.2f} | {after:.2f} | {after / before:.2f}× | {queries} "
            f"| {'yes' if same else 'NO'} | {verdict} |"
        )
    for n, steps in phases.items():
        lines += ["", f"In-process phases of the current tree at {n:,} events:", ""]
        lines += [f"- {step}: {seconds:.2f} s" for step, seconds in steps]
    lines.append(END)
    splice_section("\n".join(lines) + "\n", ROOT / "bench" / "RESULTS.md", START, END)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
