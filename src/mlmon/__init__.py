"""mlmon: ML observability on the Elastic stack.

The SDK is one import away (``from mlmon import PredictionLogger``); the
CLI is ``mlmon``. Importing mlmon has no side effects and loads nothing heavy:
no pandas, numpy, pyarrow, scipy or Elasticsearch client (tests/unit/test_imports.py).

The public API is this package, :mod:`mlmon.sdk` (with its ``processors`` and
``sinks``), :mod:`mlmon.errors` and :mod:`mlmon.testing`. Every other module is
mlmon's own (``_name`` modules, and packages whose docstring says "Internal"),
free to change between releases.
"""

import typing

from mlmon.errors import (
    ClusterError,
    ClusterFeatureMissing,
    ClusterUnavailable,
    InvalidEventError,
    MlmonError,
    ProfileError,
    UsageError,
)

if typing.TYPE_CHECKING:
    from mlmon.sdk._logger import PredictionLogger


def __getattr__(name: str) -> object:
    """``mlmon.__version__``: the installed distribution's, from pyproject.toml (written
    only there), read on first use because importlib.metadata is slow to import.
    ``mlmon.PredictionLogger``: imported on first use, so a process that imports mlmon
    pays for the logger (and only its own sink) when it makes one."""
    if name == "PredictionLogger":
        from mlmon.sdk._logger import PredictionLogger

        globals()[name] = PredictionLogger
        return PredictionLogger
    if name == "__version__":
        from importlib.metadata import version

        return version("mlmon")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ClusterError",
    "ClusterFeatureMissing",
    "ClusterUnavailable",
    "InvalidEventError",
    "MlmonError",
    "PredictionLogger",
    "ProfileError",
    "UsageError",
    "__version__",
]
