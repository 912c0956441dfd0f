"""Statistics on bucket counts, the only shape an aggregation gives back.

Each function takes counts (histogram bins, category counts, confusion
cells, sums) rather than raw rows, so the analyzer never needs the events
themselves. Where scipy has the same test on raw data, the unit tests check
these against it.

Tail probabilities come from ``scipy.special`` (what ``scipy.stats``' distributions
call underneath, so the values are the same bits): importing ``scipy.stats`` costs
more than a second, paid by every ``mlmon trace`` process.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy import special

EPSILON = 1e-4  # share given to an empty bucket so PSI stays finite


def proportions(counts: Sequence[float], eps: float = EPSILON) -> list[float]:
    """Shares of each bucket, empty buckets lifted to ``eps`` (then renormalised)."""
    total = float(sum(counts))
    if total <= 0:
        return [1.0 / len(counts)] * len(counts) if counts else []
    lifted = [max(c / total, eps) for c in counts]
    norm = sum(lifted)
    return [p / norm for p in lifted]


def psi(baseline: Sequence[float], current: Sequence[float]) -> float:
    """Population stability index: sum (c - b) * ln(c / b) over buckets."""
    b = proportions(baseline)
    c = proportions(current)
    return float(sum((ci - bi) * math.log(ci / bi) for bi, ci in zip(b, c, strict=False)))


def jensen_shannon(baseline: Sequence[float], current: Sequence[float]) -> float:
    """Jensen–Shannon *distance* in base 2 (0 same, 1 disjoint), as scipy's ``jensenshannon``."""
    nb, nc = float(sum(baseline)), float(sum(current))
    if nb <= 0 or nc <= 0:
        return math.nan
    p = [x / nb for x in baseline]
    q = [x / nc for x in current]
    divergence = 0.0
    for pi, qi in zip(p, q, strict=False):
        mi = (pi + qi) / 2
        if pi > 0:
            divergence += 0.5 * pi * math.log2(pi / mi)
        if qi > 0:
            divergence += 0.5 * qi * math.log2(qi / mi)
    return math.sqrt(max(divergence, 0.0))


def chi_square(baseline: Sequence[float], current: Sequence[float]) -> tuple[float, float]:
    """Chi-square test of homogeneity on a 2×k table (no continuity correction).

    Buckets empty on both sides are dropped; with fewer than two left there is
    nothing to compare and the answer is (0, 1).
    """
    columns = [(b, c) for b, c in zip(baseline, current, strict=False) if b + c > 0]
    if len(columns) < 2:
        return 0.0, 1.0
    nb = sum(b for b, _ in columns)
    nc = sum(c for _, c in columns)
    if nb <= 0 or nc <= 0:
        return 0.0, 1.0
    total = nb + nc
    statistic = 0.0
    for b, c in columns:
        column = b + c
        expected_b = nb * column / total
        expected_c = nc * column / total
        statistic += (b - expected_b) ** 2 / expected_b + (c - expected_c) ** 2 / expected_c
    dof = len(columns) - 1
    return float(statistic), float(special.chdtrc(dof, statistic))


def binned_ks(baseline: Sequence[float], current: Sequence[float]) -> tuple[float, float]:
    """Two-sample Kolmogorov–Smirnov on ordered bins: (D, asymptotic p-value).

    D is the largest gap between the two cumulative shares at a bin edge,
    which is a lower bound of the raw-data D (equal when each value has its
    own bin). The p-value is the Kolmogorov limit distribution at
    ``D * sqrt(n m / (n + m))``.
    """
    n, m = float(sum(baseline)), float(sum(current))
    if n <= 0 or m <= 0:
        return 0.0, 1.0
    cum_b = cum_c = 0.0
    statistic = 0.0
    for b, c in zip(baseline, current, strict=False):
        cum_b += b
        cum_c += c
        statistic = max(statistic, abs(cum_b / n - cum_c / m))
    p_value = float(special.kolmogorov(statistic * math.sqrt(n * m / (n + m))))
    return float(statistic), min(1.0, p_value)


def binned_wasserstein(
    edges: Sequence[float],
    baseline: Sequence[float],
    current: Sequence[float],
    low: float,
    high: float,
) -> float:
    """Earth mover's distance between two histograms on the same bins.

    Bins are ``[low, e0), [e0, e1), …, [e_last, high]`` (one more than the
    edges); mass is spread evenly inside a bin, so both CDFs are piecewise
    linear and the integral of their gap is exact per bin.
    """
    bounds = [low, *edges, high]
    if len(baseline) != len(bounds) - 1 or len(current) != len(bounds) - 1:
        raise ValueError("need one count per bin: len(edges) + 1")
    n, m = float(sum(baseline)), float(sum(current))
    if n <= 0 or m <= 0:
        return math.nan
    distance = 0.0
    gap_start = 0.0  # F_baseline - F_current at the left end of the bin
    for i, (b, c) in enumerate(zip(baseline, current, strict=False)):
        width = bounds[i + 1] - bounds[i]
        gap_end = gap_start + b / n - c / m
        if width > 0:
            distance += width * _mean_abs_linear(gap_start, gap_end)
        gap_start = gap_end
    return distance


def _mean_abs_linear(a: float, b: float) -> float:
    """Mean of |f| over [0, 1] for f linear from a to b."""
    if a * b >= 0:
        return abs(a + b) / 2
    return (a * a + b * b) / (2 * (abs(a) + abs(b)))


