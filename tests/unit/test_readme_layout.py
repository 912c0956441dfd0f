"""The README's "Architecture" walk and "Project layout" name files that exist, and the
layout names every top-level module and package, so the map stays the territory."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "mlmon"
README = (ROOT / "README.md").read_text(encoding="utf-8")
MAP = README.split("\n## Architecture", 1)[1].split("\n## Benchmarks", 1)[0]
LAYOUT = MAP.split("\n## Project layout", 1)[1]


def test_every_file_the_walks_and_the_layout_name_exists():
    named = set(re.findall(r"([\w/]*\w+\.py)\b", MAP))
    assert len(named) > 30
    modules = {str(p.relative_to(SRC)) for p in SRC.rglob("*.py")}
    for name in named:
        found = name in modules or any(m.endswith(f"/{name}") for m in modules)
        assert found or (ROOT / name).exists(), name


def test_the_layout_names_every_top_level_module_and_package():
    for entry in SRC.iterdir():
        if entry.is_dir() and not (entry / "__init__.py").exists():
            continue  # __pycache__
        if entry.name in ("__main__.py", "_lazy.py") or entry.suffix not in (".py", ""):
            continue
        shown = entry.name + ("/" if entry.is_dir() else "")
        assert shown in LAYOUT, f"the README's project layout lacks {shown}"
