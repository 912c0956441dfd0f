"""Data-quality findings: NA spikes, unseen categories and out-of-range values.

From the quality tags counted in the window against the baseline's rates (a
registered profile has its missing rates, and by definition no unseen or
out-of-range values). A finding needs a rise of at least the configured
points and a two-proportion test that survives Bonferroni over every
(feature, check) pair.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from mlmon.analysis import stats as st
from mlmon.analysis.jsonkeys import OMIT_EMPTY
from mlmon.analysis.source import QualityCounts

CHECKS = ("missing", "unseen", "out_of_range")


@dataclass(frozen=True)
class QualitySettings:
    missing_rise: float = 0.05  # points of missing rate above the baseline's
    unseen_rise: float = 0.01
    out_of_range_rise: float = 0.01
    min_count: int = 100

    def rise(self, check: str) -> float:
        return {
            "missing": self.missing_rise,
            "unseen": self.unseen_rise,
            "out_of_range": self.out_of_range_rise,
        }[check]


@dataclass(frozen=True)
class QualityFinding:
    """One feature's missing, unseen and out-of-range rates now and in the baseline."""

    feature: str
    issues: tuple[str, ...]  # the checks that fired, of CHECKS
    missing_rate: float
    baseline_missing_rate: float
    unseen_rate: float
    baseline_unseen_rate: float
    out_of_range_rate: float
    baseline_out_of_range_rate: float
    top_unseen_values: Mapping[str, int] | None = field(default=None, metadata=OMIT_EMPTY)

    def rate(self, check: str) -> float:
        """The window's rate of one of CHECKS."""
        return getattr(self, f"{check}_rate")

    def baseline_rate(self, check: str) -> float:
        return getattr(self, f"baseline_{check}_rate")


def compare(
    features: Sequence[str],
    current: QualityCounts,
    baseline: QualityCounts,
    settings: QualitySettings,
    *,
    alpha: float,
) -> tuple[QualityFinding, ...]:
    """One finding per feature: rates now and in the baseline, and which checks fired
    (Bonferroni at ``alpha`` over every feature and check)."""
    rows = []
    family = max(len(features) * len(CHECKS), 1)
    for name in features:
        issues = []
        rates: dict[str, float] = {}
        for check in CHECKS:
            now = getattr(current, check).get(name, 0)
            before = getattr(baseline, check).get(name, 0)
            rate = now / current.n if current.n else 0.0
            base_rate = before / baseline.n if baseline.n else 0.0
            rates[f"{check}_rate"] = rate
            rates[f"baseline_{check}_rate"] = base_rate
            enough = current.n >= settings.min_count and baseline.n >= settings.min_count
            if not enough or rate - base_rate < settings.rise(check):
                continue
            p = st.two_proportion_pvalue(now, current.n, before, baseline.n)
            if min(1.0, p * family) < alpha:
                issues.append(check)
        rows.append(
            QualityFinding(
                feature=name,
                issues=tuple(issues),
                top_unseen_values=current.unseen_values.get(name),
                **rates,
            )
        )
    rows.sort(key=lambda r: (not r.issues, -max(r.missing_rate, r.unseen_rate)))
    return tuple(rows)
