"""A sampled slice search made exact where it matters: leaders and folds recounted.

Above ``SliceSettings.sample_above`` rows, crosses are estimated on a random
sample (the search's steering only). Before anything is ranked, the leading
crosses, and the three strongest crosses inside each, are counted again
exactly; before residuals are folded, every cross a containment check
hangs on (estimated, or pruned on estimates) is counted exactly too. Each
recount is one request per combination of features, restricted to the
keys' values, so the cluster reads only those slices' rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mlmon.analysis.dimensions import Dimension, SliceKey
from mlmon.analysis.metrics import Stats
from mlmon.analysis.residual import Candidate, containment_questions, intersection
from mlmon.analysis.slice_score import Fetch, ScoredSlice, is_redundant, score_in
from mlmon.analysis.source import BucketRequest


@dataclass(frozen=True)
class Recount:
    """Exact counts for slices first scored on a sample, rescored in place in ``found``."""

    found: dict[SliceKey, ScoredSlice]
    fetch: Fetch
    dimensions: Sequence[Dimension]
    overall_current: Stats
    overall_baseline: Stats
    metric: str

    def leaders(
        self, candidates: Sequence[ScoredSlice], top_k: int, redundant: set[SliceKey]
    ) -> tuple[set[SliceKey], int, int]:
        """Count the leading crosses again, exactly, and judge their redundancy again on
        the counts (``redundant`` in place); returns (the crosses left estimated,
        requests, slices rescored).

        The leaders are the ``top_k × 3`` crosses by estimated impact and, for each,
        the three strongest narrower crosses inside it (what folding compares it with).
        """
        ranked = sorted(candidates, key=lambda s: (-s.impact, s.depth, s.key))
        crosses = [s for s in ranked if s.depth > 1]
        leaders = [s.key for s in crosses[: top_k * 3]]
        for key in list(leaders):
            inside = [s.key for s in crosses if s.depth > len(key) and set(key) < set(s.key)]
            leaders.extend(k for k in inside[:3] if k not in leaders)
        sent = self.keys(leaders)
        for key in leaders:
            if key in self.found and is_redundant(self.found[key], self.found):
                redundant.add(key)
            else:
                redundant.discard(key)
        # Estimates steer the search and containment checks; only exact counts are ranked.
        exact = set(leaders)
        estimated = {k for k in self.found if len(k) > 1 and k not in exact}
        return estimated, sent, len(exact)

    def folds(
        self,
        marked: Sequence[Candidate],
        estimated: set[SliceKey],
        min_change: float,
        explained_share: float,
    ) -> tuple[int, int]:
        """Count exactly every cross a fold of ``marked`` hangs on that is estimated or
        was pruned on estimates (``estimated`` shrinks in place); returns (requests,
        slices recounted)."""
        questions = containment_questions(marked, self.metric, min_change, explained_share)
        unsure = {
            cross
            for narrow, broad in questions
            if (cross := intersection(narrow, broad)) not in (None, narrow)
            and (cross in estimated or cross not in self.found)
        }
        sent = self.keys(sorted(unsure))
        estimated -= unsure
        return sent, len(unsure)

    def keys(self, keys: Sequence[SliceKey]) -> int:
        """Score ``keys`` again from exact counts, in place; returns the requests sent."""
        by_name = {d.name: d for d in self.dimensions}
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
        current, baseline = self.fetch(requests)
        for answer, base, group in zip(current, baseline, groups.values(), strict=True):
            for key in group:
                stats = (answer or {}).get(key)
                if stats is not None:
                    self.found[key] = score_in(
                        key,
                        stats,
                        base,
                        self.found,
                        self.overall_current,
                        self.overall_baseline,
                        self.metric,
                    )
        return len(requests)
