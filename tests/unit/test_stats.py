"""Statistics on counts, checked against scipy on the same data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from scipy.spatial.distance import jensenshannon

from mlmon.analysis import stats as st

RNG = np.random.default_rng(7)


def _counts(values: np.ndarray, support: np.ndarray) -> list[float]:
    return [float((values == v).sum()) for v in support]


def test_psi_matches_its_definition_and_is_zero_for_equal_shares() -> None:
    base, cur = [100, 200, 700], [300, 300, 400]
    b = np.array(base) / 1000
    c = np.array(cur) / 1000
    assert st.psi(base, cur) == pytest.approx(float(np.sum((c - b) * np.log(c / b))))
    assert st.psi([1, 2, 3], [10, 20, 30]) == pytest.approx(0.0, abs=1e-12)
    assert math.isfinite(st.psi([10, 0], [0, 10]))  # empty bins are lifted, not infinite


def test_jensen_shannon_equals_scipy() -> None:
    base = RNG.integers(0, 500, size=12).astype(float)
    cur = RNG.integers(0, 500, size=12).astype(float)
    cur[3] = 0
    assert st.jensen_shannon(base, cur) == pytest.approx(jensenshannon(base, cur, base=2))
    assert st.jensen_shannon([5, 0], [0, 5]) == pytest.approx(1.0)


def test_chi_square_equals_scipy_contingency() -> None:
    base = [120, 80, 0, 33, 7]
    cur = [90, 110, 0, 60, 1]
    kept = np.array([[b, c] for b, c in zip(base, cur, strict=False) if b + c]).T
    expected = sps.chi2_contingency(kept, correction=False)
    statistic, p = st.chi_square(base, cur)
    assert statistic == pytest.approx(expected.statistic)
    assert p == pytest.approx(expected.pvalue)
    assert st.chi_square([5, 0], [7, 0]) == (0.0, 1.0)


def test_binned_ks_equals_ks_2samp_when_each_value_has_its_bin() -> None:
    support = np.arange(20)
    a = RNG.integers(0, 20, size=3000)
    b = np.clip(RNG.integers(0, 20, size=2000) + RNG.integers(0, 3, size=2000), 0, 19)
    statistic, p = st.binned_ks(_counts(a, support), _counts(b, support))
    assert statistic == pytest.approx(sps.ks_2samp(a, b).statistic)
    n, m = len(a), len(b)
    assert p == pytest.approx(sps.kstwobign.sf(statistic * math.sqrt(n * m / (n + m))))


def test_binned_ks_p_value_is_close_to_scipy_asymptotic_on_continuous_data() -> None:
    a = RNG.normal(0, 1, 4000)
    b = RNG.normal(0.05, 1, 5000)
    edges = np.quantile(a, np.linspace(0, 1, 401)[1:-1])
    ca = np.bincount(np.searchsorted(edges, a, side="right"), minlength=400)
    cb = np.bincount(np.searchsorted(edges, b, side="right"), minlength=400)
    statistic, p = st.binned_ks(ca, cb)
    exact = sps.ks_2samp(a, b, method="asymp")
    assert statistic <= exact.statistic + 1e-12  # binned D never exceeds the raw one
    # ...and falls short by at most the largest share one bin holds (README bound)
    bound = max(max(ca) / ca.sum(), max(cb) / cb.sum())
    assert exact.statistic - statistic <= bound
    assert statistic == pytest.approx(exact.statistic, abs=0.01)
    assert p == pytest.approx(exact.pvalue, abs=0.05)


def test_binned_wasserstein_is_close_to_scipy_on_fine_bins() -> None:
    a = RNG.uniform(0, 10, 20000)
    b = RNG.uniform(1, 12, 20000)
    low, high = 0.0, 12.0
    edges = list(np.linspace(low, high, 241)[1:-1])
    ca = np.bincount(np.searchsorted(edges, a, side="right"), minlength=len(edges) + 1)
    cb = np.bincount(np.searchsorted(edges, b, side="right"), minlength=len(edges) + 1)
    binned = st.binned_wasserstein(edges, ca, cb, low, high)
    exact = sps.wasserstein_distance(a, b)
    assert binned == pytest.approx(exact, rel=0.02)
    # documented bound: sum over bins of width × (share in a + share in b)
    widths = np.diff([low, *edges, high])
    assert abs(binned - exact) <= float(np.sum(widths * (ca / ca.sum() + cb / cb.sum())))


def test_binned_wasserstein_of_uniform_blocks_is_exact() -> None:
    # U(0,1) against U(1,2): every unit of mass travels exactly 1.
    assert st.binned_wasserstein([1.0], [10, 0], [0, 10], 0.0, 2.0) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        st.binned_wasserstein([1.0], [1, 2, 3], [1, 2], 0.0, 2.0)


def test_two_proportion_pvalue_matches_chi_square_without_correction() -> None:
    k1, n1, k2, n2 = 430, 1000, 380, 950
    table = np.array([[k1, n1 - k1], [k2, n2 - k2]])
    expected = sps.chi2_contingency(table, correction=False).pvalue
    assert st.two_proportion_pvalue(k1, n1, k2, n2) == pytest.approx(expected)
    assert st.two_proportion_pvalue(0, 0, 5, 10) == 1.0
    assert st.two_proportion_pvalue(10, 10, 5, 5) == 1.0  # no variance: cannot tell


def test_binary_metrics_equal_their_definitions() -> None:
    m = st.binary_metrics(tp=40, fp=10, fn=20, tn=30)
    assert m == pytest.approx(
        {
            "accuracy": 0.7,
            "precision": 0.8,
            "recall": 40 / 60,
            "f1": 2 * 0.8 * (2 / 3) / (0.8 + 2 / 3),
        }
    )
    undefined = st.binary_metrics(0, 0, 0, 10)
    assert math.isnan(undefined["precision"]) and math.isnan(undefined["f1"])
    assert undefined["accuracy"] == 1.0


def test_auc_from_histograms_equals_mann_whitney_with_ties() -> None:
    pos_scores = RNG.integers(30, 100, size=400)
    neg_scores = RNG.integers(0, 70, size=900)
    support = np.arange(100)
    auc = st.auc_from_histograms(_counts(pos_scores, support), _counts(neg_scores, support))
    u = sps.mannwhitneyu(pos_scores, neg_scores).statistic
    assert auc == pytest.approx(u / (len(pos_scores) * len(neg_scores)))
    assert math.isnan(st.auc_from_histograms([1, 2], [0, 0]))


def test_regression_metrics_from_sums() -> None:
    actual = RNG.uniform(1, 10, 500)
    predicted = actual + RNG.normal(0, 1, 500)
    err = predicted - actual
    m = st.regression_metrics(
        len(err), np.abs(err).sum(), (err**2).sum(), np.abs(err / actual).sum(), len(err)
    )
    assert m["mae"] == pytest.approx(np.mean(np.abs(err)))
    assert m["rmse"] == pytest.approx(math.sqrt(np.mean(err**2)))
    assert m["mape"] == pytest.approx(np.mean(np.abs(err / actual)))
    assert all(math.isnan(v) for v in st.regression_metrics(0, 0, 0, 0, 0).values())


def test_uncalibrated_estimate_matches_calibrated_outcomes():
    """Without a calibrated baseline the trace takes the scores as probabilities (identity
    map, threshold 0.5): on scores that are calibrated, that is the real accuracy."""
    from sklearn.metrics import roc_auc_score

    from mlmon.analysis.calibration import bin_counts
    from mlmon.analysis.estimation import estimator_for

    p = RNG.beta(0.5, 2.0, 50_000)
    y = RNG.random(p.size) < p  # calibrated: P(y = 1 | p) = p
    choice = estimator_for(None, None)
    assert not choice.calibrated and not choice.classes_known
    estimate = choice.estimator.estimate(bin_counts(p, choice.estimator.calibration.edges))
    assert estimate.accuracy.value == pytest.approx(np.mean(np.maximum(p, 1 - p)), abs=0.005)
    assert estimate.accuracy.value == pytest.approx(np.mean((p >= 0.5) == y), abs=0.01)
    assert estimate.roc_auc.value == pytest.approx(roc_auc_score(y, p), abs=0.01)


def test_tail_probabilities_are_scipy_stats_own_to_the_bit() -> None:
    """scipy.special stands in for scipy.stats (1.4 s to import): the same values, exactly."""
    from mlmon.analysis.metrics import Stats, change_pvalue
    from mlmon.analysis.stats import paired_t

    rng = np.random.default_rng(11)
    for _ in range(200):
        k = int(rng.integers(2, 40))
        base = rng.integers(0, 300, size=k).astype(float)
        cur = rng.integers(0, 300, size=k).astype(float)
        statistic, p = st.chi_square(base, cur)
        dof = int(((base + cur) > 0).sum()) - 1
        assert p == float(sps.chi2.sf(statistic, dof))
        d, p = st.binned_ks(base, cur)
        n, m = base.sum(), cur.sum()
        assert p == min(1.0, float(sps.kstwobign.sf(d * math.sqrt(n * m / (n + m)))))
        diff = rng.normal(0.1, 1.0, int(rng.integers(2, 500)))
        t, p = paired_t(diff.size, diff.sum(), (diff * diff).sum())
        assert p == float(2.0 * sps.t.sf(abs(t), diff.size - 1))
        errors = [np.abs(rng.normal(mu, 1.0, 300)) for mu in (1.0, 1.0 + rng.uniform(0, 0.3))]
        now, before = (
            Stats(n=300, scored=300, sum_abs_error=e.sum(), sum_squared_error=(e * e).sum())
            for e in errors
        )
        p = change_pvalue(now, before, "mae")
        means = [e.sum() / 300 for e in errors]
        variances = [
            max((e * e).sum() / 300 - m * m, 0.0) / 300 for e, m in zip(errors, means, strict=True)
        ]
        z = (means[0] - means[1]) / math.sqrt(sum(variances))
        assert p == float(2 * sps.norm.sf(abs(z)))


def test_welch_tail_is_scipy_stats_own_to_the_bit() -> None:
    """Welch's non-integer degrees of freedom go through scipy.special.stdtr as well."""
    from mlmon.analysis.stats import welch_t

    rng = np.random.default_rng(5)
    for _ in range(200):
        a, b = rng.normal(0, 1, int(rng.integers(2, 300))), rng.normal(0.1, 2, 40)
        t, p = welch_t(a.size, a.sum(), (a * a).sum(), b.size, b.sum(), (b * b).sum())
        ma, mb = a.sum() / a.size, b.sum() / b.size
        va = max(((a * a).sum() - a.size * ma * ma) / (a.size - 1), 0.0) / a.size
        vb = max(((b * b).sum() - b.size * mb * mb) / (b.size - 1), 0.0) / b.size
        spread = va + vb
        df = spread * spread / (va * va / (a.size - 1) + vb * vb / (b.size - 1))
        assert p == float(2.0 * sps.t.sf(abs(t), df))
