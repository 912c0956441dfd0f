"""Baseline profiles: what production traffic is tagged against and compared with."""

from mlmon.baseline.profile import BucketPerformance, FeatureProfile, Profile, build_profile
from mlmon.baseline.reader import read_table

__all__ = ["BucketPerformance", "FeatureProfile", "Profile", "build_profile", "read_table"]
