"""One slice scored against its baseline: the two impact scores, the p-value, redundancy.

Pure over counts, shared by the level-wise search (:mod:`mlmon.analysis.slices`)
and the exact recount of a sampled one (:mod:`mlmon.analysis.sampled`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations

from mlmon.analysis.dimensions import SliceKey
from mlmon.analysis.metrics import (
    Stats,
    change_pvalue,
    degradation,
    metric_value,
    sample_size,
)
from mlmon.analysis.residual import Residual
from mlmon.analysis.source import BucketRequest

Fetch = Callable[[Sequence[BucketRequest]], tuple[list, list]]


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


def score_in(
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
    fallback = weakest_parent(key, found, metric) if own is None else None
    return score(key, stats, own, overall_current, overall_baseline, metric, fallback=fallback)


def weakest_parent(key: SliceKey, found: dict[SliceKey, ScoredSlice], metric: str) -> Stats | None:
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


def is_redundant(s: ScoredSlice, found: dict[SliceKey, ScoredSlice]) -> bool:
    """A cross that is (≥ 95 % of) one of its parents: the simpler slice says it all.

    Decided from the parents alone, so the pruned search can apply it as it goes.
    """
    parents = [found.get(tuple(p)) for p in combinations(s.key, s.depth - 1)]
    return any(p is not None and s.current.n >= 0.95 * p.current.n for p in parents)
