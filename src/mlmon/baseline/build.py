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

from mlmon.baseline import outcomes as oc
from mlmon.baseline.calibrate import score_calibration
from mlmon.baseline.profile import (
    AttributionSums,
    BucketPerformance,
    FeatureProfile,
    Profile,
    Task,
)
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


#: Per-row outcome sums (mlmon.baseline.outcomes), indexed like the table's rows with one.
Outcomes = pd.DataFrame


def _bucket_performance(
    keys: pd.Series, outcomes: Outcomes | None
) -> dict[Any, BucketPerformance] | None:
    if outcomes is None:
        return None
    grouped = outcomes.groupby(keys.reindex(outcomes.index), sort=True, dropna=True).sum()
    return {key: oc.bucket_performance(row) for key, row in grouped.iterrows()}


def _missing_performance(missing: pd.Series, outcomes: Outcomes | None) -> BucketPerformance | None:
    if outcomes is None:
        return None
    rows = outcomes[missing.reindex(outcomes.index)]
    return oc.bucket_performance(rows.sum()) if len(rows) else _empty(outcomes)


def _empty(outcomes: Outcomes) -> BucketPerformance:
    return oc.bucket_performance(dict.fromkeys(outcomes.columns, 0))


def _categorical(
    name: str, series: pd.Series, outcomes: Outcomes | None, max_categories: int
) -> FeatureProfile:
    values = _as_keywords(series, name)
    present = values.notna()
    counts = values[present].value_counts(sort=True)
    complete = len(counts) <= max_categories
    kept = counts.iloc[:max_categories]
    vocabulary = {str(k): int(v) for k, v in kept.items()}
    performance = _bucket_performance(values.where(values.isin(vocabulary)), outcomes)
    return FeatureProfile(
        name=name,
        kind="categorical",
        count=int(series.size),
        missing=int((~present).sum()),
        vocabulary=vocabulary,
        vocabulary_complete=complete,
        performance={str(k): v for k, v in (performance or {}).items()}
        if outcomes is not None
        else None,
        missing_performance=_missing_performance(~present, outcomes),
    )


def quantile_edges(values: np.ndarray, bins: int) -> list[float]:
    """Interior cut points at quantiles i/bins, deduplicated and strictly increasing."""
    if values.size == 0:
        return []
    cuts = np.quantile(values, [i / bins for i in range(1, bins)])
    return [float(x) for x in np.unique(cuts)]


def _numeric(name: str, series: pd.Series, outcomes: Outcomes | None, bins: int) -> FeatureProfile:
    numbers = pd.to_numeric(series, errors="coerce").astype(float)
    numbers = numbers.where(np.isfinite(numbers))
    present = numbers.notna()
    values = numbers[present].to_numpy()
    edges = quantile_edges(values, bins)
    positions = np.searchsorted(np.asarray(edges), values, side="right")
    bin_counts = np.bincount(positions, minlength=len(edges) + 1)
    performance = None
    if outcomes is not None:
        by_bin = _bucket_performance(pd.Series(positions, index=numbers.index[present]), outcomes)
        assert by_bin is not None
        performance = [by_bin.get(i, _empty(outcomes)) for i in range(len(edges) + 1)]
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
        missing_performance=_missing_performance(~present, outcomes),
    )


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
    task: Task | None = None,
    attribution_prefix: str | None = None,
) -> Profile:
    """Profile ``frame``; every argument problem is a :class:`ProfileError` naming it.

    ``task``: classification or regression; None infers it from the label
    column (:func:`mlmon.baseline.outcomes.infer_task`). ``attribution_prefix``:
    columns named ``<prefix><feature>`` hold that feature's attribution per row
    (SHAP values…); they are not features, and the profile keeps their sums.
    """
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
    attribution_columns = _attribution_columns(frame, attribution_prefix)
    special += attribution_columns.values()
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

    if task not in (None, "classification", "regression"):
        raise ProfileError(f"task {task!r} is not classification or regression")
    labels: pd.Series | None = None
    outcomes: Outcomes | None = None
    performance: dict[str, float] | None = None
    label_counts: dict[str, int] | None = None
    if label_column:
        raw_labels = frame[label_column]
        guesses = frame[prediction_column] if prediction_column else None
        task = task or oc.infer_task(raw_labels, guesses)
        if task == "classification":
            labels = _as_keywords(raw_labels, label_column)
            label_counts = {str(k): int(v) for k, v in labels.dropna().value_counts().items()}
            if guesses is not None:
                predicted = _as_keywords(guesses, prediction_column or "")
                outcomes = oc.classification_outcomes(labels, predicted)
        elif guesses is not None:
            for column in (label_column, prediction_column):
                if not _is_numeric(frame[column]):
                    raise ProfileError(
                        f"column {column!r} must hold numbers for a regression profile"
                    )
            outcomes = oc.regression_outcomes(raw_labels, guesses)
        if outcomes is not None:
            performance = oc.overall_performance(outcomes, task)

    profiles = {}
    for column in features:
        series = frame[column]
        profiles[column] = (
            _numeric(column, series, outcomes, bins)
            if _is_numeric(series) and column not in categorical
            else _categorical(column, series, outcomes, max_categories)
        )
    crosses = (
        cross_performance(frame, profiles, outcomes, max_features=max_cross_features)
        if outcomes is not None
        else {}
    )
    outputs = {}
    if prediction_column and task != "regression":
        outputs["prediction.label"] = _categorical(
            "prediction.label", frame[prediction_column], None, max_categories
        )
    elif prediction_column:  # a regressor's outputs drift as a number does
        outputs["prediction.value"] = _numeric(
            "prediction.value", frame[prediction_column], None, bins
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
        attributions=attribution_sums(frame, attribution_columns),
    )


