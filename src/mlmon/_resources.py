"""Find the repository's ``pipelines/`` folder, installed or in a checkout.

A wheel carries it as ``mlmon/_pipelines`` (see pyproject); an editable
install or a source checkout reads it from the repository root.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def pipelines_dir() -> Path:
    for candidate in (_PACKAGE / "_pipelines", _PACKAGE.parents[1] / "pipelines"):
        if (candidate / "elasticsearch").is_dir():
            return candidate
    raise FileNotFoundError("mlmon's pipelines/ folder is missing from this installation")
