"""`make bench`: every benchmark in one run; figures to bench/results.json and RESULTS.md.

    python -m bench.run                          # 10^4, 10^5, 10^6 events
    python -m bench.run --sizes 10000,100000 --quick
    python -m bench.run --sizes 10000000 --only analyzer

Each figure stands beside its baseline from the same run, as a ratio.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import time
from datetime import datetime, timezone

from bench import analyzer, hot_path, ingest
from bench.common import BENCH, machine, write_results
from bench.report import markdown

SECTIONS = ("hot_path", "ingest", "analyzer", "alternatives", "slices")


def _hot_path_profile(n: int = 20_000) -> str:
    """Where the hot path's time goes (cProfile of the caller's thread, top 25 by own time)."""
    events = hot_path._events(n)
    profile = hot_path._profile()
    from mlmon.sdk import PredictionLogger

    logger = PredictionLogger(
        "bench-hot", "v1", sink="stdout", profile=profile, stream=io.StringIO()
    )
    profiler = cProfile.Profile()
    profiler.enable()
    for e in events:
        logger.prediction(e["features"], e["prediction"], e["score"])
    profiler.disable()
    logger.close()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    return out.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--slice-sizes", default="100000,1000000")
    parser.add_argument("--alternative-sizes", default="10000,100000,1000000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="10^4 hot-path events, 1 repeat")
    parser.add_argument("--only", choices=SECTIONS, action="append")
    parser.add_argument("--peers-python", help="Python with evidently and nannyml installed")
    args = parser.parse_args(argv)

    from mlmon.es.client import connect

    client = connect()
    sizes = [int(s) for s in args.sizes.split(",")]
    repeats = 1 if args.quick else args.repeats
    wanted = set(args.only or SECTIONS)
    previous = BENCH / "results.json"
    results: dict = (
        json.loads(previous.read_text()) if args.only and previous.is_file() else {}
    )  # --only re-measures some sections and keeps the others
    results.update(
        started=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        machine=machine(),
    )
    results.setdefault("peers", {})
    results.setdefault("section_started", {})
    if args.peers_python:
        import subprocess

        versions = subprocess.run(
            [args.peers_python, "-c", "import evidently, nannyml, pandas; "
             "print(evidently.__version__, nannyml.__version__, pandas.__version__)"],
            capture_output=True, text=True,
        ).stdout.split()  # fmt: skip
        results["peers"] = dict(zip(("evidently", "nannyml", "pandas"), versions, strict=False))
    started = time.perf_counter()

    def section(name: str) -> None:
        """Keep what is measured so far (a crash later loses nothing), then start ``name``."""
        write_results(results, markdown(results))
        results["section_started"][name] = datetime.now(timezone.utc).isoformat(timespec="seconds")

    def say(text: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f}s] {text}", file=sys.stderr, flush=True)

    if "hot_path" in wanted:
        say("1. hot path")
        section("hot_path")
        results["hot_path"] = hot_path.run(10_000 if args.quick else 100_000, repeats)
        (BENCH / "profile-hot-path.txt").write_text(_hot_path_profile())
    if "ingest" in wanted:
        say("2. ingest")
        section("ingest")
        results["ingest"] = ingest.run(client, 20_000 if args.quick else 100_000, repeats)
    if "analyzer" in wanted:
        say("3. analyzer")
        section("analyzer")
        results["analyzer"] = analyzer.trace_scaling(client, sizes, repeats, say=say)
    if "alternatives" in wanted:
        say("3b. scroll-and-pandas, Evidently, NannyML")
        section("alternatives")
        alt = [int(s) for s in args.alternative_sizes.split(",") if int(s) in sizes]
        results["alternatives"] = analyzer.alternatives(client, alt, args.peers_python, say=say)
    if "slices" in wanted:
        say("4. slice search")
        section("slices")
        slice_sizes = [int(s) for s in args.slice_sizes.split(",") if int(s) in sizes]
        results["slices"] = analyzer.slice_search(client, slice_sizes, say=say)
    results["seconds"] = results.get("seconds", 0) * bool(args.only) + (
        time.perf_counter() - started
    )
    write_results(results, markdown(results))
    say(f"wrote {BENCH / 'results.json'} and {BENCH / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
