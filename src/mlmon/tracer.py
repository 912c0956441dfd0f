"""Wiring for ``mlmon trace``: arguments → sources, dimensions and settings → report.

The analysis (:mod:`mlmon.analysis.trace`) is pure over sources; this module
does the I/O choices: which backend (Elasticsearch, or pandas over
``--events FILE``), which baseline (a registered profile, another window, or
another version), which dimensions (the profile's features on its bins, or
the index mapping with baseline-quantile bins) and which positive class.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mlmon.analysis.dimensions import Dimension, from_fields, from_profile
from mlmon.analysis.metrics import METRICS, default_metric, task_of
from mlmon.analysis.source import ProfileSource, Scope, Source
from mlmon.analysis.trace import TraceSettings, trace
from mlmon.analysis.window import BaselineSpec, Window, auto_interval, parse_baseline, parse_window
from mlmon.baseline.profile import Profile
from mlmon.errors import UsageError
from mlmon.schema.event import validate_model_name

Say = Callable[[str], None]


@dataclass(frozen=True)
class TraceRequest:
    model: str
    window: str
    baseline: str
    version: str | None = None
    metric: str | None = None
    events: Path | None = None
    positive: str | None = None
    settings: TraceSettings = field(default_factory=TraceSettings)


def positive_label(profile: Profile | None, override: str | None) -> str | None:
    """The positive class: as given, else the rarer of a binary profile's two labels."""
    if override:
        return override
    labels = (profile.labels or {}) if profile else {}
    if len(labels) == 2:
        return min(labels, key=lambda k: (labels[k], k))
    return None


def run(
    request: TraceRequest, *, client_factory: Callable[[], Any], say: Say = lambda _: None
) -> dict[str, Any]:
    """Resolve everything the request names, then trace. Usage errors name the argument."""
    validate_model_name(request.model)
    window = parse_window(request.window)
    spec = parse_baseline(request.baseline)
    if request.metric and request.metric not in METRICS:
        raise UsageError(f"--metric {request.metric!r} is not one of {', '.join(METRICS)}")

    client = None
    profile: Profile | None = None
    needs_cluster = request.events is None or spec.kind == "profile"
    if needs_cluster:
        from mlmon.baseline.store import load_profile

        client = client_factory()
        name = spec.name if spec.kind == "profile" else None
        profile = load_profile(
            client, model=request.model, version=None if name else request.version, name=name
        )
        if spec.kind == "profile" and profile is None:
            raise UsageError(
                f"no profile named {spec.name!r} is registered for model {request.model!r} "
                f"(see `mlmon baseline list --model {request.model}`)"
            )
    metric = request.metric or default_metric(profile.task if profile else None)
    task = task_of(metric)
    positive = positive_label(profile, request.positive)
    scope = Scope(request.model, request.version, window.start, window.end)

    make = _frame_factory(request, profile) if request.events else _es_factory(client)
    current = make(scope, task, positive)
    baseline_source = _baseline(spec, scope, profile, make, task, positive)
    if spec.kind == "profile" and profile and profile.performance is None:
        raise UsageError(
            f"profile {spec.name!r} has no labels: register it with --label-column and "
            f"--prediction-column to trace {metric}"
        )

    dimensions, outputs = _dimensions(profile, current, baseline_source)
    mismatched = kind_mismatches(profile, current.field_kinds()) if profile else []
    settings = replace(request.settings, metric=metric)
    service = make(replace(scope, version=None), task, positive)
    describe = {
        "model": request.model,
        "version": request.version,
        "window": window.to_dict(),
        "baseline": _describe_baseline(spec, profile),
        "backend": "pandas" if request.events else "elasticsearch",
        "positive_label": positive,
    }
    if mismatched:
        names = ",".join(mismatched)
        describe["notes"] = [
            f"{', '.join(mismatched)}: numbers in the profile but text in the events, so their "
            f"numeric slices and drift are unreliable; re-register the baseline with "
            f"--categorical {names}"
        ]
    loaded = getattr(current, "loaded", None)
    if loaded is not None:
        describe["events_file"] = {
            "path": str(request.events),
            "lines": loaded.lines,
            "invalid": loaded.invalid,
            "unjoined_actuals": loaded.unjoined_actuals,
            "first_errors": loaded.errors,
        }
    return trace(
        current,
        baseline_source,
        dimensions=dimensions,
        outputs=outputs,
        quality_features=[d.name for d in dimensions if d.field.startswith("features.")],
        interval=auto_interval(window.seconds),
        settings=settings,
        service=service,
        describe=describe,
        say=say,
    )