def two_proportion_pvalue(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided pooled z-test that k1/n1 and k2/n2 differ (1.0 when it cannot tell)."""
    if n1 <= 0 or n2 <= 0:
        return 1.0
    pooled = (k1 + k2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return 1.0
    z = (k1 / n1 - k2 / n2) / math.sqrt(variance)
    return math.erfc(abs(z) / math.sqrt(2))  # = 2·sf(|z|) of the normal; scipy costs 60 µs/call


def binary_metrics(tp: float, fp: float, fn: float, tn: float) -> dict[str, float]:
    """Accuracy, precision, recall and F1 from the confusion cells (nan where undefined)."""
    total = tp + fp + fn + tn
    precision = tp / (tp + fp) if tp + fp else math.nan
    recall = tp / (tp + fn) if tp + fn else math.nan
    if math.isnan(precision) or math.isnan(recall) or precision + recall == 0:
        f1 = math.nan if (math.isnan(precision) or math.isnan(recall)) else 0.0
    else:
        f1 = 2 * precision * recall / (precision + recall)
    return {
        "accuracy": (tp + tn) / total if total else math.nan,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def auc_from_histograms(positive: Sequence[float], negative: Sequence[float]) -> float:
    """ROC AUC from score histograms of the positive and negative class.

    The chance a random positive outscores a random negative, pairs in the
    same bin counting half (the Mann–Whitney U with ties, scaled to [0, 1]).
    """
    n_pos, n_neg = float(sum(positive)), float(sum(negative))
    if n_pos <= 0 or n_neg <= 0:
        return math.nan
    below = 0.0  # negatives in lower bins so far
    wins = 0.0
    for pos, neg in zip(positive, negative, strict=False):
        wins += pos * (below + neg / 2)
        below += neg
    return wins / (n_pos * n_neg)


def regression_metrics(
    n: float, sum_abs: float, sum_squared: float, sum_abs_pct: float, n_pct: float
) -> dict[str, float]:
    """MAE, RMSE and MAPE from sums (MAPE over rows whose actual was not zero)."""
    return {
        "mae": sum_abs / n if n else math.nan,
        "rmse": math.sqrt(sum_squared / n) if n else math.nan,
        "mape": sum_abs_pct / n_pct if n_pct else math.nan,
    }


def mcnemar(b: int, c: int) -> tuple[float, float]:
    """McNemar's test on the discordant pairs of two classifiers on the same requests.

    ``b``: requests only the first got right; ``c``: only the second. Returns the
    continuity-corrected chi-square statistic (|b − c| − 1)² / (b + c) and the
    *exact* two-sided p-value (the binomial test of b in b + c at ½), valid at any
    count (statsmodels' ``mcnemar(exact=True)``). No discordant pair: (0, 1).
    """
    n = b + c
    if n <= 0:
        return 0.0, 1.0
    # scipy.special.bdtr differs from scipy.stats' binomial in the last bits: the
    # comparison (not the trace) pays for importing scipy.stats here.
    from scipy.stats import binom

    statistic = max(abs(b - c) - 1, 0) ** 2 / n
    p_value = min(1.0, 2.0 * float(binom.cdf(min(b, c), n, 0.5)))
    return float(statistic), p_value


def paired_t(n: float, total: float, sum_of_squares: float) -> tuple[float, float]:
    """Paired t-test on per-request differences, from their count, sum and sum of squares.

    (t, two-sided p) with n − 1 degrees of freedom, as ``scipy.stats.ttest_rel`` on the
    two samples; (0, 1) with fewer than two pairs, or no spread and no difference.
    """
    if n < 2:
        return 0.0, 1.0
    mean = total / n
    variance = max((sum_of_squares - n * mean * mean) / (n - 1), 0.0)
    if variance == 0.0:
        return (0.0, 1.0) if mean == 0.0 else (math.copysign(math.inf, mean), 0.0)
    t = mean / math.sqrt(variance / n)
    return float(t), float(2.0 * special.stdtr(n - 1, -abs(t)))


def welch_t(
    n1: float, sum1: float, squares1: float, n0: float, sum0: float, squares0: float
) -> tuple[float, float]:
    """Welch's t-test of two means from each sample's count, sum and sum of squares.

    (t, two-sided p), t of sample 1 against sample 0, with the Welch–Satterthwaite
    degrees of freedom, as ``scipy.stats.ttest_ind(equal_var=False)`` on the two
    samples; (0, 1) when either has fewer than two values or neither any spread
    and their means are equal.
    """
    if n1 < 2 or n0 < 2:
        return 0.0, 1.0
    mean1, mean0 = sum1 / n1, sum0 / n0
    var1 = max((squares1 - n1 * mean1 * mean1) / (n1 - 1), 0.0) / n1
    var0 = max((squares0 - n0 * mean0 * mean0) / (n0 - 1), 0.0) / n0
    spread = var1 + var0
    difference = mean1 - mean0
    if spread == 0.0:
        return (0.0, 1.0) if difference == 0.0 else (math.copysign(math.inf, difference), 0.0)
    t = difference / math.sqrt(spread)
    df = spread * spread / (var1 * var1 / (n1 - 1) + var0 * var0 / (n0 - 1))
    return float(t), float(2.0 * special.stdtr(df, -abs(t)))
