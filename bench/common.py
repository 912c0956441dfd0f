"""What every benchmark shares: the machine, repeated timing, child-process peaks, loading."""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"


def machine() -> dict[str, Any]:
    import elasticsearch
    import pandas

    from mlmon.stack import ES_VERSION

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "elasticsearch": ES_VERSION,
        "elasticsearch_client": elasticsearch.__versionstr__,
        "pandas": pandas.__version__,
    }


def median_of(runs: int, measure: Callable[[], float]) -> tuple[float, list[float]]:
    values = [measure() for _ in range(runs)]
    return statistics.median(values), values


@dataclass
class ChildRun:
    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


_PEAK_WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_rss_mb": peak, "returncode": done.returncode,
                  "stdout": done.stdout[-4000:], "stderr": done.stderr[-4000:]}))
"""


def installed_env(extra: dict | None = None) -> dict[str, str]:
    """A timed child's environment: mlmon's bytecode cached, as ``pip install`` leaves it.

    This environment sets ``PYTHONDONTWRITEBYTECODE=1``, which charges every start of
    ``mlmon`` with compiling its sources (~0.4 s of a trace at 10^4): not what a user
    waits for. The cache lives in a private prefix; the first run of a tree fills it.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "mlmon-bench-pycache")
    return {**env, **(extra or {})}


def run_child(args: list[str], *, timeout: float = 1800, env: dict | None = None) -> ChildRun:
    """Run a command in a fresh wrapper so its peak RSS is its own, not the largest so far
    (with :func:`installed_env`)."""
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_WRAPPER, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=installed_env(env),
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrapper failed: {done.stderr[-2000:]}")
    return ChildRun(**json.loads(done.stdout))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_results(results: dict[str, Any], markdown: str) -> None:
    (BENCH / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (BENCH / "RESULTS.md").write_text(markdown)


def now() -> float:
    return time.perf_counter()


def splice_section(section: str, path: Path, start: str, end: str) -> None:
    """Put a benchmark's own section (``start`` … ``end`` markers included) in RESULTS.md in
    place of its previous run (appended the first time); the other sections stay."""
    text = path.read_text() if path.exists() else ""
    if start in text and end in text:
        head, rest = text.split(start, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        text = head + section + ("\n" + tail if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)
