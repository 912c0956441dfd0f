"""Names a module exports but imports on first use (PEP 562): one helper for each package."""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_names(
    module: str, where: dict[str, str], namespace: dict[str, object]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``module``: a name of ``where`` is imported from
    the module it maps to when first asked for, then kept in ``namespace``."""

    def __getattr__(name: str) -> object:
        source = where.get(name)
        if source is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(source), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *where})

    return __getattr__, __dir__
