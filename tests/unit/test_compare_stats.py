"""The paired comparison: its tests against scipy on the same counts, its ranking, its verdict."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from mlmon.analysis import compare as cmp
from mlmon.analysis.compare_result import LatencyComparison, PairCounts
from mlmon.analysis.stats import mcnemar, paired_t


@pytest.mark.parametrize(("b", "c"), [(0, 0), (3, 9), (141, 340), (25, 25), (1000, 1100)])
def test_mcnemar_is_the_exact_binomial_test_and_the_corrected_chi_square(b, c):
    statistic, p = mcnemar(b, c)
    if b + c == 0:
        assert (statistic, p) == (0.0, 1.0)
        return
    assert p == pytest.approx(sps.binomtest(b, b + c, 0.5).pvalue, rel=1e-9)
    expected = max(abs(b - c) - 1, 0) ** 2 / (b + c)
    assert statistic == pytest.approx(expected)
    if b + c > 1000:  # the exact and the chi-square p agree at large counts
        assert p == pytest.approx(sps.chi2.sf(statistic, 1), rel=0.1)


def test_paired_t_from_sums_is_scipys_ttest_rel():
    rng = np.random.default_rng(3)
    against = np.abs(rng.normal(0, 1, 500))
    candidate = np.abs(against + rng.normal(0.05, 0.3, 500))
    diff = candidate - against
    t, p = paired_t(diff.size, diff.sum(), (diff * diff).sum())
    expected = sps.ttest_rel(candidate, against)
    assert t == pytest.approx(expected.statistic, rel=1e-9)
    assert p == pytest.approx(expected.pvalue, rel=1e-9)
    assert paired_t(1, 1.0, 1.0) == (0.0, 1.0)


def counts(both: int, cand: int, against: int, neither: int, agree: int) -> PairCounts:
    n = both + cand + against + neither
    return PairCounts(n, n, agree, both, cand, against, neither)


def test_paired_overall_and_slices_find_the_worse_and_the_better_segment():
    buckets = {
        (("state", "TX"),): counts(800, 5, 120, 75, 870),  # candidate much worse
        (("state", "CA"),): counts(900, 0, 0, 100, 1000),  # identical answers
        (("cat", "e"),): counts(700, 80, 2, 18, 718),  # candidate better
        (("cat", "tiny"),): counts(40, 0, 20, 0, 40),  # below min support: never tested
    }
    overall = counts(2440, 85, 142, 193, 2628)  # the sum of the four
    settings = cmp.CompareSettings()
    slices = cmp.paired_slices(buckets, overall, "classification", "accuracy", settings)
    assert [s.filters for s in slices] == [{"state": "TX"}, {"cat": "e"}, {"state": "CA"}]
    assert slices[0].disagreement_rate == pytest.approx(130 / 1000)
    assert slices[0].difference == pytest.approx((5 - 120) / 1000)
    assert slices[0].p_value == pytest.approx(sps.binomtest(5, 125, 0.5).pvalue)
    worse, better = cmp.ranked(slices, "worse", 5), cmp.ranked(slices, "better", 5)
    assert [s.filters for s in worse] == [{"state": "TX"}]
    assert [s.filters for s in better] == [{"cat": "e"}]
    assert slices[2].direction == "same" and slices[2].impact is None
    result = cmp.paired_overall(overall, "classification", "accuracy", 0.01)
    assert result.difference == pytest.approx((85 - 142) / 2860)
    assert result.test.candidate_only == 85 and result.test.against_only == 142
    assert result.test.p_value == pytest.approx(sps.binomtest(85, 227, 0.5).pvalue)
    latency = LatencyComparison("total", {"p95": 50.0}, {"p95": 20.0}, 30.0)
    line = cmp.verdict(
        candidate="v2", against="v1", mode="paired", overall=result,
        latency=latency, worse=worse, better=better,
    )  # fmt: skip
    assert line.startswith("v2 would have been 2.0 points less accurate than v1 on the same")
    assert "30 ms slower at p95; worse on state=TX (0.805 against 0.920)" in line
    assert line.endswith("better on cat=e (0.975 against 0.877).")


def test_a_significant_difference_reads_as_would_have_been():
    result = cmp.paired_overall(
        counts(9000, 400, 190, 410, 9410), "classification", "accuracy", 0.01
    )
    line = cmp.verdict(
        candidate="v2", against="v1", mode="paired", overall=result,
        latency=None, worse=(), better=(),
    )  # fmt: skip
    assert line.startswith(
        "v2 would have been 2.1 points more accurate than v1 on the same requests"
    )


def test_regression_pairs_use_the_paired_t_test_on_absolute_errors():
    rng = np.random.default_rng(5)
    live = np.abs(rng.normal(0, 2, 300))
    cand = np.abs(live * 0.9 + rng.normal(0, 0.1, 300))
    d = cand - live
    pairs = PairCounts(
        requests=300, scored=300, sum_diff=float(d.sum()), sum_diff_squared=float((d * d).sum()),
        sum_abs_candidate=float(cand.sum()), sum_abs_against=float(live.sum()),
    )  # fmt: skip
    result = cmp.paired_overall(pairs, "regression", "mae", 0.01)
    assert result.test.name == "paired_t"
    assert result.candidate == pytest.approx(cand.mean()) and result.against == pytest.approx(
        live.mean()
    )
    assert result.test.p_value == pytest.approx(sps.ttest_rel(cand, live).pvalue, rel=1e-9)
    assert cmp.agreement(pairs) is None
