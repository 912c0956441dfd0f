"""Baseline profiles: what production traffic is tagged against and compared with.

The values (:class:`Profile` and its parts) need only the standard library;
``build_profile`` and ``read_table`` need pandas and pyarrow, so they are
imported on first use: ``from mlmon.baseline import Profile`` stays light.

Internal to mlmon: no compatibility promise between releases. The public API is
``mlmon``, ``mlmon.sdk`` (and its processors, sinks), ``mlmon.errors``, ``mlmon.testing``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlmon.baseline.profile import BucketPerformance, FeatureProfile, Profile, read_profile_file

if TYPE_CHECKING:
    from mlmon.baseline.build import build_profile
    from mlmon.baseline.reader import read_table

_HEAVY = {"build_profile": "mlmon.baseline.build", "read_table": "mlmon.baseline.reader"}


def __getattr__(name: str) -> Any:
    if name in _HEAVY:
        from importlib import import_module

        return getattr(import_module(_HEAVY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BucketPerformance",
    "FeatureProfile",
    "Profile",
    "build_profile",
    "read_profile_file",
    "read_table",
]
