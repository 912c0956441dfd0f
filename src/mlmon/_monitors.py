"""Monitors as code: ``mlmon check --config monitors.yml``.

A monitor names a model, a window and a baseline (as ``mlmon trace`` takes
them) and one threshold on the trace report: the metric, feature drift,
data quality or latency. Parsing and evaluation are pure; :func:`check`
runs one trace per distinct (model, version, window, baseline, metric) and
evaluates every monitor against it, so ten monitors on one model cost one
trace. A trace that fails (no events, a cluster error) marks its monitors
``error`` with the reason; the others are still evaluated and the summary is
always complete.

The format, with an example, is in ``mlmon check --help`` and the README.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml

from mlmon.errors import MlmonError, UsageError

if TYPE_CHECKING:
    from mlmon.analysis.result import TraceReport

TRACE_KEYS = ("model", "version", "window", "baseline", "metric")
THRESHOLDS: dict[str, tuple[str, ...]] = {
    "metric": ("min", "max", "max_drop"),
    "drift": ("max_psi", "features"),
    "quality": ("max_missing_rate", "max_unseen_rate", "max_out_of_range_rate", "features"),
    "latency": ("max_p50_ms", "max_p95_ms", "max_p99_ms", "measure"),
}
DEFAULTS = {"window": "now-1d..now", "baseline": "training"}


@dataclass(frozen=True)
class Monitor:
    name: str
    kind: str
    model: str
    window: str
    baseline: str
    version: str | None = None
    metric: str | None = None
    thresholds: Mapping[str, Any] = field(default_factory=dict)

    def trace_key(self) -> tuple[str | None, ...]:
        return (self.model, self.version, self.window, self.baseline, self.metric)


def parse_config(text: str, source: str = "monitors.yml") -> list[Monitor]:
    """Monitors from YAML text; any mistake is one UsageError naming the monitor and key."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise UsageError(f"{source}: not valid YAML{where}") from None
    if not isinstance(data, dict) or not isinstance(data.get("monitors"), list):
        raise UsageError(f"{source}: expected a mapping with a 'monitors' list")
    defaults = {**DEFAULTS, **(data.get("defaults") or {})}
    unknown = set(defaults) - set(TRACE_KEYS)
    if unknown:
        raise UsageError(f"{source}: unknown defaults key(s): {', '.join(sorted(unknown))}")
    monitors = []
    names: set[str] = set()
    for i, entry in enumerate(data["monitors"]):
        monitor = _parse_monitor(entry, defaults, f"{source}: monitor #{i + 1}")
        if monitor.name in names:
            raise UsageError(f"{source}: two monitors are named {monitor.name!r}")
        names.add(monitor.name)
        monitors.append(monitor)
    if not monitors:
        raise UsageError(f"{source}: the 'monitors' list is empty")
    return monitors


def _parse_monitor(entry: Any, defaults: Mapping[str, Any], where: str) -> Monitor:
    if not isinstance(entry, dict):
        raise UsageError(f"{where}: expected a mapping")
    where = f"{where} ({entry['name']})" if "name" in entry else where
    if not entry.get("model"):
        raise UsageError(f"{where}: 'model' is required")
    from mlmon.schema.event import validate_model_name

    try:
        validate_model_name(entry["model"])
    except ValueError as exc:
        raise UsageError(f"{where}: model: {exc}") from None
    kinds = [k for k in ("drift", "quality", "latency") if k in entry]
    metric_thresholds = {k: entry[k] for k in THRESHOLDS["metric"] if k in entry}
    if metric_thresholds:
        kinds.append("metric")
    if len(kinds) != 1:
        raise UsageError(
            f"{where}: give exactly one check: min/max/max_drop (metric), "
            f"drift:, quality: or latency: (found {', '.join(kinds) or 'none'})"
        )
    kind = kinds[0]
    thresholds = metric_thresholds if kind == "metric" else entry[kind] or {}
    if not isinstance(thresholds, dict):
        raise UsageError(f"{where}: '{kind}' must be a mapping of thresholds")
    unknown = set(thresholds) - set(THRESHOLDS[kind])
    if unknown:
        raise UsageError(
            f"{where}: unknown {kind} threshold(s) {', '.join(sorted(unknown))} "
            f"(known: {', '.join(THRESHOLDS[kind])})"
        )
    for key, value in thresholds.items():
        if key in ("features", "measure"):
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UsageError(f"{where}: {key} must be a number, not {value!r}")
    allowed = {"name", "model", *TRACE_KEYS, *kinds, *THRESHOLDS["metric"]}
    extra = set(entry) - allowed
    if extra:
        raise UsageError(f"{where}: unknown key(s) {', '.join(sorted(extra))}")
    values = {**defaults, **{k: entry[k] for k in TRACE_KEYS if k in entry}}
    return Monitor(
        name=str(entry.get("name") or f"{entry['model']}-{kind}"),
        kind=kind,
        model=str(values["model"]),
        window=str(values["window"]),
        baseline=str(values["baseline"]),
        version=str(values["version"]) if values.get("version") else None,
        metric=str(values["metric"]) if values.get("metric") else None,
        thresholds=thresholds,
    )


