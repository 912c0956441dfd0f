"""Build a :class:`~mlmon.baseline.profile.Profile` from a training or validation table.

Pure: a DataFrame in, a frozen value out (no clock, no I/O). This is the
pandas side of baselines (``mlmon baseline register``, the demo, tests);
the values it returns, and everything that reads them, need no pandas.

Kinds: a column of a numeric dtype (int or float, not bool) is *numeric*;
any other column (strings, categories, booleans, mixed) is *categorical*,
its values kept as the strings events carry
(:func:`mlmon.schema.document.normalize_label`). Bins are cut at quantiles
i/bins and counted with ``numpy.searchsorted(edges, x, side="right")``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from mlmon.baseline.calibrate import score_calibration
from mlmon.baseline.profile import BucketPerformance, FeatureProfile, Profile, Task
from mlmon.errors import InvalidEventError, ProfileError
from mlmon.schema.document import normalize_label
from mlmon.schema.event import validate_feature_name, validate_model_name, validate_version


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _as_keywords(series: pd.Series, column: str) -> pd.Series:
    """Values as events carry them; missing stays missing."""

    def convert(value: Any) -> Any:
        try:
            return normalize_label(column, value)
        except InvalidEventError as exc:
            raise ProfileError(f"column {column!r}: {exc}") from None

    return series.map(convert, na_action="ignore").astype(object).where(series.notna(), None)


def _finite(value: float) -> float:
    return float(value) if np.isfinite(value) else 0.0


def _bucket_performance(
    keys: pd.Series, correct: pd.Series | None
) -> dict[Any, BucketPerformance] | None:
    if correct is None:
        return None
    labelled = correct.notna()
    grouped = (
        pd.DataFrame({"key": keys[labelled], "ok": correct[labelled].astype(bool)})
        .groupby("key", sort=True, dropna=True)["ok"]
        .agg(["size", "sum"])
    )
    return {
        key: BucketPerformance(int(row["size"]), int(row["sum"])) for key, row in grouped.iterrows()
    }


def _missing_performance(missing: pd.Series, correct: pd.Series | None) -> BucketPerformance | None:
    if correct is None:
        return None
    rows = correct[missing & correct.notna()]
    return BucketPerformance(int(rows.size), int(rows.astype(bool).sum()))


def _categorical(
    name: str, series: pd.Series, correct: pd.Series | None, max_categories: int
) -> FeatureProfile:
    values = _as_keywords(series, name)
    present = values.notna()
    counts = values[present].value_counts(sort=True)
    complete = len(counts) <= max_categories
    kept = counts.iloc[:max_categories]
    vocabulary = {str(k): int(v) for k, v in kept.items()}
    performance = _bucket_performance(values.where(values.isin(vocabulary)), correct)
    return FeatureProfile(
        name=name,
        kind="categorical",
        count=int(series.size),
        missing=int((~present).sum()),
        vocabulary=vocabulary,
        vocabulary_complete=complete,
        performance={str(k): v for k, v in (performance or {}).items()}
        if correct is not None
        else None,
        missing_performance=_missing_performance(~present, correct),
    )


def quantile_edges(values: np.ndarray, bins: int) -> list[float]:
    """Interior cut points at quantiles i/bins, deduplicated and strictly increasing."""
    if values.size == 0:
        return []
    cuts = np.quantile(values, [i / bins for i in range(1, bins)])
    return [float(x) for x in np.unique(cuts)]


def _numeric(name: str, series: pd.Series, correct: pd.Series | None, bins: int) -> FeatureProfile:
    numbers = pd.to_numeric(series, errors="coerce").astype(float)
    numbers = numbers.where(np.isfinite(numbers))
    present = numbers.notna()
    values = numbers[present].to_numpy()
    edges = quantile_edges(values, bins)
    positions = np.searchsorted(np.asarray(edges), values, side="right")
    bin_counts = np.bincount(positions, minlength=len(edges) + 1)
    performance = None
    if correct is not None:
        by_bin = _bucket_performance(
            pd.Series(positions, index=numbers.index[present]), correct[present]
        )
        performance = [by_bin.get(i, BucketPerformance(0, 0)) for i in range(len(edges) + 1)]
    return FeatureProfile(
        name=name,
        kind="numeric",
        count=int(series.size),
        missing=int((~present).sum()),
        minimum=float(values.min()) if values.size else None,
        maximum=float(values.max()) if values.size else None,
        mean=_finite(values.mean()) if values.size else None,
        std=_finite(values.std(ddof=0)) if values.size else None,
        bin_edges=edges,
        bin_counts=[int(c) for c in bin_counts],
        performance=performance,
        missing_performance=_missing_performance(~present, correct),
    )


def _infer_task(labels: pd.Series) -> Task:
    """Regression when labels are numeric with many non-integer values; else classification."""
    present = labels.dropna()
    if _is_numeric(present) and present.nunique() > 20:
        as_float = present.astype(float)
        if not np.all(np.equal(np.mod(as_float, 1), 0)):
            return "regression"
    return "classification"


def build_profile(
    frame: pd.DataFrame,
    *,
    model: str,
    version: str,
    name: str,
    created_at: str,
    label_column: str | None = None,
    prediction_column: str | None = None,
    score_column: str | None = None,
    feature_columns: Sequence[str] | None = None,
    bins: int = 10,
    max_categories: int = 10_000,
    max_cross_features: int = 12,
    categorical: Sequence[str] = (),
) -> Profile:
    """Profile ``frame``; every argument problem is a :class:`ProfileError` naming it."""
    try:
        validate_model_name(model)
        validate_version(version)
    except InvalidEventError as exc:
        raise ProfileError(str(exc)) from None
    if frame.empty:
        raise ProfileError("the table has no rows")
    if bins < 2:
        raise ProfileError("bins must be at least 2")
    special = [c for c in (label_column, prediction_column, score_column) if c]
    for column in [*special, *(feature_columns or []), *categorical]:
        if column not in frame.columns:
            shown = ", ".join(map(str, list(frame.columns)[:20]))
            raise ProfileError(f"column {column!r} is not in the table (columns: {shown})")
    features = (
        list(feature_columns) if feature_columns else [c for c in frame.columns if c not in special]
    )
    if not features:
        raise ProfileError("the table has no feature columns")
    for column in features:
        try:
            validate_feature_name(column)
        except InvalidEventError as exc:
            raise ProfileError(f"column {column!r} cannot be a feature: {exc}") from None

    task: Task | None = None
    labels = correct = None
    performance: dict[str, float] | None = None
    label_counts: dict[str, int] | None = None
    if label_column:
        raw_labels = frame[label_column]
        task = _infer_task(raw_labels)
        if task == "classification":
            labels = _as_keywords(raw_labels, label_column)
            label_counts = {str(k): int(v) for k, v in labels.dropna().value_counts().items()}
        if prediction_column:
            if task == "classification":
                predicted = _as_keywords(frame[prediction_column], prediction_column)
                both = labels.notna() & predicted.notna()
                correct = (labels == predicted).astype(object).where(both, None)
                hits = correct[both].astype(bool)
                performance = {
                    "accuracy": float(hits.mean()) if hits.size else 0.0,
                    "n": int(hits.size),
                }
            else:
                truth = pd.to_numeric(raw_labels, errors="coerce")
                guess = pd.to_numeric(frame[prediction_column], errors="coerce")
                both = truth.notna() & guess.notna()
                error = (guess[both] - truth[both]).to_numpy(dtype=float)
                performance = {
                    "mae": float(np.abs(error).mean()) if error.size else 0.0,
                    "rmse": float(np.sqrt((error**2).mean())) if error.size else 0.0,
                    "n": int(error.size),
                }

    profiles = {}
    for column in features:
        series = frame[column]
        profiles[column] = (
            _numeric(column, series, correct, bins)
            if _is_numeric(series) and column not in categorical
            else _categorical(column, series, correct, max_categories)
        )
    crosses = (
        cross_performance(frame, profiles, correct, max_features=max_cross_features)
        if correct is not None
        else {}
    )
    outputs = {}
    if prediction_column and task != "regression":
        outputs["prediction.label"] = _categorical(
            "prediction.label", frame[prediction_column], None, max_categories
        )
    calibration = None
    if score_column:
        outputs["prediction.score"] = _numeric("prediction.score", frame[score_column], None, bins)
        if task == "classification" and labels is not None:
            calibration = score_calibration(
                frame[score_column],
                labels,
                _as_keywords(frame[prediction_column], prediction_column)
                if prediction_column
                else None,
            )
    return Profile(
        model=model,
        version=version,
        name=name,
        created_at=created_at,
        rows=len(frame),
        features=profiles,
        outputs=outputs,
        label_column=label_column,
        prediction_column=prediction_column,
        score_column=score_column,
        task=task,
        labels=label_counts,
        performance=performance,
        crosses=crosses,
        calibration=calibration,
    )


MAX_CROSS_BUCKETS = 50  # features with more buckets are left out of crosses
MIN_CROSS_ROWS = 10  # labelled rows a stored cross cell needs
MISSING_CODE = "\x00missing"


def _bucket_codes(series: pd.Series, feature: FeatureProfile) -> pd.Series:
    """Each row's bucket as the cross table stores it (category, bin index, or None)."""
    if feature.kind == "numeric":
        numbers = pd.to_numeric(series, errors="coerce").astype(float)
        codes = np.searchsorted(np.asarray(feature.bin_edges or []), numbers, side="right")
        return pd.Series(codes, index=series.index).astype(object).where(np.isfinite(numbers))
    return _as_keywords(series, feature.name)  # crosses take complete vocabularies only


