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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from mlmon.analysis import stats as st
from mlmon.analysis.dimensions import MISSING, Dimension
from mlmon.analysis.jsonkeys import OMIT_EMPTY

OTHER = "(other)"
#: The PSI a shift needs to matter: the conventional scale reads below 0.1 as no real
#: change, 0.1–0.25 as a moderate shift worth acting on, above 0.25 as a major one.
MATERIAL_PSI = 0.1


@dataclass(frozen=True)
class DriftSettings:
    psi: float = MATERIAL_PSI
    min_count: int = 100  # observations on each side
    max_categories: int = 50


@dataclass(frozen=True)
class Distribution:
    """Each bucket's share of the baseline and of the window (the HTML report charts it)."""

    buckets: tuple[str, ...]
    baseline: tuple[float, ...]
    current: tuple[float, ...]


@dataclass(frozen=True)
class Shift:
    bucket: str
    baseline_share: float
    current_share: float


@dataclass(frozen=True, kw_only=True)
class DriftFinding:
    """One feature's (or model output's) drift statistics; ``ks``/``wasserstein``: numbers only."""

    feature: str
    kind: str
    psi: float
    js: float
    baseline_count: float
    current_count: float
    test: str  # "ks" or "chi2"
    statistic: float
    p_value: float
    ks: float | None = field(default=None, metadata=OMIT_EMPTY)
    wasserstein: float | None = field(default=None, metadata=OMIT_EMPTY)
    distribution: Distribution
    largest_shifts: tuple[Shift, ...]
    p_adjusted: float  # Bonferroni over every feature tested (set by :func:`flag`)
    drifted: bool = False


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
) -> DriftFinding | None:
    """Drift statistics of one dimension, or None when either side is too small to say.

    ``p_adjusted`` and ``drifted`` are for one test alone until :func:`flag`
    corrects them for the whole family.
    """
    names, base, cur = aligned_counts(dimension, baseline, current, settings.max_categories)
    n_base, n_cur = sum(base), sum(cur)
    if n_base < settings.min_count or n_cur < settings.min_count or len(names) < 2:
        return None
    ks = wasserstein = None
    if dimension.kind == "numeric":
        test = "ks"
        statistic, p_value = st.binned_ks(base, cur)
        ks = statistic
        if low is not None and high is not None and dimension.edges:
            wasserstein = st.binned_wasserstein(
                list(dimension.edges),
                base,
                cur,
                min(low, dimension.edges[0]),
                max(high, dimension.edges[-1]),
            )
    else:
        test = "chi2"
        statistic, p_value = st.chi_square(base, cur)
    shares_base = [v / n_base for v in base]
    shares_cur = [v / n_cur for v in cur]
    rows = zip(names, shares_base, shares_cur, strict=True)
    moved = sorted(rows, key=lambda t: -abs(t[2] - t[1]))[:3]
    return DriftFinding(
        feature=dimension.name,
        kind=dimension.kind,
        psi=st.psi(base, cur),
        js=st.jensen_shannon(base, cur),
        baseline_count=n_base,
        current_count=n_cur,
        test=test,
        statistic=statistic,
        p_value=p_value,
        ks=ks,
        wasserstein=wasserstein,
        distribution=Distribution(tuple(names), tuple(shares_base), tuple(shares_cur)),
        largest_shifts=tuple(Shift(name, b, c) for name, b, c in moved),
        p_adjusted=p_value,
    )


def flag(
    results: Sequence[DriftFinding], settings: DriftSettings, *, alpha: float
) -> tuple[DriftFinding, ...]:
    """Each result with ``p_adjusted`` (Bonferroni over all of them) and ``drifted``, drifted
    first, then by PSI."""
    family = max(len(results), 1)
    flagged = []
    for result in results:
        p_adjusted = min(1.0, result.p_value * family)
        drifted = bool(p_adjusted < alpha and result.psi >= settings.psi)
        flagged.append(replace(result, p_adjusted=p_adjusted, drifted=drifted))
    flagged.sort(key=lambda r: (not r.drifted, -r.psi))
    return tuple(flagged)
