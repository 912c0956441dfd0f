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
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from itertools import combinations

from mlmon.analysis.dimensions import Dimension, SliceKey
from mlmon.analysis.metrics import (
    Stats,
    change_pvalue,
    degradation,
    loss_mass,
    material_degradation,
    metric_value,
    sample_size,
)
from mlmon.analysis.residual import Residual, containment_questions, intersection, select
from mlmon.analysis.source import BucketRequest

Fetch = Callable[[Sequence[BucketRequest]], tuple[list, list]]


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


@dataclass(frozen=True)
class ScoredSlice:
    key: SliceKey
    current: Stats
    baseline: Stats | None  # its own or its weakest parent's; None: held to the overall
    metric_current: float
    metric_baseline: float
    volume_share: float
    impact: float
    arize_impact: float
    p_value: float
    baseline_from: str = "slice"  # "slice", "parent" (weakest parent's) or "overall"
    significant: bool = False
    residual: Residual | None = None  # what is left of it once other slices are removed

    @property
    def depth(self) -> int:
        return len(self.key)


def score(
    key: SliceKey,
    current: Stats,
    baseline: Stats | None,
    overall_current: Stats,
    overall_baseline: Stats,
    metric: str,
    fallback: Stats | None = None,
) -> ScoredSlice:
    """Both impact scores of one slice, and the p-value of its change (pure).

    The slice is compared with its own baseline; when the baseline cannot
    answer for it (a registered profile keeps single features only), with
    ``fallback`` (its weakest parent's baseline); else with the overall.
    """
    usable = baseline if baseline is not None and sample_size(baseline, metric) > 0 else None
    parent = fallback if fallback is not None and sample_size(fallback, metric) > 0 else None
    own = usable if usable is not None else parent
    reference = own if own is not None else overall_baseline
    baseline_from = "slice" if usable is not None else "parent" if parent is not None else "overall"
    metric_current = metric_value(current, metric)
    metric_baseline = metric_value(reference, metric)
    support = sample_size(overall_current, metric)
    share = sample_size(current, metric) / support if support else 0.0
    change = degradation(metric_baseline, metric_current, metric)
    impact = share * change if math.isfinite(change) else 0.0
    rest = metric_value(overall_current - current, metric)
    whole = metric_value(overall_current, metric)
    arize = degradation(rest, whole, metric)
    return ScoredSlice(
        key=key,
        current=current,
        baseline=own,
        metric_current=metric_current,
        metric_baseline=metric_baseline,
        volume_share=current.n / overall_current.n if overall_current.n else 0.0,
        impact=impact,
        arize_impact=arize if math.isfinite(arize) else 0.0,
        p_value=change_pvalue(current, reference, metric),
        baseline_from=baseline_from,
    )


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
                level[key] = _score_in(
                    key, stats, base, found, overall_current, overall_baseline, metric
                )
                if depth > 1 and _is_redundant(level[key], found):
                    redundant.add(key)
        found.update(level)
        limit = threshold()  # fixed within a level: found does not change while we filter
        survivors = {k: s for k, s in level.items() if expandable(s, limit)}
        if not survivors:
            break

    scored = len(found)  # the Bonferroni family: every slice looked at, sampled or not
    rescored = 0
    if sampled:
        exact, sent = _rescore_exactly(
            eligible(),
            found,
            fetch,
            dimensions,
            overall_current,
            overall_baseline,
            settings,
            metric,
        )
        levels.append(sent)
        rescored = len(exact)
        for key in exact:  # redundancy was judged on estimates: judge it again on the counts
            if key in found and _is_redundant(found[key], found):
                redundant.add(key)
            else:
                redundant.discard(key)
        # Estimates steer the search and containment checks; only exact counts are ranked.
        estimated = {k for k in found if len(k) > 1 and k not in exact}
    else:
        estimated = set()
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
        questions = containment_questions(
            marked, metric, settings.min_change, settings.explained_share
        )
        unsure = {
            cross
            for narrow, broad in questions
            if (cross := intersection(narrow, broad)) not in (None, narrow)
            and (cross in estimated or cross not in found)
        }
        recounted = _recount(
            sorted(unsure), found, fetch, dimensions, overall_current, overall_baseline, metric
        )
        estimated -= unsure
        rescored += len(unsure)
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