def cross_performance(
    frame: pd.DataFrame,
    features: Mapping[str, FeatureProfile],
    correct: pd.Series,
    *,
    max_features: int = 12,
    min_rows: int = MIN_CROSS_ROWS,
) -> dict[str, list[list[Any]]]:
    """Accuracy of every 2- and 3-feature cross cell with ``min_rows`` labelled rows.

    Only features with at most MAX_CROSS_BUCKETS buckets (so with complete
    vocabularies) take part, the first
    ``max_features`` of them for 3-feature crosses (their number grows with
    the cube); the profile stays small because sparse cells are left out.
    """
    eligible = [
        name
        for name, f in features.items()
        if (len(f.bin_edges or []) + 1 if f.kind == "numeric" else len(f.vocabulary or {}))
        <= MAX_CROSS_BUCKETS
    ]
    labelled = correct.notna()
    codes = pd.DataFrame({name: _bucket_codes(frame[name], features[name]) for name in eligible})[
        labelled
    ]
    # a sentinel, not NaN, for missing: a NaN key would turn the bin indices into floats
    codes = codes.astype(object).where(codes.notna(), MISSING_CODE)
    ok = correct[labelled].astype(bool).astype(int)
    out: dict[str, list[list[Any]]] = {}
    combos = [*combinations(sorted(eligible), 2), *combinations(sorted(eligible[:max_features]), 3)]
    for combo in combos:
        grouped = ok.groupby([codes[c] for c in combo], sort=True).agg(["size", "sum"])
        rows = []
        for key, row in grouped[grouped["size"] >= min_rows].iterrows():
            buckets = [None if k == MISSING_CODE else _plain(k) for k in key]
            rows.append([*buckets, int(row["size"]), int(row["sum"])])
        if rows:
            out["|".join(combo)] = rows
    return out


def _plain(value: Any) -> Any:
    return int(value) if isinstance(value, np.integer) else value


__all__ = ["build_profile", "cross_performance", "quantile_edges"]
