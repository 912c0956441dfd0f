"""A trace request, resolved: arguments → sources, dimensions and settings → report.

Named for what it holds (:class:`TraceRequest` and :func:`run`, which
resolves one), so it does not read as a second copy of the analysis: that is
:mod:`mlmon.analysis.trace`, pure over sources. This module makes the I/O
choices: which backend (Elasticsearch, or pandas over ``--events FILE``),
which baseline (a registered profile, another window, or another version),
which dimensions (the profile's features on its bins, or the index mapping
with baseline-quantile bins) and which positive class. The model name is
checked by the caller (the CLI's ``--model``, the monitors' parser).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mlmon.analysis.actuals import UnusableActuals, other_task, unusable_actuals
from mlmon.analysis.dimensions import Dimension, from_fields, from_profile
from mlmon.analysis.estimation import estimator_for
from mlmon.analysis.metrics import METRICS, default_metric, sample_size, task_of
from mlmon.analysis.result import BaselineInfo, EventsFile, TraceReport
from mlmon.analysis.source import ProfileSource, Scope, Source
from mlmon.analysis.trace import Subject, TraceSettings, trace
from mlmon.analysis.window import BaselineSpec, auto_interval, parse_baseline, parse_window
from mlmon.baseline.profile import Profile
from mlmon.errors import MlmonError, UsageError

Say = Callable[[str], None]


@dataclass(frozen=True)
class TraceRequest:
    model: str
    window: str
    baseline: str
    version: str | None = None
    metric: str | None = None  # None: the profile's task's default
    events: Path | None = None
    positive: str | None = None
    settings: TraceSettings = field(default_factory=TraceSettings)
    #: look one level up the model chain (the upstream trace itself does not)
    follow_upstream: bool = True


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
) -> TraceReport:
    """Resolve everything the request names, then trace. Usage errors name the argument."""
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
    if spec.kind == "profile" and profile and profile.task and profile.task != task:
        raise UsageError(
            f"--metric {metric} is a {task} metric but profile {spec.name!r} is "
            f"{profile.task}: use one of {', '.join(_metrics_of(profile.task))}"
        )
    positive = positive_label(profile, request.positive)
    scope = Scope(request.model, request.version, window.start, window.end)

    loaded = None
    if request.events:
        loaded, make = _frame_factory(request, profile)
    else:
        make = _es_factory(client, request.model)
    current = make(scope, task, positive)
    unusable = _unusable_actuals(current, make, scope, metric, positive, request, profile)
    baseline_source = _baseline(spec, scope, profile, make, task, positive)
    if spec.kind == "profile" and profile and profile.performance is None:
        raise UsageError(
            f"profile {spec.name!r} has no labels: register it with --label-column and "
            f"--prediction-column to trace {metric}"
        )

    kinds = current.field_kinds()
    dimensions, outputs = _dimensions(profile, kinds, current, baseline_source)
    mismatched = kind_mismatches(profile, kinds) if profile else []
    notes: tuple[str, ...] = ()
    if mismatched:
        names = ",".join(mismatched)
        notes = (
            f"{', '.join(mismatched)}: numbers in the profile but text in the events, so their "
            f"numeric slices and drift are unreliable; re-register the baseline with "
            f"--categorical {names}",
        )
    as_numbers = numbers_held_as_categories(profile, kinds) if profile else []
    if as_numbers:
        dimensions = [d for d in dimensions if d.name not in as_numbers]
        notes += (
            f"{', '.join(as_numbers)}: categories in the profile but indexed as numbers (the "
            "events of this window reached Elasticsearch untagged), so they are left out of "
            "slices and drift; events tagged against the profile index them as categories "
            "from the next month's indices on",
        )
    subject = Subject(
        model=request.model,
        version=request.version,
        window=window,
        baseline=_describe_baseline(spec, profile),
        backend="pandas" if request.events else "elasticsearch",
        positive_label=positive,
        notes=notes,
        unusable_actuals=unusable,
        events_file=EventsFile(
            path=str(request.events),
            lines=loaded.lines,
            invalid=loaded.invalid,
            unjoined_actuals=loaded.unjoined_actuals,
            first_errors=tuple(loaded.errors),
        )
        if loaded is not None
        else None,
    )
    report = trace(
        current,
        baseline_source,
        subject=subject,
        metric=metric,
        dimensions=dimensions,
        outputs=outputs,
        quality_features=[d.name for d in dimensions if d.field.startswith("features.")],
        interval=auto_interval(window.seconds),
        settings=request.settings,
        service=make(replace(scope, version=None), task, positive),
        estimator=estimator_for(profile.calibration if profile else None, positive),
        say=say,
    )
    if not request.follow_upstream:
        return report
    if loaded is not None:
        from mlmon.sources.chain import frame_samples

        samples = frame_samples(loaded.frame, scope)
    else:
        from mlmon.sources.chain import es_samples

        samples = es_samples(client, scope)
    return with_upstream(report, request, samples, client_factory=client_factory, say=say)


def with_upstream(
    report: TraceReport,
    request: TraceRequest,
    samples: list,
    *,
    client_factory: Callable[[], Any],
    say: Say,
) -> TraceReport:
    """The report with a finding per implicated upstream model, traced in the same window."""
    from mlmon.analysis.chain import finding, headline_suffix, implicated, match_links

    found = []
    for link, reason in implicated(report, match_links(samples)):
        say(f"upstream model {link.model}")
        upstream, problem = None, None
        try:
            upstream = run(
                replace(
                    request,
                    model=link.model,
                    version=None,
                    metric=None,
                    positive=None,
                    follow_upstream=False,
                ),
                client_factory=client_factory,
            )
        except MlmonError as exc:
            problem = str(exc)
        found.append(finding(link, reason, upstream, problem))
    if not found:
        return report
    return replace(report, upstream=tuple(found), headline=report.headline + headline_suffix(found))


def _metrics_of(task: str) -> tuple[str, ...]:
    from mlmon.analysis.metrics import CLASSIFICATION_METRICS, REGRESSION_METRICS

    return REGRESSION_METRICS if task == "regression" else CLASSIFICATION_METRICS


def _unusable_actuals(
    current: Source,
    make: Factory,
    scope: Scope,
    metric: str,
    positive: str | None,
    request: TraceRequest,
    profile: Profile | None,
) -> UnusableActuals | None:
    """Actuals of the other kind, counted only when the traced metric has none (one search)."""
    if sample_size(current.overall(), metric):
        return None
    task = task_of(metric)
    if request.metric:
        basis = f"--metric {metric} is a {task} metric"
    elif profile is not None and profile.task:
        basis = f"the profile is {task}"
    else:
        basis = f"this trace is {task}"
    return unusable_actuals(task, make(scope, other_task(task), positive).overall(), basis)


def kind_mismatches(profile: Profile, kinds: dict[str, str]) -> list[str]:
    """Features the profile holds as numbers that the index holds as text (zip codes in a CSV)."""
    return sorted(
        name
        for name, feature in profile.features.items()
        if feature.kind == "numeric" and kinds.get(f"features.{name}") == "keyword"
    )


def numbers_held_as_categories(profile: Profile, kinds: dict[str, str]) -> list[str]:
    """Categorical features of the profile that the index maps as numbers (store ids
    sent as numbers before any event was tagged): a terms aggregation cannot bucket
    them by the profile's names, nor count their missing values as ``(missing)``."""
    return sorted(
        name
        for name, feature in profile.features.items()
        if feature.kind == "categorical" and kinds.get(f"features.{name}") == "double"
    )


