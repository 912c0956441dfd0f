"""A compare request, resolved: arguments → paired (or population) counts → report.

The I/O choices of ``mlmon compare`` (which backend, which dimensions, the
pairing pass before counting); the analysis itself is
:mod:`mlmon.analysis.compare`, pure over counts. Paired when the window holds
shadows of the candidate paired with the against version, else the
population comparison of the two versions' own traffic (a canary), which the
report says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlmon._trace_request import _dimensions
from mlmon.analysis import compare as cmp
from mlmon.analysis.compare_result import CompareReport, PairCounts, RequestCounts
from mlmon.analysis.dimensions import Dimension
from mlmon.analysis.source import BucketRequest, Scope, Source
from mlmon.analysis.window import Window, parse_window
from mlmon.baseline.profile import Profile
from mlmon.errors import NoEvents, UsageError


@dataclass(frozen=True)
class CompareRequest:
    model: str
    candidate: str
    against: str
    window: str
    events: Path | None = None
    profile_name: str | None = None  # slices on this registered profile's bins
    profile: Profile | None = None  # or this one (tests, callers with a profile in hand)
    settings: cmp.CompareSettings = field(default_factory=cmp.CompareSettings)


@dataclass(frozen=True)
class _Backend:
    name: str
    population: Callable[[Scope, str], Source]
    pairs: Any  # ElasticsearchPairs or FramePairs


def run(request: CompareRequest, *, client_factory: Callable[[], Any]) -> CompareReport:
    """Resolve the request, pair what is unpaired (Elasticsearch), count, compare."""
    if request.candidate == request.against:
        raise UsageError(f"--candidate and --against are both {request.candidate!r}")
    window = parse_window(request.window)
    candidate_scope = Scope(request.model, request.candidate, window.start, window.end)
    profile = request.profile
    if request.events is not None:
        backend = _frame_backend(request, candidate_scope)
        if profile is None and request.profile_name:
            profile = _load_profile(client_factory(), request)
    else:
        client = client_factory()
        backend = _es_backend(client, request, candidate_scope)
        if profile is None:
            profile = _load_profile(client, request)
    against_scope = Scope(request.model, request.against, window.start, window.end)
    candidate = backend.population(candidate_scope, "classification")
    against = backend.population(against_scope, "classification")
    dimensions, _ = _dimensions(profile, candidate.field_kinds(), candidate, against)
    overall, per_dimension = backend.pairs.pairs_by(dimensions)
    if overall.requests:
        return _paired(request, window, backend, overall, per_dimension)
    return _population(request, window, backend, candidate_scope, against_scope, dimensions)


def _load_profile(client: Any, request: CompareRequest) -> Profile | None:
    from mlmon.baseline.store import load_profile

    profile = load_profile(client, model=request.model, name=request.profile_name)
    if request.profile_name and profile is None:
        raise UsageError(
            f"no profile named {request.profile_name!r} is registered for model "
            f"{request.model!r} (see `mlmon baseline list --model {request.model}`)"
        )
    return profile


def _es_backend(client: Any, request: CompareRequest, scope: Scope) -> _Backend:
    from mlmon.es.join import join_pending
    from mlmon.es.pair import pair_pending
    from mlmon.schema.event import model_indices
    from mlmon.sources.elasticsearch import ElasticsearchSource
    from mlmon.sources.pairs import ElasticsearchPairs

    join_pending(client, model=request.model)  # actuals first: pairing copies them
    pair_pending(client, model=request.model)
    index = model_indices("predictions", request.model)
    return _Backend(
        "elasticsearch",
        lambda s, task: ElasticsearchSource(client, s, task=task, index=index),
        ElasticsearchPairs(client, scope, request.against),
    )


def _frame_backend(request: CompareRequest, scope: Scope) -> _Backend:
    from mlmon.sources.frame import FrameSource, load_events
    from mlmon.sources.pairs import FramePairs

    assert request.events is not None
    loaded = load_events(request.events)
    if loaded.frame.empty:
        raise UsageError(
            f"{request.events}: no valid prediction events ({loaded.invalid} invalid lines)"
        )
    return _Backend(
        "pandas",
        lambda s, task: FrameSource(loaded.frame, s, task=task),
        FramePairs(loaded.frame, scope, request.against),
    )


def _task(labelled: float, scored: float) -> str:
    return "regression" if scored and not labelled else "classification"


@dataclass(frozen=True)
class _Found:
    """What either mode measured, before the ranking and the verdict."""

    mode: str
    metric: str
    requests: RequestCounts
    overall: cmp.MetricComparison
    slices: list
    latency: Any
    agreement: Any = None
    notes: tuple[str, ...] = ()


def _report(request: CompareRequest, window: Window, backend: _Backend, found: _Found):
    top = request.settings.top
    worse = cmp.ranked(found.slices, "worse", top)
    better = cmp.ranked(found.slices, "better", top)
    verdict = cmp.verdict(
        candidate=request.candidate,
        against=request.against,
        mode=found.mode,
        overall=found.overall,
        latency=found.latency,
        worse=worse,
        better=better,
    )
    return CompareReport(
        model=request.model,
        candidate=request.candidate,
        against=request.against,
        window=window,
        backend=backend.name,
        mode=found.mode,
        metric=found.metric,
        requests=found.requests,
        overall=found.overall,
        slices=tuple(found.slices[:top]),
        worse=worse,
        better=better,
        verdict=verdict if found.mode == "paired" else f"Unpaired: {verdict}",
        agreement=found.agreement,
        latency=found.latency,
        notes=found.notes,
    )


def _paired(
    request: CompareRequest,
    window: Window,
    backend: _Backend,
    overall: PairCounts,
    per_dimension: list[dict],
) -> CompareReport:
    task = _task(overall.labelled, overall.scored)
    metric = "mae" if task == "regression" else "accuracy"
    settings = request.settings
    buckets = {key: counts for answer in per_dimension for key, counts in answer.items()}
    result = cmp.paired_overall(overall, task, metric, settings.alpha)
    notes = ()
    if not result.count:
        notes = ("no paired request has its actual yet: agreement and latency only",)
    found = _Found(
        "paired",
        metric,
        RequestCounts(overall.requests, overall.requests, overall.requests),
        result,
        cmp.paired_slices(buckets, overall, task, metric, settings),
        cmp.latency_comparison(*backend.pairs.latency()),
        cmp.agreement(overall) if task == "classification" else None,
        notes,
    )
    return _report(request, window, backend, found)


def _population(
    request: CompareRequest,
    window: Window,
    backend: _Backend,
    candidate_scope: Scope,
    against_scope: Scope,
    dimensions: list[Dimension],
) -> CompareReport:
    probe = backend.population(candidate_scope, "classification").overall()
    task = _task(probe.labelled, probe.scored)
    metric = "mae" if task == "regression" else "accuracy"
    settings = request.settings
    mine = backend.population(candidate_scope, task)
    theirs = backend.population(against_scope, task)
    mine_total, theirs_total = mine.overall(), theirs.overall()
    if not mine_total.n:
        raise NoEvents(request.model, request.candidate, window)
    requests = [BucketRequest((d,)) for d in dimensions]
    slices = cmp.population_slices(
        _merged(mine.buckets(requests)),
        _merged(theirs.buckets(requests)),
        int(mine_total.n),
        metric,
        settings,
    )
    note = (
        f"no shadow prediction of {request.candidate} is paired with {request.against} in the "
        "window: this compares the two versions' own traffic (different requests), not paired "
        "answers"
    )
    found = _Found(
        "population",
        metric,
        RequestCounts(0, int(mine_total.n), int(theirs_total.n)),
        cmp.population_overall(mine_total, theirs_total, metric, settings.alpha),
        slices,
        cmp.latency_comparison(_total(mine), _total(theirs)),
        notes=(note,),
    )
    return _report(request, window, backend, found)


def _merged(answers: list[dict | None]) -> dict:
    return {key: stats for answer in answers if answer for key, stats in answer.items()}


def _total(source: Source) -> dict[str, float] | None:
    """The version's own total-latency percentiles (its scope holds one version)."""
    latency = source.latency() or {}
    version = source.scope.version or ""
    return dict(latency.get(version, {}).get("total") or {}) or None


__all__ = ["CompareRequest", "run"]
