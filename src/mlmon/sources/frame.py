"""A file of events as a :class:`~mlmon.analysis.source.Source`: the pandas backend.

It reads JSON lines (SDK events: predictions and actuals, in any order),
prepares them as ingest does (:func:`~mlmon._prepare.prepare_event`: validate,
normalise, tag untagged predictions against the profile), joins actuals with
the same :func:`~mlmon.es.join.prediction_update`, and then answers every
question the Elasticsearch source answers with group-bys. It is the
cross-check of the aggregations (tests assert the same numbers) and a way to
trace a file offline. It holds the events in memory: for large traffic, use
Elasticsearch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from mlmon._prepare import prepare_event
from mlmon._tagging import RulesCache
from mlmon.analysis.dimensions import MISSING, Dimension, SliceKey, bucket_label
from mlmon.analysis.metrics import Stats, Task
from mlmon.analysis.source import (
    SCORE_BINS,
    BucketRequest,
    Percentiles,
    QualityCounts,
    Scope,
    ScoreBins,
    ScoreHistogram,
)
from mlmon.baseline.build import quantile_edges
from mlmon.baseline.profile import AttributionSums, Profile
from mlmon.errors import InvalidEventError, UsageError
from mlmon.es.join import prediction_update
from mlmon.schema.document import ATTRIBUTIONS_ABS
from mlmon.schema.event import format_timestamp
from mlmon.schema.pairing import SHADOW, shadow_of, shadow_update

PERCENTS = (50, 95, 99)
ABS_PREFIX = f"{ATTRIBUTIONS_ABS}."
COUNT_COLUMNS = tuple(f.name for f in fields(Stats))


@dataclass
class LoadedEvents:
    frame: pd.DataFrame
    lines: int = 0
    invalid: int = 0
    unjoined_actuals: int = 0
    errors: list[str] = field(default_factory=list)


def load_events(path: Path, *, profile: Profile | None = None) -> LoadedEvents:
    """Read, validate, tag and join a JSON-lines file of events; count what is refused."""
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    rules = RulesCache(profile=profile) if profile else None
    predictions: dict[str, dict[str, Any]] = {}
    actuals: dict[str, dict[str, Any]] = {}
    loaded = LoadedEvents(frame=pd.DataFrame())
    with path.open("rb") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            loaded.lines += 1
            try:
                doc, _ = prepare_event(orjson.loads(line), rules)
            except (orjson.JSONDecodeError, InvalidEventError) as exc:
                loaded.invalid += 1
                if len(loaded.errors) < 5:
                    loaded.errors.append(f"{path}:{number}: {exc}")
                continue
            key = doc["prediction_id"]
            if doc["event"]["kind"] == "actual":
                actuals[key] = doc
            elif key not in predictions:  # like the `create` of the indexer: first one wins
                predictions[key] = doc
    for key, actual in actuals.items():
        prediction = predictions.get(key)
        if prediction is None:
            loaded.unjoined_actuals += 1
            continue
        prediction.update(prediction_update(actual, prediction.get("prediction")))
    pair_shadows(predictions)
    loaded.frame = pd.json_normalize(list(predictions.values())) if predictions else pd.DataFrame()
    return loaded


def pair_shadows(predictions: dict[str, dict[str, Any]]) -> None:
    """Each shadow gets its live partner's pair block and actual, as Elasticsearch's join and
    pairing pass write them (:func:`~mlmon.schema.pairing.shadow_update`)."""
    for doc in predictions.values():
        live = predictions.get(shadow_of(doc) or "")
        if live is not None:
            doc.update(shadow_update(doc, live))


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame.columns else pd.Series(np.nan, index=frame.index)


def count_columns(frame: pd.DataFrame, task: Task, positive: str | None) -> pd.DataFrame:
    """Per-row 0/1 and error columns whose sums are a :class:`Stats` (what ES sums)."""
    out = pd.DataFrame(index=frame.index)
    out["n"] = 1.0
    if task == "regression":
        for name, column in (
            ("scored", "actual.abs_error"),
            ("percentage_scored", "actual.abs_percentage_error"),
        ):
            out[name] = _column(frame, column).notna().astype(float)
        out["sum_abs_error"] = _column(frame, "actual.abs_error").fillna(0.0).astype(float)
        out["sum_squared_error"] = _column(frame, "actual.squared_error").fillna(0.0).astype(float)
        out["sum_abs_percentage_error"] = (
            _column(frame, "actual.abs_percentage_error").fillna(0.0).astype(float)
        )
        return out
    correct = _column(frame, "actual.correct")
    labelled = correct.notna()
    hit = labelled & (correct == True)  # noqa: E712 (object column of True/False/NaN)
    out["labelled"] = labelled.astype(float)
    out["correct"] = hit.astype(float)
    if positive is not None:
        predicted = labelled & (_column(frame, "prediction.label") == positive)
        actual = labelled & (_column(frame, "actual.label") == positive)
        out["predicted_positive"] = predicted.astype(float)
        out["actual_positive"] = actual.astype(float)
        out["tp"] = (predicted & hit).astype(float)
    return out


def _to_stats(row: pd.Series) -> Stats:
    return Stats(**{name: float(row.get(name, 0.0)) for name in COUNT_COLUMNS})


def bucket_column(frame: pd.DataFrame, dimension: Dimension) -> pd.Series:
    """Each row's bucket of ``dimension``, as the ES aggregation would put it."""
    values = _column(frame, dimension.field)
    if dimension.kind == "numeric":
        numbers = pd.to_numeric(values, errors="coerce")
        labels = np.asarray(dimension.bin_labels(), dtype=object)
        positions = np.searchsorted(np.asarray(dimension.edges), numbers.fillna(0.0), side="right")
        return pd.Series(np.where(numbers.isna(), MISSING, labels[positions]), index=frame.index)
    as_text = values.map(bucket_label, na_action="ignore")
    return as_text.where(values.notna(), MISSING).astype(object)


