"""Service level: latency percentiles by model version, and the version that got slower.

A 1 % accuracy gain that costs 500 ms should show up in the same report, so
each version's p95 is compared with the fastest's, next to its metric.
"""

from __future__ import annotations

import math

from mlmon.analysis.dimensions import Dimension
from mlmon.analysis.metrics import finite, metric_value
from mlmon.analysis.result import Latency, LatencyFinding
from mlmon.analysis.source import BucketRequest, Source


def service_level(service: Source, metric: str, *, ratio: float, min_ms: float) -> Latency:
    """Latency percentiles and ``metric`` per version; a version ``ratio`` times slower at
    p95 than the fastest, and at least ``min_ms`` slower, is a finding."""
    latency = service.latency()
    by_version = service.buckets(
        [BucketRequest((Dimension("version", "model.version", "categorical"),))]
    )[0]
    metric_by_version = {
        key[0][1]: finite(metric_value(stats, metric)) for key, stats in (by_version or {}).items()
    }
    return Latency(
        by_version=latency or {},
        metric_by_version=metric_by_version,
        findings=_findings(latency, metric_by_version, metric, ratio, min_ms),
    )


def _findings(
    latency: dict[str, dict[str, dict[str, float]]] | None,
    accuracy_by_version: dict[str, float | None],
    metric: str,
    ratio_at_least: float,
    min_ms: float,
) -> tuple[LatencyFinding, ...]:
    if not latency or len(latency) < 2:
        return ()
    p95 = {v: m.get("total", {}).get("p95") for v, m in latency.items()}
    known = {v: x for v, x in p95.items() if x is not None}
    if len(known) < 2:
        return ()
    fastest = min(known, key=known.get)
    findings = []
    for version, value in sorted(known.items()):
        if version == fastest:
            continue
        ratio = value / known[fastest] if known[fastest] else math.inf
        if ratio >= ratio_at_least and value - known[fastest] >= min_ms:
            mine, theirs = accuracy_by_version.get(version), accuracy_by_version.get(fastest)
            gain = ""
            if mine is not None and theirs is not None:
                gain = f" for {metric} {mine:.3f} against {theirs:.3f}"
            findings.append(
                LatencyFinding(
                    version=version,
                    compared_with=fastest,
                    p95_ms=value,
                    baseline_p95_ms=known[fastest],
                    ratio=ratio,
                    evidence=(
                        f"{version} is {ratio:.1f}× slower than {fastest} at p95 "
                        f"({value:.0f} ms against {known[fastest]:.0f} ms){gain}."
                    ),
                )
            )
    return tuple(findings)
