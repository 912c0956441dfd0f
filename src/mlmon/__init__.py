"""mlmon: ML observability on the Elastic stack.

The SDK is one import away (``from mlmon import PredictionLogger``); the
CLI is ``mlmon``. Importing mlmon has no side effects.
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

__version__ = "0.2.0"

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
