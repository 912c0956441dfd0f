"""The one tagging function: an event's data-quality problems against its model's profile.

Used by the SDK (in its background thread, off the hot path), by
``mlmon ingest``, ``mlmon tag`` and the file source, all through
:mod:`mlmon.prepare`, so an event gets the same tags whichever way it
arrives. Pure; rules are compiled once per profile and held by the one
:class:`RulesCache`.

For each feature the profile expects, exactly one of: fine, ``missing``
(None, NaN or absent), ``unseen`` (a category outside a complete
vocabulary), ``out_of_range`` (a number below the baseline minimum or above
its maximum; the bounds themselves are in range) or ``invalid`` (a string
that is not a number sent to a numeric feature). Features the profile does
not know are listed as ``unexpected``. Lists follow the profile's feature
order (then event order for ``unexpected``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlmon.schema.event import as_keyword

if TYPE_CHECKING:
    from mlmon.baseline.profile import Profile

_KINDS = ("missing", "unseen", "out_of_range", "invalid", "unexpected")


@dataclass(frozen=True)
class TaggingRules:
    profile_id: str
    #: (name, vocabulary or None, (low, high) or None) in profile order; a vocabulary for a
    #: categorical feature with a complete vocabulary, a range for a numeric one.
    checks: tuple[tuple[str, frozenset[str] | None, tuple[float, float] | None, bool], ...]
    expected: frozenset[str]


def compile_rules(profile: Profile) -> TaggingRules:
    checks = []
    for name, feature in profile.features.items():
        if feature.kind == "numeric":
            bounds = (
                (feature.minimum, feature.maximum)
                if feature.minimum is not None and feature.maximum is not None
                else None
            )
            checks.append((name, None, bounds, True))
        else:
            vocabulary = (
                frozenset(feature.vocabulary or ()) if feature.vocabulary_complete else None
            )
            checks.append((name, vocabulary, None, False))
    return TaggingRules(
        profile_id=profile.profile_id, checks=tuple(checks), expected=frozenset(profile.features)
    )


def tag_event(doc: dict[str, Any], rules: TaggingRules) -> dict[str, Any]:
    """Set ``doc["quality"]`` (replacing any earlier one), return ``doc``; actuals pass."""
    if doc.get("event", {}).get("kind", "prediction") != "prediction":
        return doc
    features = doc.get("features") or {}
    missing: list[str] = []
    unseen: list[str] = []
    out_of_range: list[str] = []
    invalid: list[str] = []
    for name, vocabulary, bounds, numeric in rules.checks:
        value = features.get(name)
        if value is None:
            missing.append(name)
        elif numeric:
            if isinstance(value, str):
                try:
                    value = float(value)
                except ValueError:
                    invalid.append(name)
                    continue
                if value != value:  # "NaN"
                    invalid.append(name)
                    continue
            if bounds is not None and not bounds[0] <= value <= bounds[1]:
                out_of_range.append(name)
        elif vocabulary is not None:
            key = value if isinstance(value, str) else as_keyword(value)
            if key is not value:
                # The profile holds it as a category: index it as one (a keyword),
                # so its buckets read 94107 as the profile does, not 94107.0.
                features[name] = key
            if key not in vocabulary:
                unseen.append(name)
    unexpected = [name for name in features if name not in rules.expected]
    doc["quality"] = {
        "missing": missing,
        "unseen": unseen,
        "out_of_range": out_of_range,
        "invalid": invalid,
        "unexpected": unexpected,
        "missing_count": len(missing),
        "unseen_count": len(unseen),
        "out_of_range_count": len(out_of_range),
        "invalid_count": len(invalid),
        "unexpected_count": len(unexpected),
        "profile": rules.profile_id,
    }
    return doc


#: Finds the profile to tag a model version's events against; None when there is none.
ProfileLoader = Callable[[str, str | None], "Profile | None"]


class RulesCache:
    """Tagging rules per (model, version), each profile loaded and compiled once.

    With a fixed ``profile`` every event is tagged against it. Otherwise
    ``load(model, version)`` finds the profile on first need; with
    ``refresh_seconds`` it is looked up again after that long (a profile
    found replaces the rules held, none found keeps them). A failed load
    raises, or with ``on_error`` is reported and keeps the rules held, to
    be tried again after ``refresh_seconds``.
    """

    def __init__(
        self,
        load: ProfileLoader | None = None,
        *,
        profile: Profile | None = None,
        refresh_seconds: float | None = None,
        on_error: Callable[[Exception], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._fixed = compile_rules(profile) if profile is not None else None
        self._static = profile is not None or load is None
        self._refresh = refresh_seconds
        self._on_error = on_error
        self._clock = clock
        #: (model, version) → (rules or None, when to look again)
        self._entries: dict[tuple[str, str | None], tuple[TaggingRules | None, float]] = {}

    def get(self, model: str, version: str | None) -> TaggingRules | None:
        if self._static:
            return self._fixed
        key = (model, version)
        entry = self._entries.get(key)
        if entry is not None and (self._refresh is None or self._clock() < entry[1]):
            return entry[0]
        held = entry[0] if entry is not None else None
        expires = self._clock() + self._refresh if self._refresh is not None else 0.0
        self._entries[key] = (held, expires)  # a failing load is not retried on every event
        assert self._load is not None
        try:
            profile = self._load(model, version)
            rules = compile_rules(profile) if profile is not None else held
        except Exception as exc:
            if self._on_error is None:
                del self._entries[key]
                raise
            self._on_error(exc)  # e.g. an unreachable cluster: keep the rules held
            return held
        self._entries[key] = (rules, expires)
        return rules


__all__ = ["ProfileLoader", "RulesCache", "TaggingRules", "compile_rules", "tag_event"]
