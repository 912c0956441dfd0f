"""Per-row outcome sums of a training table: what per-bucket performance is summed from.

A profile keeps, per bucket (category, numeric bin, cross cell), the sums
that the window's aggregations also give: for classification the rows with
a label and how many were right; for regression the rows with a value and
their summed absolute, squared and absolute-percentage errors. So MAE, RMSE
and MAPE of any bucket come from sums on both sides (Elasticsearch ``stats``
over the fields the join stores, pandas group-bys, this table), and a
bucket's baseline is never recomputed from rows. Errors are prediction −
actual, and the percentage error skips zero actuals, exactly as
:func:`mlmon.schema.document.score_outcome` writes them on a joined event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from mlmon.baseline.profile import BucketPerformance, Task

#: The additive columns of each task, in the order a stored cross row keeps them.
CLASSIFICATION_SUMS = ("n", "correct")
REGRESSION_SUMS = (
    "n",
    "sum_abs_error",
    "sum_squared_error",
    "percentage_n",
    "sum_abs_percentage_error",
)
#: Distinct numeric labels above which an integer label is a quantity, not a class.
MAX_CLASSES = 20


def sums_of(task: Task | None) -> tuple[str, ...]:
    return REGRESSION_SUMS if task == "regression" else CLASSIFICATION_SUMS


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def infer_task(labels: pd.Series, predictions: pd.Series | None = None) -> Task:
    """Regression when the labels are numbers that are not a handful of classes.

    Numeric labels with a non-integer value (in the labels or the predictions),
    or with more than ``MAX_CLASSES`` distinct values, are quantities; integer
    labels with few values (0/1, star ratings) are classes.
    """
    present = labels.dropna()
    if present.empty or not _is_numeric(present):
        return "classification"
    values = [present.astype(float)]
    if predictions is not None and _is_numeric(predictions.dropna()):
        values.append(predictions.dropna().astype(float))
    fractional = any(not np.all(np.equal(np.mod(v, 1), 0)) for v in values)
    return "regression" if fractional or present.nunique() > MAX_CLASSES else "classification"


def classification_outcomes(labels: pd.Series, predicted: pd.Series) -> pd.DataFrame:
    """One row per labelled, predicted row: n = 1 and correct = 0/1 (labels as keywords)."""
    both = labels.notna() & predicted.notna()
    return pd.DataFrame(
        {"n": 1, "correct": (labels[both] == predicted[both]).astype(int)},
        index=labels.index[both],
    )


def regression_outcomes(truth: pd.Series, guess: pd.Series) -> pd.DataFrame:
    """One row per row with both numbers: n = 1 and its errors (prediction − actual)."""
    truth = pd.to_numeric(truth, errors="coerce").astype(float)
    guess = pd.to_numeric(guess, errors="coerce").astype(float)
    both = np.isfinite(truth) & np.isfinite(guess)
    y, error = truth[both], guess[both] - truth[both]
    nonzero = y != 0.0
    return pd.DataFrame(
        {
            "n": 1,
            "sum_abs_error": error.abs(),
            "sum_squared_error": error * error,
            "percentage_n": nonzero.astype(int),
            "sum_abs_percentage_error": (error.abs() / y.abs()).where(nonzero, 0.0),
        },
        index=truth.index[both],
    )


def bucket_performance(sums: Mapping[str, Any]) -> BucketPerformance:
    """A bucket's summed outcome columns as the profile stores them."""
    if "correct" in sums:
        return BucketPerformance(int(sums["n"]), int(sums["correct"]))
    return BucketPerformance(
        n=int(sums["n"]),
        sum_abs_error=float(sums["sum_abs_error"]),
        sum_squared_error=float(sums["sum_squared_error"]),
        percentage_n=int(sums["percentage_n"]),
        sum_abs_percentage_error=float(sums["sum_abs_percentage_error"]),
    )


def empty_performance(task: Task | None) -> BucketPerformance:
    return bucket_performance(dict.fromkeys(sums_of(task), 0))


def overall_performance(outcomes: pd.DataFrame, task: Task) -> dict[str, float]:
    """The profile's headline performance: the metrics and the counts they stand on."""
    total = outcomes.sum()
    n = int(total.get("n", 0))
    if task == "classification":
        return {"accuracy": float(total["correct"] / n) if n else 0.0, "n": n}
    percentage_n = int(total["percentage_n"]) if n else 0
    return {
        "mae": float(total["sum_abs_error"] / n) if n else 0.0,
        "rmse": float(np.sqrt(total["sum_squared_error"] / n)) if n else 0.0,
        "mape": float(total["sum_abs_percentage_error"] / percentage_n) if percentage_n else 0.0,
        "n": n,
        "mape_n": percentage_n,
    }


def cross_row(sums: pd.Series, task: Task | None) -> list[Any]:
    """A cross cell's counts as the stored row keeps them after its buckets."""
    return [
        int(sums[name]) if name in ("n", "correct", "percentage_n") else float(sums[name])
        for name in sums_of(task)
    ]


__all__ = [
    "CLASSIFICATION_SUMS",
    "REGRESSION_SUMS",
    "bucket_performance",
    "classification_outcomes",
    "cross_row",
    "empty_performance",
    "infer_task",
    "overall_performance",
    "regression_outcomes",
    "sums_of",
]
