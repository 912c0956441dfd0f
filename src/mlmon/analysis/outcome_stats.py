"""A profile's stored outcome sums as :class:`~mlmon.analysis.metrics.Stats`.

The profile keeps what the window's aggregations count (rows with a label
and how many were right; rows with a value and their error sums), so a
profile bucket and a window bucket are the same kind of value and every
metric (accuracy, MAE, RMSE, MAPE) compares like with like. Stored forms
are in :mod:`mlmon.baseline.outcomes`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlmon.analysis.metrics import Stats
from mlmon.baseline.profile import BucketPerformance


def performance_stats(rows: float, perf: BucketPerformance) -> Stats:
    """``rows`` predictions in the bucket, ``perf`` its outcome sums."""
    if not perf.is_regression:
        return Stats(n=rows, labelled=perf.n, correct=perf.correct)
    return Stats(
        n=rows,
        scored=perf.n,
        sum_abs_error=perf.sum_abs_error or 0.0,
        sum_squared_error=perf.sum_squared_error or 0.0,
        percentage_scored=perf.percentage_n or 0,
        sum_abs_percentage_error=perf.sum_abs_percentage_error or 0.0,
    )


def cross_stats(sums: Sequence[Any]) -> Stats:
    """A stored cross cell's counts: ``[n, correct]`` or the five regression sums."""
    if len(sums) == 2:
        n, correct = sums
        return Stats(n=n, labelled=n, correct=correct)
    n, abs_error, squared_error, percentage_n, abs_percentage_error = sums
    return Stats(
        n=n,
        scored=n,
        sum_abs_error=abs_error,
        sum_squared_error=squared_error,
        percentage_scored=percentage_n,
        sum_abs_percentage_error=abs_percentage_error,
    )


def regression_overall(rows: int, performance: Mapping[str, float]) -> Stats:
    """The whole profile's error sums, back from its stored MAE, RMSE and MAPE."""
    n = float(performance.get("n", 0))
    percentage_n = float(performance.get("mape_n", 0))
    return Stats(
        n=rows,
        scored=n,
        sum_abs_error=float(performance.get("mae", 0.0)) * n,
        sum_squared_error=float(performance.get("rmse", 0.0)) ** 2 * n,
        percentage_scored=percentage_n,
        sum_abs_percentage_error=float(performance.get("mape", 0.0)) * percentage_n,
    )