@dataclass(frozen=True)
class MonitorResult:
    """One monitor's outcome: ``ok``, ``breach`` (with reasons) or ``error`` (its trace failed)."""

    monitor: Monitor
    status: str
    breaches: tuple[str, ...] = ()
    error: MlmonError | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.monitor.name,
            "kind": self.monitor.kind,
            "model": self.monitor.model,
            "version": self.monitor.version,
            "window": self.monitor.window,
            "baseline": self.monitor.baseline,
            "status": self.status,
            "breaches": list(self.breaches),
        }
        if self.error is not None:
            out.update(error=str(self.error), error_type=type(self.error).__name__)
        return out


@dataclass(frozen=True)
class CheckSummary:
    """Every monitor's result, in config order, and how many traces they took."""

    results: tuple[MonitorResult, ...]
    traces: int

    def named(self, status: str) -> list[str]:
        return [r.monitor.name for r in self.results if r.status == status]

    @property
    def ok(self) -> bool:
        return all(r.status == "ok" for r in self.results)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "breached": self.named("breach"),
            "errors": self.named("error"),
            "traces": self.traces,
            "monitors": [r.to_json() for r in self.results],
        }


def evaluate(monitor: Monitor, report: TraceReport) -> MonitorResult:
    """One monitor against its trace report: status ``ok`` or ``breach`` with reasons."""
    reasons = _EVALUATORS[monitor.kind](monitor.thresholds, report)
    return MonitorResult(monitor, "breach" if reasons else "ok", tuple(reasons))


def _metric(t: Mapping[str, Any], report: TraceReport) -> list[str]:
    overall = report.overall
    name, now, before = overall.metric, overall.current, overall.baseline
    label = f"{name}{' (estimated)' if overall.estimated else ''}"
    if now is None:
        return [f"{name} cannot be computed in the window (no actuals, no scores)"]
    out = []
    if "min" in t and now < t["min"]:
        out.append(f"{label} {now:.4f} < min {t['min']}")
    if "max" in t and now > t["max"]:
        out.append(f"{label} {now:.4f} > max {t['max']}")
    if "max_drop" in t and before is not None:
        from mlmon.analysis.metrics import degradation

        drop = degradation(before, now, name)
        if drop > t["max_drop"]:
            out.append(
                f"{label} fell {drop:.4f} from the baseline's {before:.4f} "
                f"(max_drop {t['max_drop']})"
            )
    return out


def _chosen(t: Mapping[str, Any], rows: Sequence[Any]) -> list[Any]:
    """The rows of the features a check names (``features: [...]``), else all."""
    wanted = set(t.get("features") or [])
    return [row for row in rows if not wanted or row.feature in wanted]


def _drift(t: Mapping[str, Any], report: TraceReport) -> list[str]:
    out = []
    for row in _chosen(t, report.drift):
        if "max_psi" in t and row.psi > t["max_psi"]:
            out.append(f"{row.feature}: PSI {row.psi:.3f} > max_psi {t['max_psi']}")
        elif "max_psi" not in t and row.drifted:
            out.append(f"{row.feature} drifted (PSI {row.psi:.3f}, p {row.p_value:.2g})")
    return out


def _quality(t: Mapping[str, Any], report: TraceReport) -> list[str]:
    from mlmon.analysis.quality import CHECKS

    out = []
    for row in _chosen(t, report.quality):
        for check in CHECKS:
            limit = t.get(f"max_{check}_rate")
            rate = row.rate(check)
            if limit is not None and rate > limit:
                out.append(f"{row.feature}: {check} rate {rate:.4f} > {limit}")
    return out


def _latency(t: Mapping[str, Any], report: TraceReport) -> list[str]:
    measure = t.get("measure", "total")
    out = []
    for version, measures in sorted(report.latency.by_version.items()):
        values = measures.get(measure) or {}
        for p in ("p50", "p95", "p99"):
            limit = t.get(f"max_{p}_ms")
            if limit is not None and values.get(p) is not None and values[p] > limit:
                out.append(f"{version}: {measure} {p} {values[p]:.1f} ms > {limit} ms")
    return out


_EVALUATORS: dict[str, Callable[[Mapping[str, Any], TraceReport], list[str]]] = {
    "metric": _metric,
    "drift": _drift,
    "quality": _quality,
    "latency": _latency,
}


def check(monitors: list[Monitor], run_trace: Callable[[Monitor], TraceReport]) -> CheckSummary:
    """Evaluate every monitor, one trace per distinct trace key; errors are per monitor.

    Any :class:`~mlmon.errors.MlmonError` of a trace (bad arguments, no events, the
    cluster refusing) becomes that trace's monitors' ``error``; a bug still raises.
    """
    reports: dict[tuple, TraceReport | MlmonError] = {}
    results = []
    for monitor in monitors:
        key = monitor.trace_key()
        if key not in reports:
            try:
                reports[key] = run_trace(monitor)
            except MlmonError as exc:
                reports[key] = exc
        report = reports[key]
        if isinstance(report, MlmonError):
            results.append(MonitorResult(monitor, "error", error=report))
        else:
            results.append(evaluate(monitor, report))
    return CheckSummary(tuple(results), traces=len(reports))