def _attribution_columns(frame: pd.DataFrame, prefix: str | None) -> dict[str, str]:
    """feature → the column of its attributions (``<prefix><feature>``)."""
    if not prefix:
        return {}
    found = {str(c)[len(prefix) :]: str(c) for c in frame.columns if str(c).startswith(prefix)}
    if not found:
        raise ProfileError(f"no column starts with the attribution prefix {prefix!r}")
    for name, column in found.items():
        try:
            validate_feature_name(name)
        except InvalidEventError as exc:
            raise ProfileError(f"attribution column {column!r}: {exc}") from None
        if not _is_numeric(frame[column]):
            raise ProfileError(f"attribution column {column!r} must hold numbers")
    return found


def attribution_sums(frame: pd.DataFrame, columns: Mapping[str, str]) -> dict[str, AttributionSums]:
    """Per feature, rows with a finite attribution, Σ|a| and Σa² (missing rows left out)."""
    out = {}
    for name, column in columns.items():
        values = frame[column].to_numpy(dtype=float)
        values = np.abs(values[np.isfinite(values)])
        out[name] = AttributionSums(
            count=int(values.size),
            sum_abs=float(values.sum()),
            sum_squares=float(np.square(values).sum()),
        )
    return out


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
    outcomes: Outcomes,
    *,
    max_features: int = 12,
    min_rows: int = MIN_CROSS_ROWS,
) -> dict[str, list[list[Any]]]:
    """Outcome sums of every 2- and 3-feature cross cell with ``min_rows`` labelled rows.

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
    codes = pd.DataFrame(
        {name: _bucket_codes(frame[name], features[name]) for name in eligible}
    ).loc[outcomes.index]
    # a sentinel, not NaN, for missing: a NaN key would turn the bin indices into floats
    codes = codes.astype(object).where(codes.notna(), MISSING_CODE)
    task: Task = "classification" if "correct" in outcomes.columns else "regression"
    out: dict[str, list[list[Any]]] = {}
    combos = [*combinations(sorted(eligible), 2), *combinations(sorted(eligible[:max_features]), 3)]
    for combo in combos:
        grouped = outcomes.groupby([codes[c] for c in combo], sort=True).sum()
        rows = []
        for key, row in grouped[grouped["n"] >= min_rows].iterrows():
            buckets = [None if k == MISSING_CODE else _plain(k) for k in key]
            rows.append([*buckets, *oc.cross_row(row, task)])
        if rows:
            out["|".join(combo)] = rows
    return out


def _plain(value: Any) -> Any:
    return int(value) if isinstance(value, np.integer) else value


__all__ = ["attribution_sums", "build_profile", "cross_performance", "quantile_edges"]
