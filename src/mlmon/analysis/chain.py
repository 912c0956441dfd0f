"""Model chains: when a downstream model's trouble is an upstream model's output (pure).

A downstream prediction names the upstream prediction it consumed in
``trace.parent_prediction_id``. Which *feature* carried that output is found
from a small sample of linked predictions (a few dozen documents and one
``ids`` lookup, never a scan): the feature whose value equals the parent's
score (or value, or label) on nearly every sampled pair. When such a feature
is the top slice's or a drifted one, the report says so and quotes the
upstream model's own change in the same window. One level: the upstream
model's own parents are not followed (the finding says so).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from mlmon.analysis.result import TraceReport, UpstreamFinding, UpstreamLink

#: Share of the sampled pairs on which the feature must equal the parent's output.
MIN_MATCH = 0.9

Sample = tuple[Mapping[str, Any], Mapping[str, Any]]  # (downstream features, parent document)


def _outputs(parent: Mapping[str, Any]) -> list[Any]:
    prediction = parent.get("prediction") or {}
    return [prediction.get(k) for k in ("score", "value", "label") if prediction.get(k) is not None]


def _same(value: Any, output: Any) -> bool:
    if isinstance(value, float) and isinstance(output, float):
        return math.isclose(value, output, rel_tol=1e-9, abs_tol=1e-12)
    return isinstance(value, str) and isinstance(output, str) and value == output


def match_links(samples: Sequence[Sample]) -> tuple[UpstreamLink, ...]:
    """Features that carry an upstream model's output, with the model that produced it."""
    if not samples:
        return ()
    matches: Counter[tuple[str, str, str]] = Counter()
    for features, parent in samples:
        model = parent.get("model") or {}
        outputs = _outputs(parent)
        for name, value in features.items():
            if any(_same(value, output) for output in outputs):
                matches[(name, model.get("name", ""), model.get("version", ""))] += 1
    links = [
        UpstreamLink(feature, model, version or None, count, len(samples))
        for (feature, model, version), count in matches.items()
        if model and count >= MIN_MATCH * len(samples)
    ]
    return tuple(sorted(links, key=lambda link: (link.feature, link.model)))


def implicated(
    report: TraceReport, links: Sequence[UpstreamLink]
) -> list[tuple[UpstreamLink, str]]:
    """The links whose feature is the top slice's or a drifted feature, with why."""
    top = set(report.slices[0].filters) if report.slices else set()
    drifted = {d.feature for d in report.drift if d.drifted}
    out = []
    for link in links:
        if link.feature in top:
            out.append((link, "top slice"))
        elif link.feature in drifted:
            out.append((link, "drifted"))
    return out


def finding(
    link: UpstreamLink, reason: str, upstream: TraceReport | None, problem: str | None
) -> UpstreamFinding:
    """What the upstream model did in the same window (or why it could not be traced)."""
    where = f"{link.feature} is the output of upstream model {link.model}"
    how = (
        f" (trace.parent_prediction_id; it equals {link.model}'s prediction on "
        f"{link.matched} of {link.sampled} sampled links)"
    )
    if upstream is None:
        return UpstreamFinding(
            link.feature, link.model, link.version, reason, None, None, None, None,
            f"{where}{how}; {link.model} could not be traced: {problem}",
        )  # fmt: skip
    overall = upstream.overall
    drift = max(
        (d for d in upstream.prediction_drift if d.drifted), key=lambda d: d.psi, default=None
    )
    change = f"its {overall.metric} went from {_num(overall.baseline)} to {_num(overall.current)}"
    if drift is not None:
        change += f" and its {drift.feature} drifted (PSI {drift.psi:.2f})"
    evidence = (
        f"{where}{how}. In the same window {change}. Its own trace: {upstream.headline} "
        f"(one level up; {link.model}'s own upstream models are not followed)"
    )
    return UpstreamFinding(
        link.feature,
        link.model,
        link.version,
        reason,
        overall.metric,
        overall.current,
        overall.baseline,
        drift.psi if drift is not None else None,
        evidence,
    )


def headline_suffix(findings: Sequence[UpstreamFinding]) -> str:
    if not findings:
        return ""
    first = findings[0]
    text = f" Upstream: {first.feature} ({first.reason}) is model {first.model}'s output"
    if first.current is not None:
        text += (
            f", whose {first.metric} went from {_num(first.baseline)} to "
            f"{_num(first.current)} in the same window"
        )
    return text + "."


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"
