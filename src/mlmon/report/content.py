"""The report's content once, as titled tables: every format renders these.

Text, Markdown and HTML show the same sections in the same order (answer
first: headline, root causes; then the evidence: overall, slices, quality,
drift, latency, timeline), so a number never appears in one format and not
another.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from mlmon.analysis.cbpe import Estimate
from mlmon.analysis.dimensions import describe
from mlmon.analysis.estimation import describe_estimate
from mlmon.analysis.result import Overall, TraceReport


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    empty: str = "nothing to show"
    key: str = ""  # which chart (if any) the HTML report draws beside it
    labels: tuple[int, ...] = ()  # columns of slice labels: long, may break anywhere


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def num(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def filters(slice_filters: Mapping[str, str] | None) -> str:
    return describe(slice_filters.items()) if slice_filters else ""


def subtitle(report: TraceReport) -> str:
    window = report.window
    version = f" {report.version}" if report.version else ""
    return (
        f"model {report.model}{version}, window {window.start} .. "
        f"{window.end}, baseline {report.baseline.description}"
    )


def tables(report: TraceReport) -> list[Table]:
    metric = report.overall.metric
    out = []
    causes = Table(
        "Root causes",
        ["#", "kind", "feature", "slice", "evidence"],
        empty="none found",
        key="root_causes",
        labels=(3,),
    )
    for i, cause in enumerate(report.root_causes, 1):
        causes.rows.append(
            [str(i), cause.kind, cause.feature, filters(cause.slice), cause.evidence]
        )
    out.append(causes)
    if report.upstream:
        out.append(
            Table(
                "Upstream models (one level up)",
                ["feature", "why", "upstream model", "its metric now", "baseline", "evidence"],
                [
                    [u.feature, u.reason, u.model, num(u.current), num(u.baseline), u.evidence]
                    for u in report.upstream
                ],
            )
        )

    overall = report.overall
    summary = Table("Overall", ["metric", "current", "baseline"])
    for name, value in overall.metrics.items():
        mark = " (estimated)" if overall.estimated and name == metric else ""
        current = overall.current if name == metric else value
        before = overall.baseline if name == metric else overall.baseline_metrics.get(name)
        before_mark = " (estimated)" if overall.baseline_estimated and name == metric else ""
        summary.rows.append([name + mark, num(current), num(before) + before_mark])
    summary.rows.append(["predictions", f"{overall.count:,}", f"{overall.baseline_count:,}"])
    with_actuals = f"{overall.labelled:,}"
    if overall.unused_actuals:  # never "0" when actuals were joined: say they are unusable
        with_actuals = f"0 usable of {overall.unused_actuals:,} joined (see note)"
    summary.rows.append(["with actuals", with_actuals, f"{overall.baseline_labelled:,}"])
    out.append(summary)
    if overall.estimate is not None:
        out.append(_estimates(overall))

    slices = Table(
        f"Slices that changed (ranked by impact on {metric})",
        ["slice", metric, "baseline", "share", "impact", "arize impact", "p"],
        empty="no slice changed significantly",
        key="slices",
        labels=(0,),
    )
    for s in report.slices:
        slices.rows.append(
            [
                filters(s.filters),
                num(s.current),
                num(s.baseline) + _baseline_note(s.baseline_from),
                pct(s.volume_share),
                f"{s.impact:.4f}",
                f"{s.arize_impact:.4f}",
                f"{s.p_value:.1e}",
            ]
        )
    out.append(slices)
    if report.importance:
        out += _importance(report)

    quality = Table(
        "Data quality",
        ["feature", "missing", "baseline missing", "unseen", "out of range", "issues"],
        key="quality",
    )
    for q in report.quality:
        if q.issues or q.missing_rate or q.unseen_rate or q.out_of_range_rate:
            quality.rows.append(
                [
                    q.feature,
                    pct(q.missing_rate),
                    pct(q.baseline_missing_rate),
                    pct(q.unseen_rate),
                    pct(q.out_of_range_rate),
                    ", ".join(q.issues) or "ok",
                ]
            )
    out.append(quality)

    for title, rows, key in (
        ("Feature drift", report.drift, "drift"),
        ("Prediction drift", report.prediction_drift, "prediction_drift"),
    ):
        drift = Table(title, ["feature", "PSI", "JS", "test", "p (adjusted)", "drifted"], key=key)
        for d in rows:
            drift.rows.append(
                [
                    d.feature,
                    f"{d.psi:.3f}",
                    f"{d.js:.3f}",
                    d.test + (f" D={d.ks:.3f}" if d.ks is not None else ""),
                    f"{d.p_adjusted:.1e}",
                    "yes" if d.drifted else "no",
                ]
            )
        out.append(drift)

    latency = Table("Latency by version (ms)", ["version", "measure", "p50", "p95", "p99", metric])
    metric_by_version = report.latency.metric_by_version
    for version, measures in sorted(report.latency.by_version.items()):
        for measure, values in sorted(measures.items()):
            latency.rows.append(
                [
                    version,
                    measure,
                    num(values.get("p50"), 1),
                    num(values.get("p95"), 1),
                    num(values.get("p99"), 1),
                    num(metric_by_version.get(version)) if measure == "total" else "",
                ]
            )
    out.append(latency)

    estimated = any(point.estimate for point in report.timeline)
    timeline = Table(
        f"{metric} over time" + (" (estimated: CBPE)" if estimated else ""),
        ["from", "predictions", "current", "cumulative", "sliding"]
        + (["band (current)"] if estimated else []),
        key="timeline",
    )
    for point in report.timeline:
        row = [
            point.start[:16].replace("T", " "),
            f"{point.count:,}",
            num(point.current),
            num(point.cumulative),
            num(point.sliding),
        ]
        if estimated:
            row.append(_band(point.estimate.metric(metric)) if point.estimate else "")
        timeline.rows.append(row)
    out.append(timeline)
    return out


def _importance(report: TraceReport) -> list[Table]:
    """Features ranked by mean |attribution|, beside the slices; then what drifted."""
    ranked = Table(
        "Features by importance (mean |attribution|)",
        ["feature", "#", "now", "baseline", "baseline #", "change", "p (adjusted)", "drifted"],
        key="importance",
    )
    for row in report.importance:
        ranked.rows.append(
            [
                row.feature,
                str(row.rank) if row.current is not None else "–",
                num(row.current, 4),
                num(row.baseline, 4),
                str(row.baseline_rank) if row.baseline_rank is not None else "–",
                "–" if row.change is None else f"{row.change:+.0%}",
                "–" if row.p_adjusted is None else f"{row.p_adjusted:.1e}",
                "yes" if row.drifted else "no",
            ]
        )
    drifted = Table(
        "Attribution drift",
        ["feature", "evidence"],
        [[d.feature, d.evidence] for d in report.attribution_drift],
        empty="no feature's importance changed significantly",
    )
    return [ranked, drifted]


def _band(estimate: Estimate) -> str:
    if estimate.lower is None or estimate.upper is None:
        return "–"
    return f"{estimate.lower:.3f}–{estimate.upper:.3f}"


def _estimates(overall: Overall) -> Table:
    """Every estimated metric with its band, beside the baseline's."""
    assert overall.estimate is not None
    table = Table(
        "Estimated performance (CBPE, from the scores)",
        ["metric", "estimate", "band", "baseline"],
    )
    for name, value in overall.estimate.metrics.items():
        estimated_before = (
            overall.baseline_estimate.metric(name).value if overall.baseline_estimate else None
        )
        if estimated_before is not None:
            before = num(estimated_before) + " (estimated)"
        else:
            before = num(overall.baseline_metrics.get(name))
        table.rows.append(
            [
                name,
                describe_estimate(overall.estimate, name, overall.labelled),
                _band(value),
                before,
            ]
        )
    return table


def notes(report: TraceReport) -> list[str]:
    out = list(report.notes)
    if report.overall.note:
        out.append(report.overall.note)
    for finding in report.latency.findings[1:]:  # the first is in the headline
        out.append(finding.evidence)
    events = report.events_file
    if events and (events.invalid or events.unjoined_actuals):
        out.append(
            f"{events.path}: {events.invalid} invalid lines skipped, "
            f"{events.unjoined_actuals} actuals without their prediction"
        )
    return out


def _baseline_note(source: str | None) -> str:
    """Where a slice's baseline came from when it is not the slice's own."""
    return {"overall": " (overall)", "parent": " (parent)"}.get(source or "", "")
