"""Minimal explanations: report a slice only for the drop that is its own.

A slice S is reported only if its drop stays significant once two kinds of
rows are removed from it (negative filters on both backends):

- the slices already reported, so a shadow of an earlier cause (the crosses
  that are mostly ``scammeds.com`` again) does not fill the list;
- the significant slices that overlap S and are distinctly worse than it
  (their drop is 1.5 × S's and ``min_change`` more), or that lie inside S,
  carry 80 % of its impact and are ``min_change`` worse: the concentrated
  causes a broad slice merely contains. A numeric bin holding 85 % of traffic that
  holds two incidents is left with nothing once they are out.

Slices are then ranked by the impact of what remains (share × change of the
residual against the same rows' baseline), picked greedily: after each pick
the others are re-measured without it. Residual impacts only shrink as more
is removed, so a stale score is an upper bound and only the leader needs
re-measuring (lazy greedy). Significance is corrected for the same family as
the search (every slice scored). A pick is never broader than a concentrated
cause inside it: breadth alone never wins.

The baseline side: a window or version baseline answers the same negative
filters; a registered profile cannot, so the residual's baseline is the
slice's baseline minus the cross cells the profile holds for S ∧ R (cells
it does not hold, and crosses of more than three features, count as empty).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Protocol

from mlmon.analysis.dimensions import Dimension, SliceKey
from mlmon.analysis.metrics import (
    Stats,
    change_pvalue,
    degradation,
    material_degradation,
    metric_value,
    sample_size,
)
from mlmon.analysis.source import BucketRequest

Fetch = Callable[[Sequence[BucketRequest]], tuple[list, list]]
Inside = Callable[[SliceKey, SliceKey], bool]
#: Profiles keep crosses of up to this many features.
PROFILE_CROSS_DEPTH = 3
#: A slice is a concentrated cause inside S when its drop is this many times S's (and
#: ``min_change`` more): a piece of a uniform drop is not, however noisy.
CONCENTRATED = 1.5
#: Leaders re-measured together when the top of the queue is stale.
REMEASURE_BATCH = 4


@dataclass(frozen=True)
class Residual:
    """A slice without the rows other slices explain."""

    excluded: tuple[SliceKey, ...]
    current: Stats
    baseline: Stats
    metric_current: float
    metric_baseline: float
    impact: float
    p_value: float
    significant: bool


class Candidate(Protocol):
    """What the selection reads of a scored slice (slices.ScoredSlice has it)."""

    key: SliceKey
    current: Stats
    baseline: Stats | None
    metric_current: float
    metric_baseline: float
    impact: float
    significant: bool
    baseline_from: str


@dataclass(frozen=True)
class Selection:
    reported: list[tuple[SliceKey, Residual]]  # in order
    explained: dict[SliceKey, SliceKey]  # dropped slice → the slice that explains it
    requests: int


def select(
    candidates: Sequence[Candidate],
    dimensions: Sequence[Dimension],
    fetch: Fetch,
    *,
    overall_current: Stats,
    overall_baseline: Stats,
    metric: str,
    min_change: float,
    min_support: int,
    alpha: float,
    family: int,
    top_k: int,
    inside: Inside = lambda narrow, broad: set(broad) < set(narrow),
    explained_share: float = 0.8,
) -> Selection:
    """Greedy residual ranking of the significant candidates (see module docstring).

    ``inside(narrow, broad)``: whether one slice's rows lie within another's (by
    key, or by a cross the search counted).
    """
    by_name = {d.name: d for d in dimensions}
    pool = [c for c in candidates if c.significant]
    change = _changes(pool, metric)
    causes = {
        c.key: _concentrated(c, pool, change, min_change, inside, explained_share) for c in pool
    }
    support = sample_size(overall_current, metric) or 1.0
    requests = 0

    def measure(group: Sequence[Candidate], reported: Sequence[SliceKey]) -> dict:
        nonlocal requests
        excluded = {c.key: _outermost([*reported, *causes[c.key]]) for c in group}
        own = [_request(c.key, excluded[c.key], by_name) for c in group]
        now, before = fetch(own)
        requests += len(own)
        missing = [c for c, answer in zip(group, before, strict=True) if answer is None]
        cells = _profile_cells(missing, excluded, by_name, fetch)
        requests += len(cells)
        out = {}
        for c, answer_now, answer_before in zip(group, now, before, strict=True):
            stats_now = (answer_now or {}).get(c.key, Stats())
            reference = c.baseline if c.baseline is not None else overall_baseline
            if c.baseline_from != "slice":
                stats_before = reference  # held to a parent or the overall: nothing to remove
            elif answer_before is not None:
                stats_before = answer_before.get(c.key) or reference
            else:
                stats_before = _minus_cells(reference, c.key, excluded[c.key], cells)
            out[c.key] = _residual(
                excluded[c.key], stats_now, stats_before, support, metric, settings
            )
        return out

    settings = (min_change, min_support, alpha, family)
    scores = measure(pool, ())
    fresh = {c.key: 0 for c in pool}  # how many picks each score has seen
    reported: list[tuple[SliceKey, Residual]] = []
    explained: dict[SliceKey, SliceKey] = {}
    alive = list(pool)
    while alive and len(reported) < top_k:
        dead = [c for c in alive if not scores[c.key].significant]
        for c in dead:
            explained[c.key] = _blame(c, scores[c.key], reported, causes)
        alive = [c for c in alive if scores[c.key].significant]
        if not alive:
            break
        alive.sort(key=lambda c: (-scores[c.key].impact, len(c.key), c.key))
        if fresh[alive[0].key] < len(reported):
            stale = [c for c in alive[:REMEASURE_BATCH] if fresh[c.key] < len(reported)]
            scores.update(measure(stale, [k for k, _ in reported]))
            fresh.update({c.key: len(reported) for c in stale})
            continue
        best = alive.pop(0)
        reported.append((best.key, scores[best.key]))
    return Selection(reported=reported, explained=explained, requests=requests)


def containment_questions(
    candidates: Sequence[Candidate], metric: str, min_change: float, explained_share: float
) -> set[tuple[SliceKey, SliceKey]]:
    """The (narrow, broad) pairs whose containment decides a fold in :func:`select`: a
    caller whose counts are estimates makes them exact before selecting."""
    pool = [c for c in candidates if c.significant]
    change = _changes(pool, metric)
    return {
        (other.key, s.key)
        for s in pool
        for other, worse, may_carry in _rivals(s, pool, change, min_change, explained_share)
        if may_carry and not worse
    }


def _changes(pool: Sequence[Candidate], metric: str) -> dict[SliceKey, float]:
    return {c.key: material_degradation(c.metric_baseline, c.metric_current, metric) for c in pool}


def _concentrated(
    s: Candidate,
    pool: Sequence[Candidate],
    change: dict[SliceKey, float],
    min_change: float,
    inside: Inside,
    explained_share: float,
) -> tuple[SliceKey, ...]:
    """Significant slices that may overlap S, are not broader than it, and are clearly worse,
    or that lie inside S and carry most of its impact (``scammeds.com`` in ``pharmacy ∧ CA``)."""
    return tuple(
        other.key
        for other, worse, may_carry in _rivals(s, pool, change, min_change, explained_share)
        if worse or (may_carry and inside(other.key, s.key))
    )


def _rivals(
    s: Candidate,
    pool: Sequence[Candidate],
    change: dict[SliceKey, float],
    min_change: float,
    explained_share: float,
) -> Iterator[tuple[Candidate, bool, bool]]:
    """Each slice that may overlap S and is not broader than it, with whether it is
    distinctly worse, and whether it would carry S's drop if it lay inside S."""
    mine = dict(s.key)
    for other in pool:
        if other.key == s.key or set(other.key) <= set(s.key):
            continue  # itself, or broader than S (removing it would remove S)
        if any(name in mine and mine[name] != bucket for name, bucket in other.key):
            continue  # same feature, another bucket: disjoint
        mine_change, theirs = change[s.key], change[other.key]
        clearly = theirs - mine_change >= min_change
        worse = clearly and theirs >= CONCENTRATED * mine_change
        may_carry = (  # a piece as bad as S itself is not its cause: S is the simpler slice
            clearly
            and other.impact >= explained_share * s.impact > 0
            and other.current.n < s.current.n
        )
        yield other, worse, may_carry


