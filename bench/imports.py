"""Import cost: what a model service pays for `import mlmon` and a logger.

Each case runs in a fresh interpreter, `repeats` times; the figures are
medians of wall time (what a worker process waits) and of CPU time (less
sensitive to a loaded machine), beside a bare interpreter's start in the
same run, with the heavy modules each case left in ``sys.modules``. The
target (issue 16): under 100 ms with none of pandas, numpy, pyarrow, scipy,
elasticsearch loaded. Run: ``python -m bench.imports [--repeats 5]``.

As installed: a ``pip install`` byte-compiles the package, so the children run
with a bytecode cache (a private ``PYTHONPYCACHEPREFIX``, filled by one warm-up
run of each case first). This environment sets ``PYTHONDONTWRITEBYTECODE=1``,
which charges every import with compiling mlmon's sources; that figure is
kept beside it (``from_source_ms``), not the one the target is about.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HEAVY = ("pandas", "numpy", "pyarrow", "scipy", "elasticsearch", "structlog", "rich")
CASES = {
    "bare interpreter": "pass",
    "import mlmon": "import mlmon",
    "stdout logger": (
        "import mlmon\nmlmon.PredictionLogger('bench', 'v1', sink='stdout').close(timeout=0.5)"
    ),
    "fluentd logger": (
        "import mlmon\n"
        "mlmon.PredictionLogger('bench', 'v1', sink='fluentd://127.0.0.1:9').close(timeout=0.5)"
    ),
}
REPORT = f"\nimport json, sys\nprint(json.dumps(sorted(set(sys.modules) & {set(HEAVY)!r})))"


def _once(code: str, env: dict[str, str]) -> tuple[float, float, list[str]]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code + REPORT], capture_output=True, text=True, check=True, env=env
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, json.loads(done.stdout.splitlines()[-1])


def run(repeats: int = 5) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="mlmon-pycache-") as cache:
        compiled = {**os.environ, "PYTHONPYCACHEPREFIX": cache}
        compiled.pop("PYTHONDONTWRITEBYTECODE", None)
        source = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        for code in CASES.values():
            _once(code, compiled)  # fills the cache, as an install would
        for name, code in CASES.items():
            runs, uncached = [], []
            for _ in range(repeats):  # interleaved, so drifting load hits both alike
                runs.append(_once(code, compiled))
                uncached.append(_once(code, source))
            out[name] = {
                "wall_ms": statistics.median(r[0] for r in runs) * 1000,
                "cpu_ms": statistics.median(r[1] for r in runs) * 1000,
                "from_source_ms": statistics.median(r[0] for r in uncached) * 1000,
                "heavy_loaded": runs[-1][2],
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    figures = run(parser.parse_args().repeats)
    for name, f in figures.items():
        heavy = ", ".join(f["heavy_loaded"]) or "none"  # type: ignore[arg-type]
        print(
            f"{name:18} wall {f['wall_ms']:6.0f} ms  CPU {f['cpu_ms']:6.0f} ms  "
            f"(compiling from source {f['from_source_ms']:4.0f} ms)  heavy: {heavy}"
        )


if __name__ == "__main__":
    main()
