"""Compare a candidate version with the live one: paired on the same requests when it can.

Pure over counts. **Paired** (shadow predictions paired with the live
prediction of the same request, :mod:`mlmon.schema.pairing`): agreement,
each version's metric on the same requests with a paired test — McNemar's
(exact) on who was right for classification, a paired t-test on the
per-request difference of absolute error for regression — and the same per
single-feature slice, corrected (Bonferroni) for the slices tested.
**Population** (a canary: different requests): each version's metric on its
own traffic with an unpaired test, overall and per slice; the report says
it fell back. Crosses of features are not compared (one level of slices).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from mlmon.analysis import stats as st
from mlmon.analysis.compare_result import (
    Agreement,
    LatencyComparison,
    MetricComparison,
    PairCounts,
    PairedTest,
    SliceComparison,
)
from mlmon.analysis.dimensions import SliceKey, describe
from mlmon.analysis.metrics import Stats, change_pvalue, degradation, finite, metric_value

Percentiles = Mapping[str, float]


@dataclass(frozen=True)
class CompareSettings:
    alpha: float = 0.01  # family-wise, Bonferroni over the slices tested
    min_support: int = 100  # labelled (or scored) requests for a slice to be tested
    min_difference: float = 0.02  # accuracy points (or MAE units) a slice must move
    top: int = 10


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def paired_metric(counts: PairCounts, task: str) -> tuple[float | None, float | None, int]:
    """(candidate, against, requests it stands on): accuracy or MAE on the same requests."""
    if task == "regression":
        n = counts.scored
        return _ratio(counts.sum_abs_candidate, n), _ratio(counts.sum_abs_against, n), n
    n = counts.labelled
    right_c = counts.both + counts.candidate_only
    right_a = counts.both + counts.against_only
    return _ratio(right_c, n), _ratio(right_a, n), n


def paired_test(counts: PairCounts, task: str) -> PairedTest:
    if task == "regression":
        t, p = st.paired_t(counts.scored, counts.sum_diff, counts.sum_diff_squared)
        mean = _ratio(counts.sum_diff, counts.scored)
        return PairedTest("paired_t", finite(t), p, mean_difference=mean)
    statistic, p = st.mcnemar(counts.candidate_only, counts.against_only)
    return PairedTest(
        "mcnemar_exact",
        statistic,
        p,
        candidate_only=counts.candidate_only,
        against_only=counts.against_only,
    )


def _direction(difference: float | None, metric: str, significant: bool) -> str:
    if not significant or difference is None or difference == 0:
        return "same"
    return "worse" if degradation(0.0, difference, metric) > 0 else "better"


def _difference(candidate: float | None, against: float | None) -> float | None:
    return candidate - against if candidate is not None and against is not None else None


def paired_overall(counts: PairCounts, task: str, metric: str, alpha: float) -> MetricComparison:
    candidate, against, n = paired_metric(counts, task)
    test = paired_test(counts, task)
    return MetricComparison(
        metric, candidate, against, _difference(candidate, against), n, test, test.p_value < alpha
    )


def population_overall(
    candidate: Stats, against: Stats, metric: str, alpha: float
) -> MetricComparison:
    mine, theirs = finite(metric_value(candidate, metric)), finite(metric_value(against, metric))
    p = change_pvalue(candidate, against, metric)
    name = "mae_z" if metric == "mae" else "two_proportion_z"
    count = int(candidate.scored if metric == "mae" else candidate.labelled)
    return MetricComparison(
        metric, mine, theirs, _difference(mine, theirs), count, PairedTest(name, None, p), p < alpha
    )


def agreement(counts: PairCounts) -> Agreement | None:
    if not counts.compared:
        return None
    return Agreement(_ratio(counts.agree, counts.compared), counts.agree, counts.compared)


def _slice(
    key: SliceKey,
    *,
    count: int,
    total: int,
    disagreement: float | None,
    candidate: float | None,
    against: float | None,
    p_value: float,
    tested: int,
    metric: str,
    settings: CompareSettings,
) -> SliceComparison:
    difference = _difference(candidate, against)
    significant = (
        tested > 0
        and p_value < settings.alpha / tested
        and difference is not None
        and abs(difference) >= settings.min_difference
    )
    direction = _direction(difference, metric, significant)
    share = count / total if total else 0.0
    impact = None
    if direction != "same" and difference is not None:
        impact = share * abs(difference)
    return SliceComparison(
        dict(key),
        count,
        share,
        disagreement,
        candidate,
        against,
        difference,
        p_value,
        significant,
        direction,
        impact,
    )


def paired_slices(
    buckets: Mapping[SliceKey, PairCounts],
    overall: PairCounts,
    task: str,
    metric: str,
    settings: CompareSettings,
) -> list[SliceComparison]:
    """Every slice with enough support, ranked by disagreement (regression: by |t|)."""
    supported = {
        key: counts
        for key, counts in buckets.items()
        if paired_metric(counts, task)[2] >= settings.min_support
    }
    out = []
    for key, counts in supported.items():
        candidate, against, _ = paired_metric(counts, task)
        out.append(
            _slice(
                key,
                count=counts.requests,
                total=overall.requests,
                disagreement=None
                if task == "regression"
                else _ratio(counts.compared - counts.agree, counts.compared),
                candidate=candidate,
                against=against,
                p_value=paired_test(counts, task).p_value,
                tested=len(supported),
                metric=metric,
                settings=settings,
            )
        )
    if task == "regression":
        out.sort(key=lambda s: (s.p_value, -s.count, describe(s.filters.items())))
    else:
        out.sort(
            key=lambda s: (-(s.disagreement_rate or 0.0), -s.count, describe(s.filters.items()))
        )
    return out


def population_slices(
    candidate: Mapping[SliceKey, Stats],
    against: Mapping[SliceKey, Stats],
    candidate_total: int,
    metric: str,
    settings: CompareSettings,
) -> list[SliceComparison]:
    """Slices present on both sides with enough support, ranked by |difference|."""
    size = "scored" if metric == "mae" else "labelled"
    keys = [
        key
        for key in candidate
        if key in against
        and getattr(candidate[key], size) >= settings.min_support
        and getattr(against[key], size) >= settings.min_support
    ]
    out = [
        _slice(
            key,
            count=int(candidate[key].n),
            total=candidate_total,
            disagreement=None,
            candidate=finite(metric_value(candidate[key], metric)),
            against=finite(metric_value(against[key], metric)),
            p_value=change_pvalue(candidate[key], against[key], metric),
            tested=len(keys),
            metric=metric,
            settings=settings,
        )
        for key in keys
    ]
    out.sort(key=lambda s: (-abs(s.difference or 0.0), describe(s.filters.items())))
    return out


def ranked(slices: list[SliceComparison], direction: str, top: int) -> tuple[SliceComparison, ...]:
    """The significant slices of one direction, by what they cost (or gain) overall."""
    chosen = [s for s in slices if s.direction == direction]
    chosen.sort(key=lambda s: (-(s.impact or 0.0), describe(s.filters.items())))
    return tuple(chosen[:top])


def latency_comparison(
    candidate: Percentiles | None, against: Percentiles | None
) -> LatencyComparison | None:
    if not candidate or not against:
        return None
    p95 = None
    if candidate.get("p95") is not None and against.get("p95") is not None:
        p95 = candidate["p95"] - against["p95"]
    return LatencyComparison("total", dict(candidate), dict(against), p95)


def _points(value: float) -> str:
    return f"{100 * abs(value):.1f} points"


def verdict(
    *,
    candidate: str,
    against: str,
    mode: str,
    overall: MetricComparison,
    latency: LatencyComparison | None,
    worse: tuple[SliceComparison, ...],
    better: tuple[SliceComparison, ...],
) -> str:
    """The answer in one line: the metric change, the latency cost, where it is worse."""
    d = overall.difference
    same = "on the same requests" if mode == "paired" else "on its own traffic"
    p = f"{overall.test.name.replace('_', ' ')} p={overall.test.p_value:.2g}"
    if d is None:
        text = f"{candidate} and {against} have no labelled requests to compare {same} yet"
    elif overall.metric == "mae":
        word = "lower" if d < 0 else "higher"
        size = f"{abs(d):.3g} {word}"
        text = f"{candidate}'s MAE would have been {size} than {against}'s {same} ({p})"
        if not overall.significant:
            text = (
                f"{candidate}'s MAE is not significantly different from {against}'s {same} "
                f"({size}, {p})"
            )
    elif overall.significant:
        word = "more" if d > 0 else "less"
        verb = "would have been" if mode == "paired" else "is"
        text = f"{candidate} {verb} {_points(d)} {word} accurate than {against} {same} ({p})"
    else:
        text = (
            f"{candidate} is as accurate as {against} {same} "
            f"({'+' if d >= 0 else '−'}{_points(d)}, not significant: {p})"
        )
    if latency is not None and latency.p95_difference_ms is not None:
        ms = latency.p95_difference_ms
        text += f", {abs(ms):.0f} ms {'slower' if ms > 0 else 'faster'} at p95"
    for label, group in (("worse", worse), ("better", better)):
        if group:
            top = group[0]
            text += (
                f"; {label} on {describe(top.filters.items())} "
                f"({_value(top.candidate)} against {_value(top.against)})"
            )
    return text + "."


def _value(value: float | None) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.3f}"