def kind_mismatches(profile: Profile, kinds: dict[str, str]) -> list[str]:
    """Features the profile holds as numbers that the index holds as text (zip codes in a CSV)."""
    return sorted(
        name
        for name, feature in profile.features.items()
        if feature.kind == "numeric" and kinds.get(f"features.{name}") == "keyword"
    )


def _describe_baseline(spec: BaselineSpec, profile: Profile | None) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": spec.kind, "description": spec.describe()}
    if spec.kind == "profile" and profile:
        out.update(name=profile.name, profile_id=profile.profile_id, rows=profile.rows)
    if spec.window:
        out.update(spec.window.to_dict())
    if spec.version:
        out["version"] = spec.version
    return out


def _es_factory(client: Any) -> Callable[[Scope, str, str | None], Source]:
    from mlmon.sources.elasticsearch import ElasticsearchSource

    return lambda scope, task, positive: ElasticsearchSource(
        client, scope, task=task, positive=positive
    )


def _frame_factory(
    request: TraceRequest, profile: Profile | None
) -> Callable[[Scope, str, str | None], Source]:
    from mlmon.sources.frame import FrameSource, load_events

    assert request.events is not None
    loaded = load_events(request.events, profile=profile)
    if loaded.frame.empty:
        raise UsageError(
            f"{request.events}: no valid prediction events ({loaded.invalid} invalid lines)"
        )

    def make(scope: Scope, task: str, positive: str | None) -> Source:
        source = FrameSource(loaded.frame, scope, task=task, positive=positive)
        source.loaded = loaded  # type: ignore[attr-defined]
        return source

    return make


def _baseline(
    spec: BaselineSpec,
    scope: Scope,
    profile: Profile | None,
    make: Callable[[Scope, str, str | None], Source],
    task: str,
    positive: str | None,
) -> Source:
    if spec.kind == "profile":
        assert profile is not None
        return ProfileSource(profile)
    if spec.kind == "window":
        assert spec.window is not None
        other = replace(scope, start=spec.window.start, end=spec.window.end)
    else:
        if spec.version == scope.version:
            raise UsageError(f"--baseline version:{spec.version} is the version being traced")
        other = replace(scope, version=spec.version)
    source = make(other, task, positive)
    if not source.overall().n:
        raise UsageError(
            f"the baseline ({spec.describe()}) has no predictions for model {scope.model!r}"
        )
    return source


def _dimensions(
    profile: Profile | None, current: Any, baseline: Source
) -> tuple[list[Dimension], list[Dimension]]:
    """Features (and tags) to slice by, and the model outputs for prediction drift."""
    kinds = current.field_kinds()
    tags = {f: k for f, k in kinds.items() if f.startswith("tags.")}
    if profile is not None:
        dims = from_profile(profile)
        dims += from_fields(tags, {})
        outputs = [
            Dimension(
                name=name,
                field=name,
                kind=feature.kind,
                edges=tuple(feature.bin_edges or ()) if feature.kind == "numeric" else (),
            )
            for name, feature in profile.outputs.items()
        ]
        return [d for d in dims if d.kind == "categorical" or d.edges], outputs
    reference = baseline if hasattr(baseline, "quantiles") else current
    numeric = [f for f, k in kinds.items() if k == "double"]
    quantiles = reference.quantiles([*numeric, "prediction.score"])
    dims = from_fields(kinds, quantiles)
    outputs = [Dimension("prediction.label", "prediction.label", "categorical")]
    if quantiles.get("prediction.score"):
        outputs.append(
            Dimension(
                "prediction.score",
                "prediction.score",
                "numeric",
                tuple(quantiles["prediction.score"]),
            )
        )
    return [d for d in dims if d.kind == "categorical" or d.edges], outputs


__all__ = ["TraceRequest", "Window", "positive_label", "run"]