def _rescore_exactly(
    candidates: list[ScoredSlice],
    found: dict[SliceKey, ScoredSlice],
    fetch: Fetch,
    dimensions: Sequence[Dimension],
    overall_current: Stats,
    overall_baseline: Stats,
    settings: SliceSettings,
    metric: str,
) -> tuple[set[SliceKey], int]:
    """Count the leading sampled crosses again, exactly; returns (their keys, requests).

    The leaders are the ``top_k × 3`` crosses by estimated impact and, for each,
    the three strongest narrower crosses inside it (what folding compares it
    with).
    """
    ranked = sorted(candidates, key=lambda s: (-s.impact, s.depth, s.key))
    crosses = [s for s in ranked if s.depth > 1]
    leaders = [s.key for s in crosses[: settings.top_k * 3]]
    for key in list(leaders):
        inside = [s.key for s in crosses if s.depth > len(key) and set(key) < set(s.key)]
        leaders.extend(k for k in inside[:3] if k not in leaders)
    sent = _recount(leaders, found, fetch, dimensions, overall_current, overall_baseline, metric)
    return set(leaders), sent


def _recount(
    keys: Sequence[SliceKey],
    found: dict[SliceKey, ScoredSlice],
    fetch: Fetch,
    dimensions: Sequence[Dimension],
    overall_current: Stats,
    overall_baseline: Stats,
    metric: str,
) -> int:
    """Score ``keys`` again from exact counts, in place; returns the requests sent.

    One request per combination of features, restricted to the keys' values,
    so the cluster reads only those slices' rows.
    """
    by_name = {d.name: d for d in dimensions}
    groups: dict[tuple[str, ...], list[SliceKey]] = {}
    for key in keys:
        groups.setdefault(tuple(name for name, _ in key), []).append(key)
    requests = [
        BucketRequest(
            tuple(by_name[name] for name in names),
            tuple(frozenset(dict(key)[name] for key in group) for name in names),
        )
        for names, group in groups.items()
    ]
    if not requests:
        return 0
    current, baseline = fetch(requests)
    for answer, base, group in zip(current, baseline, groups.values(), strict=True):
        for key in group:
            stats = (answer or {}).get(key)
            if stats is not None:
                found[key] = _score_in(
                    key, stats, base, found, overall_current, overall_baseline, metric
                )
    return len(requests)


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
    out = []
    for combo in combinations(dimensions, depth):
        if survivors is None:
            out.append(BucketRequest(combo))
            continue
        keep = []
        for d in combo:
            buckets = {
                bucket
                for key in survivors
                for name, bucket in key
                if name == d.name and {n for n, _ in key} < {c.name for c in combo}
            }
            keep.append(frozenset(buckets))
        out.append(BucketRequest(combo, tuple(keep)))
    return out


def _score_in(
    key: SliceKey,
    stats: Stats,
    baseline_answer: dict | None,
    found: dict[SliceKey, ScoredSlice],
    overall_current: Stats,
    overall_baseline: Stats,
    metric: str,
) -> ScoredSlice:
    """Score a slice against its own baseline row, else its weakest parent's."""
    own = (baseline_answer or {}).get(key)
    fallback = _weakest_parent(key, found, metric) if own is None else None
    return score(key, stats, own, overall_current, overall_baseline, metric, fallback=fallback)


def _weakest_parent(key: SliceKey, found: dict[SliceKey, ScoredSlice], metric: str) -> Stats | None:
    """Baseline stats of the parent that did worst in the baseline (crosses a profile lacks).

    Holding a cross to its weakest part means a cross is only called when it
    is worse than every one of its parts used to be: slices that were always
    hard stay quiet.
    """
    if len(key) < 2:
        return None
    parents = [found.get(tuple(p)) for p in combinations(key, len(key) - 1)]
    known = [p for p in parents if p is not None and p.baseline_from != "overall"]
    if not known:
        return None
    return max(known, key=lambda p: degradation(0.0, p.metric_baseline, metric)).baseline


def _parents_survived(key: SliceKey, survivors: dict[SliceKey, ScoredSlice]) -> bool:
    return all(tuple(p) in survivors for p in combinations(key, len(key) - 1))


def _is_redundant(s: ScoredSlice, found: dict[SliceKey, ScoredSlice]) -> bool:
    """A cross that is (≥ 95 % of) one of its parents: the simpler slice says it all.

    Decided from the parents alone, so the pruned search can apply it as it goes.
    """
    parents = [found.get(tuple(p)) for p in combinations(s.key, s.depth - 1)]
    return any(p is not None and s.current.n >= 0.95 * p.current.n for p in parents)