class FrameSource:
    def __init__(
        self,
        frame: pd.DataFrame,
        scope: Scope,
        *,
        task: Task = "classification",
        positive: str | None = None,
    ) -> None:
        self.scope = scope
        self.task = task
        self.positive = positive
        self.frame = _in_scope(frame, scope)
        self.counts = count_columns(self.frame, task, positive)

    def overall(self) -> Stats:
        return _to_stats(self.counts.sum())

    def buckets(self, requests: Sequence[BucketRequest]) -> list[dict[SliceKey, Stats] | None]:
        return [self._buckets(request) for request in requests]

    def _buckets(self, request: BucketRequest) -> dict[SliceKey, Stats]:
        if self.frame.empty:
            return {}
        keys = []
        mask = pd.Series(True, index=self.frame.index)
        for i, dimension in enumerate(request.dimensions):
            column = bucket_column(self.frame, dimension)
            keep = request.kept(i)
            if keep is not None:
                mask &= column.isin(keep)
            elif dimension.kind == "categorical":
                counts = column.value_counts()
                ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
                mask &= column.isin([k for k, _ in ranked[: dimension.max_values]])
            keys.append(column.rename(f"k{i}"))
        mask &= ~self._excluded(request)
        grouped = self.counts[mask].groupby([k[mask] for k in keys]).sum()
        out: dict[SliceKey, Stats] = {}
        for index, row in grouped.iterrows():
            labels = index if isinstance(index, tuple) else (index,)
            named = zip(request.dimensions, labels, strict=False)
            key = tuple(sorted((d.name, str(v)) for d, v in named))
            out[key] = _to_stats(row)
        return out

    def _excluded(self, request: BucketRequest) -> pd.Series:
        """Rows in any of the request's excluded slices (ES: ``bool.must_not``)."""
        out = pd.Series(False, index=self.frame.index)
        for conjunction in request.exclude:
            inside = pd.Series(True, index=self.frame.index)
            for dimension, bucket in conjunction:
                inside &= bucket_column(self.frame, dimension) == bucket
            out |= inside
        return out

    def timeline(self, interval: str) -> list[tuple[str, Stats]]:
        if self.frame.empty:
            return []
        grouped = self.counts.groupby(self._bucket_starts(interval)).sum()
        return [(_start_label(start), _to_stats(row)) for start, row in grouped.iterrows()]

    def _bucket_starts(self, interval: str) -> np.ndarray:
        """Each row's date-histogram bucket, in seconds since the epoch (as ES keys them)."""
        seconds = pd.Timedelta(interval).total_seconds()
        # whole seconds since the epoch, whatever unit pandas chose for the column
        epoch = (self.timestamps() - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
        return ((epoch // seconds) * seconds).to_numpy()

    def score_bins(self, edges: Sequence[float], interval: str | None) -> ScoreBins | None:
        """What a ``range`` aggregation on ``edges`` counts (under a date histogram)."""
        scores = pd.to_numeric(_column(self.frame, "prediction.score"), errors="coerce")
        present = scores.notna().to_numpy()
        if not present.any():
            return None
        bounds = np.asarray(edges, dtype=float)
        index = np.searchsorted(bounds, scores.to_numpy()[present], side="right") - 1
        index = np.clip(index, 0, bounds.size - 2)  # open below the first edge, above the last

        def counts(rows: np.ndarray) -> tuple[int, ...]:
            return tuple(int(c) for c in np.bincount(rows, minlength=bounds.size - 1))

        buckets: tuple[tuple[str, tuple[int, ...]], ...] = ()
        if interval:
            starts = self._bucket_starts(interval)[present]
            buckets = tuple(
                (_start_label(start), counts(index[starts == start])) for start in np.unique(starts)
            )
        return ScoreBins(total=counts(index), buckets=buckets)

    def timestamps(self) -> pd.Series:
        return pd.to_datetime(self.frame["@timestamp"], utc=True, format="ISO8601")

    def quality(self, features: Sequence[str]) -> QualityCounts:
        counts = QualityCounts(n=len(self.frame))
        for kind in ("missing", "unseen", "out_of_range"):
            column = _column(self.frame, f"quality.{kind}")
            tally = Counter(name for names in column if isinstance(names, list) for name in names)
            getattr(counts, kind).update({name: tally.get(name, 0) for name in features})
        unseen = _column(self.frame, "quality.unseen")
        for name in features:
            rows = unseen.map(lambda names, n=name: isinstance(names, list) and n in names)
            if rows.any():
                values = bucket_column(
                    self.frame[rows], Dimension(name, f"features.{name}", "categorical")
                ).value_counts()
                ranked = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
                counts.unseen_values[name] = {str(k): int(v) for k, v in ranked}
        return counts

    def score_histogram(self) -> ScoreHistogram | None:
        scores = pd.to_numeric(_column(self.frame, "prediction.score"), errors="coerce")
        present = scores.notna()
        if not present.any():
            return None
        bins = np.clip(
            np.floor(scores[present] / (1.0 / SCORE_BINS)).astype(int), 0, SCORE_BINS - 1
        )
        labels = _column(self.frame, "actual.label")[present]

        def histogram(mask: pd.Series) -> tuple[int, ...]:
            return tuple(int(c) for c in np.bincount(bins[mask], minlength=SCORE_BINS))

        everything = pd.Series(True, index=bins.index)
        if self.positive is None:
            empty = (0,) * SCORE_BINS
            return ScoreHistogram(histogram(everything), empty, empty)
        return ScoreHistogram(
            all=histogram(everything),
            positive=histogram(labels == self.positive),
            negative=histogram(labels.notna() & (labels != self.positive)),
        )

    def latency(self) -> dict[str, dict[str, Percentiles]] | None:
        columns = sorted(c for c in self.frame.columns if c.startswith("latency_ms."))
        if not columns or self.frame.empty:
            return None
        out: dict[str, dict[str, Percentiles]] = {}
        for version, rows in self.frame.groupby("model.version"):
            measures: dict[str, Percentiles] = {}
            for name in columns:
                values = pd.to_numeric(rows[name], errors="coerce").dropna().to_numpy()
                if values.size:
                    measures[name.removeprefix("latency_ms.")] = {
                        f"p{p}": float(np.percentile(values, p)) for p in PERCENTS
                    }
            out[str(version)] = measures
        return out

    def attributions(self) -> dict[str, AttributionSums]:
        """What ``extended_stats`` of each ``attributions_abs.<feature>`` gives Elasticsearch."""
        out = {}
        for name in sorted(c for c in self.frame.columns if c.startswith(ABS_PREFIX)):
            values = pd.to_numeric(self.frame[name], errors="coerce").dropna().to_numpy(float)
            if values.size:
                out[name.removeprefix(ABS_PREFIX)] = AttributionSums(
                    int(values.size), float(values.sum()), float(np.square(values).sum())
                )
        return out

    def field_kinds(self) -> dict[str, str]:
        kinds = {}
        for name in self.frame.columns:
            if name.startswith(("features.", "tags.")):
                numeric = pd.api.types.is_numeric_dtype(self.frame[name]) and not (
                    pd.api.types.is_bool_dtype(self.frame[name])
                )
                kinds[name] = "double" if numeric else "keyword"
        return kinds

    def quantiles(self, names: Sequence[str], bins: int = 10) -> dict[str, list[float]]:
        out = {}
        for name in names:
            values = pd.to_numeric(_column(self.frame, name), errors="coerce").to_numpy(float)
            values = values[np.isfinite(values)]
            if values.size:
                out[name] = quantile_edges(values, bins)
        return out


def _start_label(start: float) -> str:
    return format_timestamp(datetime.fromtimestamp(start, timezone.utc))


def _in_scope(frame: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    if frame.empty:
        return frame
    mask = frame["model.name"] == scope.model
    if scope.version:
        mask &= frame["model.version"] == scope.version
    elif "model.deployment" in frame:  # all versions: the traffic served, not shadows
        mask &= frame["model.deployment"] != SHADOW
    if scope.start or scope.end:
        stamps = pd.to_datetime(frame["@timestamp"], utc=True, format="ISO8601")
        if scope.start:
            mask &= stamps >= pd.Timestamp(scope.start)
        if scope.end:
            mask &= stamps < pd.Timestamp(scope.end)
    return frame[mask]
