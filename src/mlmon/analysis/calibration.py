"""Calibrating a classifier's scores against the baseline's labels, from counts only.

Confidence-based performance estimation (:mod:`mlmon.analysis.cbpe`) needs
P(positive | score). Raw scores are rarely calibrated, so at registration the
baseline's scores are counted per fine score bin, positives and negatives
apart — what a ``range`` (or ``histogram``) aggregation with a ``filter``
sub-aggregation on the label returns — and an isotonic regression is fitted on
those counts: pool-adjacent-violators over the bins, each bin weighted by its
rows. On the same binned scores that is exactly what an isotonic regression
over the rows finds, because rows of one bin share one score.

As NannyML does, the map is kept only when it helps: cross-validated on the
baseline counts (stratified splits drawn with a fixed seed), the expected
calibration error of the calibrated probabilities must be lower than that of
the raw scores; otherwise the raw scores (bin centres) stand.

Everything here is numpy over a few hundred numbers: no rows, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlmon.errors import UsageError

#: Default resolution: 100 equal bins of width 0.01 on [0, 1].
DEFAULT_BINS = 100

ISOTONIC = "isotonic"
IDENTITY = "identity"  # raw scores kept: calibration did not lower the calibration error


def equal_width_edges(bins: int = DEFAULT_BINS) -> tuple[float, ...]:
    """Edges of ``bins`` equal bins on [0, 1] (``i / bins``, so 0.5 is exact for even bins)."""
    if bins < 2:
        raise UsageError(f"score bins: need at least 2, got {bins}")
    return tuple(i / bins for i in range(bins + 1))


def check_edges(edges: Sequence[float]) -> np.ndarray:
    """Edges as an array, refused unless strictly increasing from exactly 0 to exactly 1."""
    array = np.asarray(edges, dtype=float)
    if array.ndim != 1 or array.size < 3:
        raise UsageError("score bin edges: need at least 3 edges (2 bins)")
    if array[0] != 0.0 or array[-1] != 1.0:
        raise UsageError(f"score bin edges must run from 0 to 1, got {array[0]:g} to {array[-1]:g}")
    if not np.all(np.diff(array) > 0):
        raise UsageError("score bin edges must be strictly increasing")
    return array


def bin_counts(scores: Any, edges: Sequence[float], where: Any | None = None) -> tuple[int, ...]:
    """Rows per bin (only rows where ``where`` is true, if given), as a ``range``
    aggregation on ``edges`` counts them: [a, b), the last bin closed at 1.
    Scores outside [0, 1] (or not numbers) are refused, never clipped."""
    bounds = check_edges(edges)
    values = np.asarray(scores, dtype=float).ravel()
    bad = ~np.isfinite(values) | (values < 0.0) | (values > 1.0)
    if bad.any():
        first = values[bad][0]
        raise UsageError(
            f"{int(bad.sum())} score(s) outside [0, 1] (first: {first!r}): "
            "scores must be probabilities of the positive class"
        )
    index = np.clip(np.searchsorted(bounds, values, side="right") - 1, 0, bounds.size - 2)
    if where is not None:
        index = index[np.asarray(where, dtype=bool).ravel()]
    return tuple(int(c) for c in np.bincount(index, minlength=bounds.size - 1))


def pool_adjacent_violators(values: Sequence[float], weights: Sequence[float]) -> np.ndarray:
    """The non-decreasing sequence closest to ``values`` in weighted least squares.

    One pass with a stack of pooled blocks: a new point merges backwards while
    it is below the block before it. Weights must be positive.
    """
    y = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    if y.shape != w.shape or y.ndim != 1:
        raise ValueError("values and weights must be 1-d and of one length")
    if np.any(w <= 0):
        raise ValueError("weights must be positive")
    means: list[float] = []
    totals: list[float] = []
    sizes: list[int] = []
    for value, weight in zip(y, w, strict=True):
        mean, total, size = float(value), float(weight), 1
        while means and means[-1] > mean:
            prev_mean, prev_total, prev_size = means.pop(), totals.pop(), sizes.pop()
            mean = (prev_mean * prev_total + mean * total) / (prev_total + total)
            total += prev_total
            size += prev_size
        means.append(mean)
        totals.append(total)
        sizes.append(size)
    return np.repeat(np.asarray(means), sizes)


def isotonic_probabilities(
    positive: Sequence[int], negative: Sequence[int], centres: Sequence[float]
) -> np.ndarray:
    """P(positive | bin), non-decreasing in the score, for every bin.

    Fitted on the bins that hold rows; an empty bin takes the straight line
    between its neighbours' fitted values (the ends stay flat), as an
    isotonic regression over rows predicts between its fitted points.
    """
    pos = np.asarray(positive, dtype=float)
    n = pos + np.asarray(negative, dtype=float)
    x = np.asarray(centres, dtype=float)
    held = n > 0
    if not held.any():
        raise UsageError("calibration: the baseline has no labelled scores")
    fitted = pool_adjacent_violators(pos[held] / n[held], n[held])
    return np.interp(x, x[held], fitted)


def auc_from_counts(positive: Sequence[float], negative: Sequence[float]) -> float:
    """ROC AUC from (possibly fractional) positive and negative counts per ordered bin.

    The chance a positive outscores a negative, pairs in one bin counting half:
    the trapezoid under the ROC curve traced bin by bin. NaN without both classes.
    """
    pos = np.asarray(positive, dtype=float)
    neg = np.asarray(negative, dtype=float)
    n_pos, n_neg = pos.sum(), neg.sum()
    if n_pos <= 0 or n_neg <= 0:
        return float("nan")
    below = np.cumsum(neg) - neg
    return float(np.sum(pos * (below + neg / 2)) / (n_pos * n_neg))


def expected_calibration_error(
    rows: np.ndarray, positives: np.ndarray, probability_sums: np.ndarray, groups: int = 10
) -> float:
    """ECE over ``groups`` runs of consecutive bins holding about equal rows:
    sum over runs of share × |mean probability − positive rate|."""
    total = rows.sum()
    if total <= 0:
        return float("nan")
    before = np.cumsum(rows) - rows
    run = np.minimum((before / total * groups).astype(int), groups - 1)
    n = np.bincount(run, weights=rows, minlength=groups)
    hit = np.bincount(run, weights=positives, minlength=groups)
    prob = np.bincount(run, weights=probability_sums, minlength=groups)
    used = n > 0
    return float(np.sum(np.abs(prob[used] - hit[used])) / total)


@dataclass(frozen=True)
class CalibrationCheck:
    """Cross-validated expected calibration error, raw scores against the isotonic map."""

    ece_raw: float
    ece_calibrated: float
    splits: int

    @property
    def helps(self) -> bool:
        return self.ece_calibrated < self.ece_raw


def check_calibration(
    positive: Sequence[int],
    negative: Sequence[int],
    centres: Sequence[float],
    *,
    splits: int = 10,
    test_share: float = 0.1,
    seed: int = 42,
) -> CalibrationCheck:
    """Does isotonic calibration lower the calibration error on held-out baseline rows?

    Each split holds out ``test_share`` of the positives and of the negatives
    (drawn bin by bin without replacement, so stratified), fits on the rest and
    calibrates the held-out bins; the held-out rows of all splits are pooled,
    then both ECEs are taken on them, raw scores at their bin centres.
    """
    pos = np.asarray(positive, dtype=np.int64)
    neg = np.asarray(negative, dtype=np.int64)
    x = np.asarray(centres, dtype=float)
    rng = np.random.default_rng(seed)
    rows = np.zeros(x.size)
    hits = np.zeros(x.size)
    calibrated = np.zeros(x.size)
    for _ in range(splits):
        test_pos = rng.multivariate_hypergeometric(pos, round(pos.sum() * test_share))
        test_neg = rng.multivariate_hypergeometric(neg, round(neg.sum() * test_share))
        train_pos, train_neg = pos - test_pos, neg - test_neg
        probability = isotonic_probabilities(train_pos, train_neg, x)
        test_rows = test_pos + test_neg
        rows += test_rows
        hits += test_pos
        calibrated += test_rows * probability
    return CalibrationCheck(
        ece_raw=expected_calibration_error(rows, hits, rows * x),
        ece_calibrated=expected_calibration_error(rows, hits, calibrated),
        splits=splits,
    )


@dataclass(frozen=True)
class CalibrationMap:
    """P(positive | score bin) fitted on a baseline, with the counts it was fitted on.

    ``edges`` are the score bins (a window is counted on the same edges);
    ``positive``/``negative`` the baseline's labelled rows per bin, kept because
    the estimate's sampling error is taken from them (and they let the map be
    refitted); ``probability`` the calibrated positive rate per bin;
    ``method`` is ``isotonic`` or ``identity`` (raw bin centres, when the
    check found calibration did not help).
    """

    edges: tuple[float, ...]
    positive: tuple[int, ...]
    negative: tuple[int, ...]
    probability: tuple[float, ...]
    method: str
    check: CalibrationCheck | None = None

    @property
    def bins(self) -> int:
        return len(self.edges) - 1

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "method": self.method,
            "edges": list(self.edges),
            "positive": list(self.positive),
            "negative": list(self.negative),
            "probability": list(self.probability),
        }
        if self.check is not None:
            out["check"] = {
                "ece_raw": self.check.ece_raw,
                "ece_calibrated": self.check.ece_calibrated,
                "splits": self.check.splits,
            }
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CalibrationMap:
        try:
            edges = tuple(float(e) for e in data["edges"])
            check_edges(edges)
            fields = {name: tuple(data[name]) for name in ("positive", "negative", "probability")}
            method = str(data["method"])
        except (KeyError, TypeError, ValueError) as error:
            raise UsageError(f"calibration map in the profile is unreadable: {error}") from None
        if any(len(v) != len(edges) - 1 for v in fields.values()):
            raise UsageError("calibration map in the profile: counts do not match its bins")
        if method not in (ISOTONIC, IDENTITY):
            raise UsageError(f"calibration map in the profile: unknown method {method!r}")
        check = data.get("check")
        return cls(
            edges=edges,
            positive=tuple(int(v) for v in fields["positive"]),
            negative=tuple(int(v) for v in fields["negative"]),
            probability=tuple(float(v) for v in fields["probability"]),
            method=method,
            check=CalibrationCheck(
                float(check["ece_raw"]), float(check["ece_calibrated"]), int(check["splits"])
            )
            if check
            else None,
        )


def centres_of(edges: Sequence[float]) -> np.ndarray:
    bounds = np.asarray(edges, dtype=float)
    return (bounds[:-1] + bounds[1:]) / 2


def fit_calibration(
    positive: Sequence[int],
    negative: Sequence[int],
    edges: Sequence[float] | None = None,
    *,
    method: str = "auto",
) -> CalibrationMap:
    """Fit the map on the baseline's labelled counts per score bin.

    ``method``: ``auto`` (isotonic when the cross-validated check says it
    lowers the calibration error, NannyML's rule), ``isotonic`` or ``identity``.
    Both classes must be present: with one class, P(positive | score) is 0 or 1
    everywhere and no performance can be estimated against it.
    """
    bounds = check_edges(edges if edges is not None else equal_width_edges())
    pos = np.asarray(positive, dtype=np.int64)
    neg = np.asarray(negative, dtype=np.int64)
    if pos.shape != neg.shape or pos.size != bounds.size - 1:
        raise UsageError(
            f"calibration: {pos.size} positive and {neg.size} negative counts "
            f"for {bounds.size - 1} score bins"
        )
    if np.any(pos < 0) or np.any(neg < 0):
        raise UsageError("calibration: counts cannot be negative")
    if pos.sum() == 0 or neg.sum() == 0:
        only = "negative" if pos.sum() == 0 else "positive"
        raise UsageError(
            f"calibration: every labelled baseline row is {only}; "
            "scores cannot be calibrated without both classes"
        )
    if method not in ("auto", ISOTONIC, IDENTITY):
        raise UsageError(f"calibration method: {method!r} (auto, isotonic or identity)")
    x = centres_of(bounds)
    check = None
    chosen = method
    if method == "auto":
        if auc_from_counts(pos, neg) > 0.999:  # separable: nothing to calibrate (NannyML)
            chosen = IDENTITY
        else:
            check = check_calibration(pos, neg, x)
            chosen = ISOTONIC if check.helps else IDENTITY
    probability = isotonic_probabilities(pos, neg, x) if chosen == ISOTONIC else x
    return CalibrationMap(
        edges=tuple(float(e) for e in bounds),
        positive=tuple(int(v) for v in pos),
        negative=tuple(int(v) for v in neg),
        probability=tuple(float(p) for p in probability),
        method=chosen,
        check=check,
    )
