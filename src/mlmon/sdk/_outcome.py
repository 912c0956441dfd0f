"""What a model's outcome is, from the call: a class label or a regression value.

``log.prediction(features, prediction=25.3)`` is the natural call for a
regressor, and ``prediction=`` stands for a label in the event schema. When
the logger knows its task (``task=`` or the profile it was given), a number
passed to a regression model's ``prediction=``/``label=`` is stored as
``value`` (so the join computes its errors); when it does not know, a
fractional number as a label is refused in one line that names ``value=``,
rather than indexed as the class ``"25.3"`` that every actual then misses.
Integral numbers (``1``, ``1.0``) stay class labels: classifiers use them.
"""

from __future__ import annotations

import numbers
from typing import Any, Literal

from mlmon.errors import InvalidEventError

Task = Literal["classification", "regression"]


def _fractional(value: Any) -> bool:
    if isinstance(value, (bool, numbers.Integral)) or not isinstance(value, numbers.Real):
        return False
    number = float(value)
    return number == number and not number.is_integer()  # NaN is missing, not a number


def logger_task(task: Any, profile: Any) -> Task | None:
    """The logger's task: as given, else its profile's (None: not known at call time)."""
    if task not in (None, "classification", "regression"):
        raise ValueError(f"task {task!r} is not 'classification' or 'regression'")
    return task or (profile.task if profile is not None else None)


def outcome(
    label: Any, value: Any, *, task: Task | None, argument: str, field: str
) -> dict[str, Any]:
    """The ``label``/``value`` keys of ``field`` (``prediction`` or ``actual``).

    ``argument``: the keyword the caller used for the label (``prediction`` or
    ``label``), named in the error.
    """
    if label is not None and task == "regression":
        if value is not None:
            raise InvalidEventError(
                f"{field}: give {argument}= or value=, not both (a regression model has a value)"
            )
        return {"value": label}
    if task is None and _fractional(label):
        raise InvalidEventError(
            f"{argument}={label!r} looks like a regression output: pass value={label!r} "
            f"(or task='regression' to the PredictionLogger); {argument}= is a class label"
        )
    return {k: v for k, v in (("label", label), ("value", value)) if v is not None}


__all__ = ["Task", "logger_task", "outcome"]
