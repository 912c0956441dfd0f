"""Actuals that were joined but cannot score the traced metric, and why.

A classification trace counts ``actual.correct`` (labels), a regression
trace the errors (values). When a window's actuals are all of the other
kind — a regressor's numbers logged as class labels, or labels sent to a
regression profile — the traced metric has nothing to stand on, and "with
actuals 0" would be false: they were joined. The caller counts the window
once more as the other task (one aggregation) and this says what happened.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlmon.analysis.metrics import Stats, Task


@dataclass(frozen=True)
class UnusableActuals:
    joined: int  # actuals joined to the window's predictions, of the other kind
    reason: str


def unusable_actuals(task: Task, other: Stats, basis: str) -> UnusableActuals | None:
    """``other``: the window counted as the other task; None when it has no actuals either.

    ``basis``: why the trace is ``task`` ("the profile is classification").
    """
    if task == "classification":
        joined = int(other.scored)
        if not joined:
            return None
        return UnusableActuals(
            joined,
            f"{joined:,} actuals joined, but numeric while {basis}: classification "
            f"metrics need class labels (label=); for a regressor, register the profile "
            f"with a numeric label column (regression) and trace --metric mae",
        )
    joined = int(other.labelled)
    if not joined:
        return None
    return UnusableActuals(
        joined,
        f"{joined:,} actuals joined, but as class labels while {basis}: MAE, RMSE and "
        f"MAPE need numeric values (log them with value=, or with "
        f"PredictionLogger(task='regression'))",
    )


def other_task(task: Task) -> Task:
    return "classification" if task == "regression" else "regression"


__all__ = ["UnusableActuals", "other_task", "unusable_actuals"]
