"""Slices ranked by the part of the drop they explain, found with a pruned search.

Scores (ARCHITECTURE, Analyzer): for a slice S of the current window,

- ``impact`` = share(S) × degradation(metric_baseline(S) → metric_current(S)):
  what *changed*, so a slice that was always hard does not top healthy
  traffic; a slice absent from the baseline is held to the baseline overall;
- ``arize`` = degradation(metric(window without S) → metric(window)): how
  much the whole would improve if S behaved like the rest.

A slice is *called* when its change is large enough, it has the minimum
support, and its p-value survives a Bonferroni correction for every slice
scored. Crosses of 2 and 3 dimensions are searched level by level with the
SliceLine rules: a cross is only built from parents that have the minimum
support and whose upper bound on impact (``loss_mass / N``, which can only
shrink as a slice narrows) reaches the running top-K threshold, so the
pruned search returns exactly the top-K of exhaustive enumeration
(``SearchResult.top``).

Then, for the reader, minimal explanations (:mod:`mlmon.analysis.residual`):
a significant slice is reported only if its drop stays significant once the
slices already reported, and the distinctly worse significant slices that
overlap it, are removed from it; the reported slices are ranked by what is
left. A cross the baseline cannot answer for (a profile keeps crosses with
≥ 10 labelled rows) is held to its weakest parent's baseline; a single
slice absent from the baseline, to the overall.

A slice's own scores are :mod:`mlmon.analysis.slice_score`; above
``sample_above`` rows the crosses are estimated on a sample and the leaders
counted again exactly (:mod:`mlmon.analysis.sampled`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import combinations

from mlmon.analysis.dimensions import Dimension, SliceKey
from mlmon.analysis.metrics import Stats, loss_mass, material_degradation, sample_size
from mlmon.analysis.residual import select
from mlmon.analysis.sampled import Recount
from mlmon.analysis.slice_score import Fetch, ScoredSlice, is_redundant, score, score_in
from mlmon.analysis.source import BucketRequest

__all__ = ["ScoredSlice", "SearchResult", "SliceSettings", "score", "search"]


@dataclass(frozen=True)
class SliceSettings:
    min_support: int = 100  # rows with a label (or value) in the current window
    min_change: float = 0.05  # degradation of the slice's own metric (relative for errors)
    top_k: int = 10
    max_depth: int = 3
    prune: bool = True
    pool: int = 5  # significant slices considered for the report: top_k × pool by impact
    explained_share: float = 0.8  # a slice inside S with this share of S's impact explains S
    # Crosses over more rows than this are estimated on a random sample of about
    # ``sample_rows`` rows, then the leading candidates are counted again exactly.
    sample_above: int = 500_000
    sample_rows: int = 250_000


@dataclass
class SearchResult:
    top: list[ScoredSlice]  # top-K by impact with the minimum support: what pruning preserves
    ranked: list[ScoredSlice]  # the reported slices, then the others not explained by them
    called: list[ScoredSlice]  # reported: significant on their own residual, in residual order
    scored: int  # slices scored (the Bonferroni family)
    requests: int  # bucket requests sent to each source
    levels: list[int]  # requests per level
    explained: dict[SliceKey, SliceKey] = field(default_factory=dict)  # broad → narrower
    sampled: bool = False  # crosses were estimated on a sample, leaders rescored exactly
    rescored: int = 0  # slices counted again exactly


def search(
    dimensions: Sequence[Dimension],
    fetch: Fetch,
    overall_current: Stats,
    overall_baseline: Stats,
    settings: SliceSettings,
    *,
    metric: str,
    alpha: float,
) -> SearchResult:
    """Level-wise slice search on ``metric``; ``fetch`` returns (current, baseline) answers
    per request; a slice is called at family-wise level ``alpha`` (Bonferroni over all
    slices scored)."""
    support = sample_size(overall_current, metric) or 1.0
    found: dict[SliceKey, ScoredSlice] = {}
    redundant: set[SliceKey] = set()
    survivors: dict[SliceKey, ScoredSlice] = {}
    levels: list[int] = []

    def eligible() -> list[ScoredSlice]:
        return [
            s
            for s in found.values()
            if sample_size(s.current, metric) >= settings.min_support and s.key not in redundant
        ]

    def threshold() -> float:
        """The running top-K impact: a slice whose bound is below it cannot enter."""
        impacts = sorted((s.impact for s in eligible()), reverse=True)
        kth = impacts[settings.top_k - 1] if len(impacts) >= settings.top_k else 0.0
        return max(kth, 0.0)

    def expandable(s: ScoredSlice, limit: float) -> bool:
        if not settings.prune:
            return True
        if sample_size(s.current, metric) < settings.min_support:
            return False
        bound = loss_mass(s.current, metric) / support
        return bound > 0 and bound >= limit

    sampled = overall_current.n > settings.sample_above
    for depth in range(1, settings.max_depth + 1):
        requests = _requests(dimensions, depth, survivors if settings.prune else None)
        if depth > 1 and settings.prune:
            requests = [r for r in requests if all(k for k in (r.keep or ()))]
        if depth > 1 and sampled:
            requests = [replace(r, sample=settings.sample_rows) for r in requests]
        levels.append(len(requests))
        if not requests:
            break
        current, baseline = fetch(requests)
        level: dict[SliceKey, ScoredSlice] = {}
        for answer, base in zip(current, baseline, strict=False):
            for key, stats in (answer or {}).items():
                if depth > 1 and settings.prune and not _parents_survived(key, survivors):
                    continue
                level[key] = score_in(
                    key, stats, base, found, overall_current, overall_baseline, metric
                )
                if depth > 1 and is_redundant(level[key], found):
                    redundant.add(key)
        found.update(level)
        limit = threshold()  # fixed within a level: found does not change while we filter
        survivors = {k: s for k, s in level.items() if expandable(s, limit)}
        if not survivors:
            break

    scored = len(found)  # the Bonferroni family: every slice looked at, sampled or not
    rescored = 0
    estimated: set[SliceKey] = set()
    recount = Recount(found, fetch, dimensions, overall_current, overall_baseline, metric)
    if sampled:
        estimated, sent, rescored = recount.leaders(eligible(), settings.top_k, redundant)
        levels.append(sent)
    ranked_all = sorted(
        (s for s in eligible() if s.key not in estimated), key=lambda s: (-s.impact, s.depth, s.key)
    )
    family = max(scored, 1)

    marked = [
        _mark(s, family, settings, metric, alpha)
        for s in ranked_all[: settings.top_k * settings.pool]
    ]
    top = marked[: settings.top_k]
    recounted = 0
    if sampled:  # a fold must not hang on an estimate, nor on a cross the estimates pruned
        recounted, unsure = recount.folds(
            marked, estimated, settings.min_change, settings.explained_share
        )
        rescored += unsure
    selection = select(
        marked,
        dimensions,
        fetch,
        overall_current=overall_current,
        overall_baseline=overall_baseline,
        metric=metric,
        min_change=settings.min_change,
        min_support=settings.min_support,
        alpha=alpha,
        family=family,
        top_k=settings.top_k,
        inside=lambda narrow, broad: _inside(narrow, broad, found),
        explained_share=settings.explained_share,
    )
    levels.append(selection.requests + recounted)
    by_key = {s.key: s for s in marked}
    called = [replace(by_key[key], residual=residual) for key, residual in selection.reported]
    reported = {s.key for s in called}
    others = [s for s in marked if s.key not in reported and s.key not in selection.explained]
    ranked = (called + others)[: settings.top_k]
    explained = selection.explained
    return SearchResult(
        top=top,
        ranked=ranked,
        called=called,
        scored=scored,
        requests=sum(levels),
        levels=levels,
        explained=explained,
        sampled=sampled,
        rescored=rescored,
    )


def _inside(narrow: SliceKey, broad: SliceKey, found: dict[SliceKey, ScoredSlice]) -> bool:
    """Narrow's rows lie within broad's: its key extends broad's, or the cross of the two
    (a slice the search scored) holds ≥ 95 % of narrow."""
    combined = {*broad, *narrow}
    if len({name for name, _ in combined}) != len(combined):
        return False  # one feature, two values: disjoint
    if combined == set(narrow):
        return True
    cross, small = found.get(tuple(sorted(combined))), found.get(narrow)
    return cross is not None and small is not None and cross.current.n >= 0.95 * small.current.n


def _mark(
    s: ScoredSlice, family: int, settings: SliceSettings, metric: str, alpha: float
) -> ScoredSlice:
    change = material_degradation(s.metric_baseline, s.metric_current, metric)
    significant = (
        math.isfinite(change)
        and change >= settings.min_change
        and min(1.0, s.p_value * family) < alpha
    )
    return replace(s, significant=significant)


def _requests(
    dimensions: Sequence[Dimension], depth: int, survivors: dict[SliceKey, ScoredSlice] | None
) -> list[BucketRequest]:
    if depth == 1:
        return [BucketRequest((d,)) for d in dimensions]
    if survivors is None:
        return [BucketRequest(combo) for combo in combinations(dimensions, depth)]
    # The survivors' buckets by the features of their key: each combination keeps, per
    # feature, the buckets of the survivors whose features it strictly contains.
    by_names: dict[frozenset[str], dict[str, set[str]]] = {}
    for key in survivors:
        buckets = by_names.setdefault(frozenset(n for n, _ in key), {})
        for name, bucket in key:
            buckets.setdefault(name, set()).add(bucket)
    out = []
    for combo in combinations(dimensions, depth):
        names = {c.name for c in combo}
        inside = [buckets for key_names, buckets in by_names.items() if key_names < names]
        keep = tuple(
            frozenset(b for buckets in inside for b in buckets.get(d.name, ())) for d in combo
        )
        out.append(BucketRequest(combo, keep))
    return out


def _parents_survived(key: SliceKey, survivors: dict[SliceKey, ScoredSlice]) -> bool:
    return all(tuple(p) in survivors for p in combinations(key, len(key) - 1))