def _describe_baseline(spec: BaselineSpec, profile: Profile | None) -> BaselineInfo:
    named = spec.kind == "profile" and profile is not None
    return BaselineInfo(
        kind=spec.kind,
        description=spec.describe(),
        name=profile.name if named else None,
        profile_id=profile.profile_id if named else None,
        rows=profile.rows if named else None,
        start=spec.window.start if spec.window else None,
        end=spec.window.end if spec.window else None,
        version=spec.version or None,
    )


Factory = Callable[[Scope, str, str | None], Source]


def _es_factory(client: Any, model: str) -> Factory:
    from mlmon.schema.event import model_indices
    from mlmon.sources.elasticsearch import ElasticsearchSource

    index = model_indices("predictions", model)  # once per trace, for every source
    return lambda scope, task, positive: ElasticsearchSource(
        client, scope, task=task, positive=positive, index=index
    )


def _frame_factory(request: TraceRequest, profile: Profile | None) -> tuple[Any, Factory]:
    """The file's load counts (for the report) and a factory of sources over its frame."""
    from mlmon.sources.frame import FrameSource, load_events

    assert request.events is not None
    loaded = load_events(request.events, profile=profile)
    if loaded.frame.empty:
        raise UsageError(
            f"{request.events}: no valid prediction events ({loaded.invalid} invalid lines)"
        )

    def make(scope: Scope, task: str, positive: str | None) -> Source:
        return FrameSource(loaded.frame, scope, task=task, positive=positive)

    return loaded, make


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
    return make(other, task, positive)  # trace() says so if it has no predictions


def _dimensions(
    profile: Profile | None, kinds: dict[str, str], current: Any, baseline: Source
) -> tuple[list[Dimension], list[Dimension]]:
    """Features (and tags) to slice by, and the model outputs for prediction drift.

    ``kinds``: the window's field kinds (``current.field_kinds()``, asked once per trace).
    """
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
    # Without a profile the baseline is another window or version of the same traffic,
    # so it can answer quantiles (a ProfileSource never gets here).
    reference = baseline
    numeric = [f for f, k in kinds.items() if k == "double"]
    quantiles = reference.quantiles([*numeric, "prediction.score", "prediction.value"])
    dims = from_fields(kinds, quantiles)
    outputs = [Dimension("prediction.label", "prediction.label", "categorical")]
    for output in ("prediction.score", "prediction.value"):
        if quantiles.get(output):
            outputs.append(Dimension(output, output, "numeric", tuple(quantiles[output])))
    return [d for d in dims if d.kind == "categorical" or d.edges], outputs


__all__ = ["TraceRequest", "positive_label", "run"]
