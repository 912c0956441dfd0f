"""Feature importance from attributions, and when a feature's importance changed.

A feature's importance is its mean |attribution| (SHAP values, a tree's
contributions: whatever additive attribution the model logs). Both sides
arrive as sums per feature (:class:`~mlmon.baseline.profile.AttributionSums`:
rows, Σ|a|, Σa²), from a profile or an aggregation, so the mean and its
variance are exact without a row. A feature's importance *drifted* when its
mean |attribution| now differs from the baseline's by Welch's t-test, after
Bonferroni over the features compared, by at least ``min_change`` of the
baseline's, and by at least ``min_share`` of the baseline's total importance (a
tiny change on a big window is significant and immaterial).
Pure: sums in, frozen values out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mlmon.analysis.stats import welch_t
from mlmon.baseline.profile import AttributionSums


@dataclass(frozen=True)
class AttributionSettings:
    min_change: float = 0.25  # |relative change| of mean |attribution| called material
    #: ...and the change must be at least this share of the baseline's total importance
    #: (a feature the model hardly uses can double and still not matter)
    min_share: float = 0.02
    min_count: int = 100  # rows with an attribution on each side before testing


@dataclass(frozen=True)
class FeatureImportance:
    """One feature's mean |attribution| in the window beside the baseline's."""

    feature: str
    rank: int  # 1: the most important in the window
    current: float | None  # mean |attribution|; None: no row of the window has one
    baseline: float | None
    baseline_rank: int | None
    change: float | None  # (current − baseline) / baseline
    count: int  # rows of the window with an attribution of the feature
    baseline_count: int
    t: float | None  # Welch's t, window against baseline (None: not tested)
    p_adjusted: float | None  # its two-sided p, times the features tested (Bonferroni)
    drifted: bool


@dataclass(frozen=True)
class AttributionDrift:
    """A feature whose importance changed significantly and materially."""

    feature: str
    current: float
    baseline: float
    change: float
    rank: int
    baseline_rank: int
    p_adjusted: float
    evidence: str


def _ranks(means: Mapping[str, float | None]) -> dict[str, int]:
    ordered = sorted((name for name, m in means.items() if m is not None), key=lambda n: -means[n])
    return {name: i for i, name in enumerate(ordered, 1)}


def _mean(sums: AttributionSums | None) -> float | None:
    return sums.mean_abs if sums is not None else None


def compare(
    current: Mapping[str, AttributionSums],
    baseline: Mapping[str, AttributionSums],
    settings: AttributionSettings = AttributionSettings(),
    *,
    alpha: float = 0.01,
) -> tuple[tuple[FeatureImportance, ...], tuple[AttributionDrift, ...]]:
    """Features ranked by importance in the window, and the ones whose importance drifted.

    Nothing when the window has no attributions (a model that logs none costs no key).
    """
    if not any(s.count for s in current.values()):
        return (), ()
    names = sorted(set(current) | set(baseline))
    now = {n: _mean(current.get(n)) for n in names}
    before = {n: _mean(baseline.get(n)) for n in names}
    rank_now, rank_before = _ranks(now), _ranks(before)
    tests: dict[str, tuple[float, float]] = {}
    for name in names:
        a, b = current.get(name), baseline.get(name)
        if a is None or b is None or min(a.count, b.count) < settings.min_count:
            continue
        tests[name] = welch_t(a.count, a.sum_abs, a.sum_squares, b.count, b.sum_abs, b.sum_squares)
    family = max(len(tests), 1)
    total = sum(m for m in before.values() if m is not None)
    rows = []
    for name in names:
        mean_now, mean_before = now[name], before[name]
        change = (
            (mean_now - mean_before) / mean_before if mean_now is not None and mean_before else None
        )
        t, p = tests.get(name, (None, None))
        p_adjusted = min(1.0, p * family) if p is not None else None
        drifted = bool(
            p_adjusted is not None
            and p_adjusted < alpha
            and change is not None
            and abs(change) >= settings.min_change
            and abs(mean_now - mean_before) >= settings.min_share * total  # type: ignore[operator]
        )
        rows.append(
            FeatureImportance(
                feature=name,
                rank=rank_now.get(name, len(rank_now) + 1),
                current=mean_now,
                baseline=mean_before,
                baseline_rank=rank_before.get(name),
                change=change,
                count=current[name].count if name in current else 0,
                baseline_count=baseline[name].count if name in baseline else 0,
                t=t,
                p_adjusted=p_adjusted,
                drifted=drifted,
            )
        )
    rows.sort(key=lambda r: (r.rank, r.feature))
    return tuple(rows), tuple(_finding(r) for r in rows if r.drifted)


def _finding(row: FeatureImportance) -> AttributionDrift:
    assert row.current is not None and row.baseline is not None and row.change is not None
    assert row.baseline_rank is not None and row.p_adjusted is not None
    direction = "rose" if row.change > 0 else "fell"
    evidence = (
        f"mean |attribution| of {row.feature} {direction} from {row.baseline:.4g} to "
        f"{row.current:.4g} ({row.change:+.0%}; rank {row.baseline_rank} → {row.rank}; "
        f"Welch p = {row.p_adjusted:.1e}, Bonferroni-adjusted)"
    )
    return AttributionDrift(
        feature=row.feature,
        current=row.current,
        baseline=row.baseline,
        change=row.change,
        rank=row.rank,
        baseline_rank=row.baseline_rank,
        p_adjusted=row.p_adjusted,
        evidence=evidence,
    )


def headline_suffix(findings: tuple[AttributionDrift, ...]) -> str:
    """One sentence for the report's headline: the biggest change of importance."""
    if not findings:
        return ""
    top = max(findings, key=lambda f: abs(f.change))
    more = f" ({len(findings) - 1} more below)" if len(findings) > 1 else ""
    direction = "rose" if top.change > 0 else "fell"
    return (
        f" Attribution drift: {top.feature}'s importance {direction} {abs(top.change):.0%}{more}."
    )


__all__ = [
    "AttributionDrift",
    "AttributionSettings",
    "FeatureImportance",
    "compare",
    "headline_suffix",
]
