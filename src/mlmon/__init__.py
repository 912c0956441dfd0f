"""mlmon: ML observability on the Elastic stack.

The SDK is one import away (``from mlmon import PredictionLogger``); the
CLI is ``mlmon``. Importing mlmon has no side effects and loads nothing heavy:
no pandas, numpy, pyarrow, scipy or Elasticsearch client (tests/unit/test_imports.py).
"""

from mlmon.errors import (
    ClusterError,
    ClusterFeatureMissing,
    ClusterUnavailable,
    InvalidEventError,
    MlmonError,
    ProfileError,
    UsageError,
)
from mlmon.sdk import PredictionLogger


def __getattr__(name: str) -> str:
    """``mlmon.__version__``: the installed distribution's, from pyproject.toml (written
    only there), read on first use because importlib.metadata is slow to import."""
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
