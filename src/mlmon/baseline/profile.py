"""A model's reference profile: frozen values and their JSON form.

The profile is what events are tagged against (vocabularies, ranges) and
what the analyzer compares windows with (category frequencies,
baseline-quantile bins, NA rates, per-bucket performance), so it is stored
once at registration and never recomputed from raw rows. This module is
the values only (standard library): tagging, the SDK and the analysis load
a stored profile without pandas. :mod:`mlmon.baseline.build` makes one from
a table.

Kinds: *numeric* features have a range, moments and quantile bins;
*categorical* ones a vocabulary of the strings events carry
(:func:`mlmon.schema.event.as_keyword`: ``94107`` → ``"94107"``,
``True`` → ``"true"``).

Bins: ``bin_edges`` are the interior cut points at quantiles i/bins
(deduplicated); bin ``i`` is ``[edge[i-1], edge[i])`` with open ends, i.e.
``bisect.bisect_right(edges, x)``.

Per-bucket performance (when label and prediction columns are given) is a
:class:`BucketPerformance` (``n`` rows with a label, ``correct`` of them; for
regression the summed absolute, squared and percentage errors) per category
value, per numeric bin, and for the missing bucket.

Stored form: :meth:`Profile.to_dict` / :meth:`Profile.from_dict`. Every
field added later must be optional (a default here, ``data.get`` there), so
profiles stored before it still load; unknown keys are ignored, so a
profile stored by a newer mlmon loads too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from mlmon.errors import ProfileError
from mlmon.schema.event import SCHEMA_VERSION

Kind = Literal["categorical", "numeric"]
Task = Literal["classification", "regression"]


@dataclass(frozen=True)
class BucketPerformance:
    """One bucket's outcome sums: ``n`` rows with an outcome and, for classification,
    ``correct`` of them; for regression, the error sums MAE, RMSE and MAPE come from
    (``percentage_n``: rows with a non-zero actual, MAPE's denominator)."""

    n: int
    correct: int = 0
    sum_abs_error: float | None = None
    sum_squared_error: float | None = None
    percentage_n: int | None = None
    sum_abs_percentage_error: float | None = None

    @property
    def is_regression(self) -> bool:
        return self.sum_abs_error is not None

    def to_dict(self) -> dict[str, Any]:
        if not self.is_regression:
            return {"n": self.n, "correct": self.correct}
        return {
            "n": self.n,
            "sum_abs_error": self.sum_abs_error,
            "sum_squared_error": self.sum_squared_error,
            "percentage_n": self.percentage_n,
            "sum_abs_percentage_error": self.sum_abs_percentage_error,
        }


@dataclass(frozen=True)
class AttributionSums:
    """One feature's attributions as sums: ``count`` rows with one, Σ|a| and Σa².

    A mean |attribution| (the feature's importance) and its variance come from
    these, in a profile and from an aggregation alike (``extended_stats`` of
    ``attributions_abs.<feature>``: its sum of squares is Σa², |a|² being a²).
    """

    count: int
    sum_abs: float
    sum_squares: float

    @property
    def mean_abs(self) -> float | None:
        return self.sum_abs / self.count if self.count else None

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "sum_abs": self.sum_abs, "sum_squares": self.sum_squares}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AttributionSums:
        return cls(int(data["count"]), float(data["sum_abs"]), float(data["sum_squares"]))


#: A numeric feature's summary fields, stored as they are (None where unknown).
NUMERIC_SUMMARY = ("minimum", "maximum", "mean", "std", "bin_edges", "bin_counts")


@dataclass(frozen=True)
class FeatureProfile:
    name: str
    kind: Kind
    count: int
    missing: int
    vocabulary: dict[str, int] | None = None
    vocabulary_complete: bool = True
    minimum: float | None = None
    maximum: float | None = None
    mean: float | None = None
    std: float | None = None
    bin_edges: list[float] | None = None
    bin_counts: list[int] | None = None
    #: categorical: value → performance; numeric: one per bin; plus "missing".
    performance: dict[str, BucketPerformance] | list[BucketPerformance] | None = None
    missing_performance: BucketPerformance | None = None

    @property
    def missing_rate(self) -> float:
        return self.missing / self.count if self.count else 0.0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "count": self.count,
            "missing": self.missing,
        }
        if self.kind == "categorical":
            out["vocabulary"] = dict(sorted((self.vocabulary or {}).items()))
            out["vocabulary_complete"] = self.vocabulary_complete
        else:
            out.update({key: getattr(self, key) for key in NUMERIC_SUMMARY})
        if isinstance(self.performance, dict):
            out["performance"] = {k: v.to_dict() for k, v in sorted(self.performance.items())}
        elif isinstance(self.performance, list):
            out["performance"] = [v.to_dict() for v in self.performance]
        if self.missing_performance is not None:
            out["missing_performance"] = self.missing_performance.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureProfile:
        performance = data.get("performance")
        if isinstance(performance, dict):
            performance = {k: BucketPerformance(**v) for k, v in performance.items()}
        elif isinstance(performance, list):
            performance = [BucketPerformance(**v) for v in performance]
        missing_perf = data.get("missing_performance")
        kind = data["kind"]
        if kind not in ("categorical", "numeric"):
            raise ProfileError(f"feature {data.get('name')!r} has unknown kind {kind!r}")
        return cls(
            name=data["name"],
            kind=kind,
            count=int(data["count"]),
            missing=int(data["missing"]),
            vocabulary=(
                {str(k): int(v) for k, v in data["vocabulary"].items()}
                if data.get("vocabulary") is not None
                else None
            ),
            vocabulary_complete=bool(data.get("vocabulary_complete", True)),
            **{key: data.get(key) for key in NUMERIC_SUMMARY},
            performance=performance,
            missing_performance=BucketPerformance(**missing_perf) if missing_perf else None,
        )


