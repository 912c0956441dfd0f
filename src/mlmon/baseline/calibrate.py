"""The baseline's score calibration, fitted at registration (``Profile.calibration``).

A binary classifier's baseline table with a score column and labels is
counted per score bin — labelled positives and negatives apart, and the
rows the model predicted as the score's class and as the other — exactly as
a ``range`` aggregation with ``filter`` sub-aggregations would count them.
Those counts give the calibration map and the decision rule
(:mod:`mlmon.analysis.calibration`, :mod:`mlmon.analysis.cbpe`) that let a
window without actuals be estimated from its score histogram
(:mod:`mlmon.analysis.estimation`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from mlmon.analysis.calibration import bin_counts, equal_width_edges, fit_calibration
from mlmon.analysis.cbpe import DecisionRule, fit_rule
from mlmon.analysis.estimation import CALIBRATION_BINS, ScoreCalibration
from mlmon.errors import ProfileError, UsageError


def score_label(scores: pd.Series, classes: pd.Series) -> str:
    """The class the score is a probability of: the one whose rows score higher on average."""
    means = scores.groupby(classes).mean()
    return str(means.idxmax())


def score_calibration(
    scores: pd.Series,
    labels: pd.Series,
    predicted: pd.Series | None,
    *,
    bins: int = CALIBRATION_BINS,
) -> dict[str, Any] | None:
    """The stored calibration, or None unless the labels have exactly two classes.

    ``labels``/``predicted``: the label and prediction columns as events carry them
    (keywords, None for missing). Rows lacking a score or a label are left out of the
    fit; without a prediction column the rule is the score's default, 0.5.
    """
    classes = sorted(labels.dropna().unique())
    if len(classes) != 2:
        return None
    numbers = pd.to_numeric(scores, errors="coerce").astype(float)
    usable = numbers.notna() & labels.notna()
    if not usable.any():
        return None
    score, label = numbers[usable], labels[usable]
    named_by = predicted[usable] if predicted is not None else label
    known = named_by.notna()
    of = score_label(score[known], named_by[known])
    edges = equal_width_edges(bins)
    try:
        calibration = fit_calibration(
            bin_counts(score, edges, label == of), bin_counts(score, edges, label != of), edges
        )
        rule, misses = DecisionRule(0.5), None
        if predicted is not None:
            said = predicted[usable]
            fitted = fit_rule(
                bin_counts(score, edges, said == of),
                bin_counts(score, edges, said.notna() & (said != of)),
                edges,
            )
            rule, misses = fitted.rule, fitted.misses
    except UsageError as error:  # scores outside [0, 1], one class only…
        raise ProfileError(f"score column: {error}") from None
    return ScoreCalibration(calibration, rule, of, misses).to_dict()


__all__ = ["score_calibration", "score_label"]
