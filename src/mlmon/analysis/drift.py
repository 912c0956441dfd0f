"""Feature (and prediction) drift from bucket counts: baseline against current.

Categorical: PSI, Jensen–Shannon distance and a chi-square test of
homogeneity over the values (the most frequent of either side, the rest
pooled as "(other)"). Numeric: PSI, binned KS and binned Wasserstein on the
baseline-quantile bins. Missing values are left out: they are a data-quality
finding, not a shift of the distribution. A feature drifts when its test
survives a Bonferroni correction over every feature tested *and* its PSI
reaches the threshold (with large traffic every difference is "significant";
the PSI says whether it matters).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlmon.analysis import stats as st
from mlmon.analysis.dimensions import MISSING, Dimension

OTHER = "(other)"


@dataclass(frozen=True)
class DriftSettings:
    psi: float = 0.2
    alpha: float = 0.01
    min_count: int = 100  # observations on each side
    max_categories: int = 50


def aligned_counts(
    dimension: Dimension,
    baseline: Mapping[str, float],
    current: Mapping[str, float],
    max_categories: int = 50,
) -> tuple[list[str], list[float], list[float]]:
    """Bucket names and the two count vectors over the same buckets (missing left out)."""
    if dimension.kind == "numeric":
        names = dimension.bin_labels()
    else:
        top_base = sorted(baseline, key=lambda k: (-baseline[k], k))[:max_categories]
        top_current = sorted(current, key=lambda k: (-current[k], k))[:max_categories]
        names = sorted({*top_base, *top_current} - {MISSING})
    base = [float(baseline.get(name, 0)) for name in names]
    cur = [float(current.get(name, 0)) for name in names]
    if dimension.kind == "categorical":
        rest_base = sum(v for k, v in baseline.items() if k not in names and k != MISSING)
        rest_cur = sum(v for k, v in current.items() if k not in names and k != MISSING)
        if rest_base or rest_cur:
            names.append(OTHER)
            base.append(float(rest_base))
            cur.append(float(rest_cur))
    return names, base, cur


def measure(
    dimension: Dimension,
    baseline: Mapping[str, float],
    current: Mapping[str, float],
    *,
    settings: DriftSettings,
    low: float | None = None,
    high: float | None = None,
) -> dict[str, Any] | None:
    """Drift statistics of one dimension, or None when either side is too small to say."""
    names, base, cur = aligned_counts(dimension, baseline, current, settings.max_categories)
    n_base, n_cur = sum(base), sum(cur)
    if n_base < settings.min_count or n_cur < settings.min_count or len(names) < 2:
        return None
    result: dict[str, Any] = {
        "feature": dimension.name,
        "kind": dimension.kind,
        "psi": st.psi(base, cur),
        "js": st.jensen_shannon(base, cur),
        "baseline_count": n_base,
        "current_count": n_cur,
    }
    if dimension.kind == "numeric":
        statistic, p_value = st.binned_ks(base, cur)
        result.update(test="ks", statistic=statistic, p_value=p_value, ks=statistic)
        if low is not None and high is not None and dimension.edges:
            result["wasserstein"] = st.binned_wasserstein(
                list(dimension.edges),
                base,
                cur,
                min(low, dimension.edges[0]),
                max(high, dimension.edges[-1]),
            )
    else:
        statistic, p_value = st.chi_square(base, cur)
        result.update(test="chi2", statistic=statistic, p_value=p_value)
    shares_base = [v / n_base for v in base]
    shares_cur = [v / n_cur for v in cur]
    rows = zip(names, shares_base, shares_cur, strict=True)
    moved = sorted(rows, key=lambda t: -abs(t[2] - t[1]))[:3]
    result["distribution"] = {"buckets": names, "baseline": shares_base, "current": shares_cur}
    result["largest_shifts"] = [
        {"bucket": name, "baseline_share": b, "current_share": c} for name, b, c in moved
    ]
    return result


def flag(results: list[dict[str, Any]], settings: DriftSettings) -> list[dict[str, Any]]:
    """Set ``p_adjusted`` and ``drifted`` on each result (Bonferroni over all of them)."""
    family = max(len(results), 1)
    for result in results:
        result["p_adjusted"] = min(1.0, result["p_value"] * family)
        result["drifted"] = bool(
            result["p_adjusted"] < settings.alpha and result["psi"] >= settings.psi
        )
    results.sort(key=lambda r: (not r["drifted"], -r["psi"]))
    return results