#: A profile's optional fields that are stored as they are (None where absent).
PROFILE_AS_STORED = (
    "label_column",
    "prediction_column",
    "score_column",
    "task",
    "labels",
    "performance",
)


@dataclass(frozen=True)
class Profile:
    model: str
    version: str
    name: str
    created_at: str
    rows: int
    features: dict[str, FeatureProfile]
    label_column: str | None = None
    prediction_column: str | None = None
    score_column: str | None = None
    task: Task | None = None
    labels: dict[str, int] | None = None
    performance: dict[str, float] | None = None
    revision: int = 1
    schema_version: int = SCHEMA_VERSION
    extra: dict[str, Any] = field(default_factory=dict)
    #: The model's outputs profiled like features ("prediction.label",
    #: "prediction.score"): what prediction drift is measured against.
    outputs: dict[str, FeatureProfile] = field(default_factory=dict)
    #: Performance of 2- and 3-feature crosses, so a cross is compared with
    #: its own baseline: "a|b" → rows [bucket_a, bucket_b, n, correct], a
    #: bucket being a category, a numeric bin index, or None for missing; for
    #: regression [bucket_a, bucket_b, n, sum_abs_error, sum_squared_error,
    #: percentage_n, sum_abs_percentage_error] (mlmon.baseline.outcomes).
    crosses: dict[str, list[list[Any]]] = field(default_factory=dict)
    #: The scores calibrated against the labels (binary classification with a score
    #: column): :class:`mlmon.analysis.estimation.ScoreCalibration`'s stored form,
    #: what estimates a window's performance without actuals (CBPE).
    calibration: dict[str, Any] | None = None
    #: Per feature, the sums of its attributions over the table's rows (registered with
    #: attribution columns): what a window's feature importance is compared with.
    attributions: dict[str, AttributionSums] = field(default_factory=dict)

    @property
    def profile_id(self) -> str:
        return f"{self.model}:{self.version}:{self.name}:r{self.revision}"

    def with_revision(self, revision: int) -> Profile:
        return replace(self, revision=revision)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "model": self.model,
            "version": self.version,
            "name": self.name,
            "revision": self.revision,
            "created_at": self.created_at,
            "rows": self.rows,
            "label_column": self.label_column,
            "prediction_column": self.prediction_column,
            "score_column": self.score_column,
            "task": self.task,
            "labels": dict(sorted(self.labels.items())) if self.labels else None,
            "performance": self.performance,
            "features": {name: f.to_dict() for name, f in self.features.items()},
            "outputs": {name: f.to_dict() for name, f in self.outputs.items()},
            "crosses": self.crosses,
            **({"calibration": self.calibration} if self.calibration is not None else {}),
            **(
                {"attributions": {n: a.to_dict() for n, a in self.attributions.items()}}
                if self.attributions
                else {}
            ),
        }

    @classmethod
    def from_dict(cls, data: Any) -> Profile:
        """Rebuild a stored profile; a malformed one is a :class:`ProfileError`."""
        if not isinstance(data, Mapping):
            raise ProfileError(f"a profile must be an object, not {type(data).__name__}")
        try:
            if data.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION:
                raise ProfileError(
                    f"profile schema_version {data.get('schema_version')!r} is not "
                    f"supported (this mlmon reads {SCHEMA_VERSION})"
                )
            return cls(
                model=data["model"],
                version=data["version"],
                name=data["name"],
                created_at=data["created_at"],
                rows=int(data["rows"]),
                features={n: FeatureProfile.from_dict(f) for n, f in data["features"].items()},
                **{key: data.get(key) for key in PROFILE_AS_STORED},
                revision=int(data.get("revision", 1)),
                outputs={
                    n: FeatureProfile.from_dict(f) for n, f in (data.get("outputs") or {}).items()
                },
                crosses={str(k): list(v) for k, v in (data.get("crosses") or {}).items()},
                calibration=dict(data["calibration"]) if data.get("calibration") else None,
                attributions={
                    str(n): AttributionSums.from_dict(a)
                    for n, a in (data.get("attributions") or {}).items()
                },
            )
        except ProfileError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProfileError(f"malformed profile: {type(exc).__name__}: {exc}") from None


def read_profile_file(path: str | Path) -> Profile:
    """A profile saved as JSON (``Profile.to_dict``); any problem is a :class:`ProfileError`."""
    try:
        return Profile.from_dict(json.loads(Path(path).read_text()))
    except (OSError, ValueError) as exc:
        raise ProfileError(f"profile file {path}: {exc}") from None


__all__ = [
    "AttributionSums",
    "BucketPerformance",
    "FeatureProfile",
    "Kind",
    "Profile",
    "Task",
    "read_profile_file",
]
