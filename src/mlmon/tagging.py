"""The one tagging function: an event's data-quality problems against its model's profile.

Used by the SDK (in its background thread, off the hot path), by
``mlmon ingest`` and by ``mlmon tag``, so an event gets the same tags
whichever way it arrives. Pure; rules are compiled once per profile.

For each feature the profile expects, exactly one of: fine, ``missing``
(None, NaN or absent), ``unseen`` (a category outside a complete
vocabulary), ``out_of_range`` (a number below the baseline minimum or above
its maximum; the bounds themselves are in range) or ``invalid`` (a string
that is not a number sent to a numeric feature). Features the profile does
not know are listed as ``unexpected``. Lists follow the profile's feature
order (then event order for ``unexpected``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


def _as_keyword(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


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
            key = value if isinstance(value, str) else _as_keyword(float(value))
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


__all__ = ["TaggingRules", "compile_rules", "tag_event"]