def _outermost(keys: Sequence[SliceKey]) -> tuple[SliceKey, ...]:
    """The slices to remove, without those inside another one (``pub-01 ∧ mobile`` goes with
    ``pub-01``): fewer filters, and a profile's cells are not subtracted twice."""
    unique = list(dict.fromkeys(keys))
    return tuple(k for k in unique if not any(o != k and set(o) < set(k) for o in unique))


def _request(
    key: SliceKey, excluded: Sequence[SliceKey], by_name: dict[str, Dimension]
) -> BucketRequest:
    return BucketRequest(
        tuple(by_name[name] for name, _ in key),
        tuple(frozenset((bucket,)) for _, bucket in key),
        exclude=tuple(tuple((by_name[n], b) for n, b in other) for other in excluded),
    )


def intersection(a: SliceKey, b: SliceKey) -> SliceKey | None:
    """The slice a ∧ b, or None when they are disjoint (one feature, two buckets)."""
    merged = dict(a)
    for name, bucket in b:
        if merged.get(name, bucket) != bucket:
            return None
        merged[name] = bucket
    return tuple(sorted(merged.items()))


def _profile_cells(
    group: Sequence[Candidate],
    excluded: dict[SliceKey, tuple[SliceKey, ...]],
    by_name: dict[str, Dimension],
    fetch: Fetch,
) -> dict[SliceKey, Stats]:
    """Baseline stats of every S ∧ R a profile can answer (crosses of up to three features)."""
    wanted = {
        cell
        for c in group
        for other in excluded[c.key]
        if (cell := intersection(c.key, other)) is not None
        and cell != c.key
        and len(cell) <= PROFILE_CROSS_DEPTH
    }
    if not wanted:
        return {}
    cells = sorted(wanted)
    plain = [
        BucketRequest(tuple(by_name[n] for n, _ in cell), tuple(frozenset((b,)) for _, b in cell))
        for cell in cells
    ]
    _, before = fetch(plain)
    return {
        cell: (answer or {}).get(cell, Stats())
        for cell, answer in zip(cells, before, strict=True)
        if answer is not None
    }


