"""The one tagging function: an event's data-quality problems against its model's profile.

Used by the SDK (in its background thread, off the hot path), by
``mlmon ingest``, ``mlmon tag`` and the file source, all through
:mod:`mlmon._prepare`, so an event gets the same tags whichever way it
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
from itertools import repeat
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


def _judge(
    value: Any, vocabulary: frozenset[str] | None, bounds: tuple[float, float] | None, numeric: bool
) -> tuple[str | None, str | None]:
    """One value of one expected feature: its problem (None: fine), and for a category held
    as a non-string, the keyword to index it as (else None)."""
    if value is None:
        return "missing", None
    if numeric:
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                return "invalid", None
            if value != value:  # "NaN"
                return "invalid", None
        if bounds is not None and not bounds[0] <= value <= bounds[1]:
            return "out_of_range", None
        return None, None
    if vocabulary is not None:
        key = value if isinstance(value, str) else as_keyword(value)
        # The profile holds it as a category: index it as one (a keyword), so its
        # buckets read 94107 as the profile does, not 94107.0.
        return ("unseen" if key not in vocabulary else None), (key if key is not value else None)
    return None, None


_FLOAT, _TEXT = {float}, {str}


def _suspects(
    values: list[Any],
    vocabulary: frozenset[str] | None,
    bounds: tuple[float, float] | None,
    numeric: bool,
) -> list[int]:
    """Positions in one feature's column that :func:`_judge` must see: every problem and
    every keyword to write back is among them; an all-fine column is ruled out in C loops."""
    kinds = set(map(type, values))
    if numeric:
        if bounds is None:
            if kinds == _FLOAT:
                return []
            return [i for i, v in enumerate(values) if type(v) is not float]
        low, high = bounds
        if kinds == _FLOAT:
            total = sum(values)  # NaN here if any value is NaN (min and max can skip one)
            if total == total and low <= min(values) and max(values) <= high:
                return []
        return [i for i, v in enumerate(values) if type(v) is not float or not low <= v <= high]
    if vocabulary is not None:
        if kinds == _TEXT and vocabulary.issuperset(values):
            return []
        return [i for i, v in enumerate(values) if type(v) is not str or v not in vocabulary]
    return [i for i, v in enumerate(values) if v is None] if None in values else []


def tag_events(docs: list[dict[str, Any]], rules: TaggingRules) -> list[dict[str, Any]]:
    """Set each prediction's ``quality`` (replacing any earlier one); actuals pass.

    A batch at a time, column by column: each expected feature's values are read out of
    the whole batch once and checked in C where all are fine, so an event costs a
    fraction of judging its features one by one; what a lone event gets is the same
    (:func:`tag_event` is a batch of one).
    """
    predictions = [d for d in docs if d.get("event", {}).get("kind", "prediction") == "prediction"]
    features = [d.get("features") or {} for d in predictions]
    problems: dict[int, tuple[list[str], list[str], list[str], list[str]]] = {}
    plain = all(type(f) is dict for f in features)
    for name, vocabulary, bounds, numeric in rules.checks:
        if plain:
            values = list(map(dict.get, features, repeat(name)))
        else:
            values = [f.get(name) for f in features]
        for i in _suspects(values, vocabulary, bounds, numeric):
            problem, keyword = _judge(values[i], vocabulary, bounds, numeric)
            if keyword is not None:
                features[i][name] = keyword
            if problem is not None:
                found = problems.get(i)
                if found is None:
                    found = problems[i] = ([], [], [], [])
                found[_SLOT[problem]].append(name)
    expected, profile_id = rules.expected, rules.profile_id
    for i, doc in enumerate(predictions):
        present = features[i]
        if expected.issuperset(present):
            unexpected = []
        else:
            unexpected = [n for n in present if n not in expected]
        found = problems.get(i)
        if found is None:  # most events: nothing to count but what the profile does not know
            doc["quality"] = {
                "missing": [],
                "unseen": [],
                "out_of_range": [],
                "invalid": [],
                "unexpected": unexpected,
                "missing_count": 0,
                "unseen_count": 0,
                "out_of_range_count": 0,
                "invalid_count": 0,
                "unexpected_count": len(unexpected),
                "profile": profile_id,
            }
            continue
        missing, unseen, out_of_range, invalid = found
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
            "profile": profile_id,
        }
    return docs


_SLOT = {"missing": 0, "unseen": 1, "out_of_range": 2, "invalid": 3}


def tag_event(doc: dict[str, Any], rules: TaggingRules) -> dict[str, Any]:
    """Set ``doc["quality"]`` (replacing any earlier one), return ``doc``; actuals pass."""
    tag_events([doc], rules)
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


__all__ = [
    "ProfileLoader",
    "RulesCache",
    "TaggingRules",
    "compile_rules",
    "tag_event",
    "tag_events",
]
