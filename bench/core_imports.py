"""Import cost of the core modules (issue 19): schema, profile values, tagging, analysis.

Each module is imported in a fresh interpreter, ``--repeats`` times, with a warm
bytecode cache (a private ``PYTHONPYCACHEPREFIX``, filled by a first run); the
figures are the median wall and CPU time of the child and the heavy modules it
left in ``sys.modules``. ``--tree`` measures another checkout's ``src`` (an older
commit in a git worktree) side by side with this one: a module renamed since is
found under either name.

    python -m bench.core_imports --tree /tmp/before   # before beside this tree
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
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.common import splice_section

HEAVY = ("pandas", "numpy", "pyarrow", "scipy", "elasticsearch", "structlog", "rich")
#: Each core module by role, under the names it has had (first found is measured).
CORE = {
    "mlmon": ("mlmon",),
    "errors": ("mlmon.errors",),
    "schema.event": ("mlmon.schema.event",),
    "schema.document": ("mlmon.schema.document",),
    "baseline.profile": ("mlmon.baseline.profile",),
    "tagging": ("mlmon._tagging", "mlmon.tagging"),
    "analysis.stats": ("mlmon.analysis.stats",),
    "analysis.metrics": ("mlmon.analysis.metrics",),
    "analysis.source": ("mlmon.analysis.source",),
    "analysis.drift": ("mlmon.analysis.drift",),
    "analysis.slices": ("mlmon.analysis.slices",),
    "analysis.rootcause": ("mlmon.analysis.rootcause",),
    "analysis.trace": ("mlmon.analysis.trace",),
}
PROBE = """
import json, sys, time
t0 = time.perf_counter()
import {module}
wall = time.perf_counter() - t0
print(json.dumps({{"wall": wall, "heavy": sorted(set(sys.modules) & set({heavy!r}))}}))
"""


@dataclass(frozen=True)
class Figure:
    role: str
    module: str
    import_ms: float  # median, the import statement alone
    process_ms: float  # median, the whole child process (interpreter start included)
    heavy: tuple[str, ...]


def revision(tree: Path) -> str:
    """The checkout's commit, so the table says what "before" was."""
    done = subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return done.stdout.strip() or "not a git checkout"


def find(src: Path, names: tuple[str, ...]) -> str | None:
    for name in names:
        parts = name.split(".")
        base = src.joinpath(*parts)
        if base.with_suffix(".py").exists() or (base / "__init__.py").exists():
            return name
    return None


def measure(src: Path, role: str, module: str, repeats: int, cache: str) -> Figure:
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONPYCACHEPREFIX": cache}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    code = PROBE.format(module=module, heavy=HEAVY)
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    inner, outer, heavy = [], [], ()
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
        )
        outer.append(time.perf_counter() - start)
        answer = json.loads(done.stdout.strip().splitlines()[-1])
        inner.append(answer["wall"])
        heavy = tuple(answer["heavy"])
    return Figure(
        role,
        module,
        round(statistics.median(inner) * 1000, 1),
        round(statistics.median(outer) * 1000, 1),
        heavy,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, help="An older checkout, measured before this one.")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, default=Path(__file__).with_name("core_imports.json"))
    args = parser.parse_args(argv)
    here = Path(__file__).resolve().parents[1] / "src"
    trees = {
        **({f"before ({revision(args.tree)})": args.tree / "src"} if args.tree else {}),
        f"now ({revision(here)})": here,
    }
    figures: dict[str, list[dict]] = {label: [] for label in trees}
    with tempfile.TemporaryDirectory() as cache_root:
        for role, names in CORE.items():
            row = [role]
            for label, src in trees.items():
                module = find(src, names)
                if module is None:
                    row.append("(absent)")
                    continue
                figure = measure(src, role, module, args.repeats, f"{cache_root}/{label}")
                figures[label].append(asdict(figure))
                heavy = ",".join(figure.heavy) or "none"
                row.append(f"{figure.import_ms:7.1f} ms  heavy: {heavy}")
            print("  ".join(row), flush=True)
    load = os.getloadavg()[0]
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = {
        "load_1min": round(load, 2),
        "children_cpu_s": round(cpu.ru_utime + cpu.ru_stime, 1),
        "trees": {label: str(src) for label, src in trees.items()},
        "figures": figures,
    }
    args.json.write_text(json.dumps(out, indent=1) + "\n")
    splice_section(section(figures, load), RESULTS, START, END)
    return 0


START, END = "<!-- bench.core_imports: start -->", "<!-- bench.core_imports: end -->"
RESULTS = Path(__file__).with_name("RESULTS.md")


def section(figures: dict[str, list[dict]], load: float) -> str:
    """The RESULTS.md table: each role's import time and heavy modules, tree beside tree."""
    labels = list(figures)
    by_role = {label: {f["role"]: f for f in rows} for label, rows in figures.items()}
    head = " | ".join(f"{label}: ms | {label}: heavy modules" for label in labels)
    lines = [
        START,
        "## Import cost of the core modules (issue 19)",
        "",
        "`python -m bench.core_imports --tree <older checkout>`: each module imported in a "
        "fresh interpreter with a warm bytecode cache, median of the `import` statement's wall "
        f"time; load average {load:.1f} on this shared 2-core machine. Target: the core needs "
        "nothing heavier than the standard library (numpy/scipy where the math needs it).",
        "",
        f"| module | {head} |",
        "|---" * (1 + 2 * len(labels)) + "|",
    ]
    for role in CORE:
        cells = []
        for label in labels:
            figure = by_role[label].get(role)
            cells += (
                [f"{figure['import_ms']:.1f}", ", ".join(figure["heavy"]) or "none"]
                if figure
                else ["—", "(absent)"]
            )
        lines.append(f"| {role} | " + " | ".join(cells) + " |")
    return "\n".join([*lines, END, ""])


if __name__ == "__main__":
    sys.exit(main())