def _minus_cells(
    base: Stats, key: SliceKey, excluded: Sequence[SliceKey], cells: dict[SliceKey, Stats]
) -> Stats:
    """The slice's baseline without its overlap with each excluded slice, clipped at zero."""
    for other in excluded:
        cell = intersection(key, other)
        if cell is not None and cell in cells:
            base = base - cells[cell]
    return Stats(*(max(getattr(base, f.name), 0.0) for f in fields(Stats)))


def _residual(
    excluded: tuple[SliceKey, ...],
    now: Stats,
    before: Stats,
    support: float,
    metric: str,
    settings: tuple[float, int, float, int],
) -> Residual:
    min_change, min_support, alpha, family = settings
    metric_now, metric_before = metric_value(now, metric), metric_value(before, metric)
    change = degradation(metric_before, metric_now, metric)
    share = sample_size(now, metric) / support
    impact = share * change if math.isfinite(change) else 0.0
    enough = sample_size(now, metric) >= min_support and sample_size(before, metric) > 0
    p_value = change_pvalue(now, before, metric) if enough else 1.0
    significant = (
        enough
        and math.isfinite(change)
        and material_degradation(metric_before, metric_now, metric) >= min_change
        and min(1.0, p_value * family) < alpha
    )
    return Residual(
        excluded=excluded,
        current=now,
        baseline=before,
        metric_current=metric_now,
        metric_baseline=metric_before,
        impact=impact,
        p_value=p_value,
        significant=significant,
    )


def _blame(
    c: Candidate,
    residual: Residual,
    reported: Sequence[tuple[SliceKey, Residual]],
    causes: dict[SliceKey, tuple[SliceKey, ...]],
) -> SliceKey:
    """The slice that explains a dropped one: a reported slice it is a piece of, else a
    concentrated cause inside it (reported ones first), else the first slice removed."""
    shown = [key for key, _ in reported]
    for key in shown:
        if set(key) <= set(c.key):
            return key
    inside = causes[c.key]
    order = [*(k for k in inside if k in shown), *inside, *shown, *residual.excluded]
    return order[0] if order else c.key
