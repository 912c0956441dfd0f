"""The logger's tagging rules: a profile given (object or JSON file) or the registered one.

The profile reader and the Elasticsearch client are imported only when a logger needs them.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from mlmon._tagging import RulesCache
from mlmon.sdk._stats import Counters

if TYPE_CHECKING:
    from mlmon.es.settings import ConnectionSettings


def given_profile(profile: Any) -> Any:
    """A profile object as given, or read from its JSON file (a path)."""
    if isinstance(profile, (str, os.PathLike)):
        from mlmon.baseline.profile import read_profile_file

        return read_profile_file(profile)
    return profile


def rules_cache(
    profile: Any,
    *,
    profile_name: str | None,
    settings: ConnectionSettings | None,
    refresh_seconds: float,
    counters: Counters,
) -> RulesCache:
    """The logger's rules: a given profile (object or JSON file), or the registered one,
    looked up in the worker thread every ``refresh_seconds``; a failed lookup is counted."""
    profile = given_profile(profile)
    if profile is not None:
        return RulesCache(profile=profile)

    def load(model: str, version: str | None) -> Any:
        from mlmon.baseline.store import connecting_loader  # the client only when it is needed

        return connecting_loader(settings, name=profile_name)(model, version)

    def on_error(exc: Exception) -> None:  # unreachable cluster: keep the rules, try later
        counters.add(profile_load_errors=1)
        counters.note_error(f"profile load: {exc}")

    return RulesCache(load, refresh_seconds=refresh_seconds, on_error=on_error)
