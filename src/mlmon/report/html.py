"""One self-contained HTML file: the report's tables and inline SVG charts.

No scripts, fonts or stylesheets from anywhere: it opens offline and can be
attached to an incident ticket. Charts: the metric over time (per bucket,
cumulative, sliding), each called slice against its baseline, the features'
importance against the baseline's, and the distributions of drifted features
(baseline against current).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import Any

from mlmon.analysis.result import TimelinePoint, TraceReport
from mlmon.report import content

BLUE, ORANGE, GREY, GREEN = "#2f6db5", "#e07b28", "#9aa0a6", "#3a9d5d"

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem auto;
max-width:1100px;color:#1f2328;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem}
.sub{color:#57606a}.headline{font-size:1.15rem;font-weight:600;background:#fff8e6;
border-left:4px solid #e07b28;padding:.7rem 1rem;margin:1rem 0}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0}
th,td{border-bottom:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}
td.label{overflow-wrap:anywhere;min-width:12rem}
th{background:#f6f8fa}.note{color:#6e5900}.empty{color:#57606a;font-style:italic}
svg{background:#fff;border:1px solid #d0d7de;margin:.5rem 0}
.legend span{display:inline-block;margin-right:1rem;font-size:.85rem}
.chart{margin:.5rem 0}.bars{border:1px solid #d0d7de;padding:.3rem .5rem}
.bars .row{display:grid;grid-template-columns:minmax(8rem,32%) minmax(0,1fr);gap:.6rem;
align-items:center;padding:.2rem 0;border-bottom:1px solid #f0f2f4}
.bars .label{font-size:.8rem;overflow-wrap:anywhere;min-width:0}
.bars .track{min-width:0}.barline{display:flex;align-items:center;height:12px;margin:1px 0}
.bar{display:inline-block;height:11px;flex:none}.figure{font-size:.7rem;margin-left:4px}
"""


def _legend(items: list[tuple[str, str]]) -> str:
    spans = "".join(
        f'<span><svg width="12" height="12" style="border:0;margin:0"><rect width="12" '
        f'height="12" fill="{color}"/></svg> {escape(label)}</span>'
        for label, color in items
    )
    return f'<div class="legend">{spans}</div>'


def line_chart(points: Sequence[TimelinePoint], metric: str) -> str:
    """The metric per bucket, cumulative and sliding, on a 0..max axis."""
    series = [("current", BLUE), ("cumulative", GREY), ("sliding", ORANGE)]
    values = [
        getattr(p, name) for p in points for name, _ in series if getattr(p, name) is not None
    ]
    if len(points) < 2 or not values:
        return ""
    width, height, pad = 1000, 260, 40
    top = max(values) * 1.05 or 1.0
    bottom = min(0.0, min(values))

    def xy(i: int, value: float) -> str:
        x = pad + i * (width - 2 * pad) / (len(points) - 1)
        y = height - pad - (value - bottom) / (top - bottom) * (height - 2 * pad)
        return f"{x:.1f},{y:.1f}"

    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img">']
    for k in range(5):
        value = bottom + (top - bottom) * k / 4
        y = height - pad - k * (height - 2 * pad) / 4
        parts.append(
            f'<line x1="{pad}" x2="{width - pad}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
            f'<text x="2" y="{y + 4:.1f}" font-size="11">{value:.2f}</text>'
        )
    band = [
        (i, e.lower, e.upper)
        for i, p in enumerate(points)
        if p.estimate is not None
        for e in (p.estimate.metric(metric),)
        if e.lower is not None and e.upper is not None
    ]
    if band:  # the estimate's band per bucket, under the lines
        outline = [xy(i, high) for i, _, high in band] + [xy(i, low) for i, low, _ in band[::-1]]
        parts.append(f'<polygon fill="{BLUE}" fill-opacity="0.15" points="{" ".join(outline)}"/>')
    for name, color in series:
        coords = [
            xy(i, getattr(p, name)) for i, p in enumerate(points) if getattr(p, name) is not None
        ]
        parts.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(coords)}"/>'
        )
    for i, anchor in ((0, "start"), (len(points) // 2, "middle"), (len(points) - 1, "end")):
        x = pad + i * (width - 2 * pad) / (len(points) - 1)
        label = escape(points[i].start[:16].replace("T", " "))
        parts.append(
            f'<text x="{x:.1f}" y="{height - 10}" font-size="11" text-anchor="{anchor}">'
            f"{label}</text>"
        )
    parts.append("</svg>")
    estimated = " (estimated)" if band else ""
    legend = [(f"{metric} per bucket{estimated}", BLUE), ("cumulative", GREY), ("sliding", ORANGE)]
    if band:
        legend.append(("band (± 3 sampling errors)", "#c9d8ee"))
    return _legend(legend) + "".join(parts)


def paired_bars(rows: list[tuple[str, float | None, float | None]], labels: tuple[str, str]) -> str:
    """Baseline (grey) above current (colour) for each labelled row, as HTML boxes.

    The label is text in its own grid column, wrapping inside it, so a long slice
    (three features crossed) never runs over the bars nor loses its end.
    """
    rows = [r for r in rows if r[1] is not None or r[2] is not None][:25]
    if not rows:
        return ""
    top = max(max(r[1] or 0, r[2] or 0) for r in rows) or 1.0
    parts = ['<div class="bars" role="img">']
    for label, before, now in rows:
        lines = []
        for value, color in ((before, GREY), (now, BLUE)):
            if value is None:
                lines.append('<div class="barline"></div>')
                continue
            share = 85 * max(value, 0.0) / top  # room for the figure beside the longest bar
            lines.append(
                f'<div class="barline"><span class="bar" style="width:{share:.2f}%;'
                f'background:{color}"></span><span class="figure">{value:.3f}</span></div>'
            )
        parts.append(
            f'<div class="row"><div class="label" title="{escape(label)}">{escape(label)}</div>'
            f'<div class="track">{"".join(lines)}</div></div>'
        )
    parts.append("</div>")
    return _legend([(labels[0], GREY), (labels[1], BLUE)]) + "".join(parts)


def _charts(report: TraceReport, key: str) -> str:
    metric = report.overall.metric
    if key == "timeline":
        return line_chart(report.timeline, metric)
    if key == "slices":
        rows = [(content.filters(s.filters), s.baseline, s.current) for s in report.slices]
        return paired_bars(rows, (f"baseline {metric}", f"current {metric}"))
    if key in ("drift", "prediction_drift"):
        out = []
        for d in report.drift if key == "drift" else report.prediction_drift:
            if not d.drifted:
                continue
            dist = d.distribution
            rows = list(zip(dist.buckets, dist.baseline, dist.current, strict=False))
            rows.sort(key=lambda r: -max(r[1], r[2]))
            out.append(f"<h3>{escape(d.feature)}: share per bucket</h3>")
            out.append(paired_bars(rows, ("baseline share", "current share")))
        return "".join(out)
    if key == "importance":
        rows = [(r.feature, r.baseline, r.current) for r in report.importance]
        return paired_bars(rows, ("baseline mean |attribution|", "current mean |attribution|"))
    if key == "quality":
        rows = [
            (f"{q.feature} missing", q.baseline_missing_rate, q.missing_rate)
            for q in report.quality
            if q.issues
        ]
        return paired_bars(rows, ("baseline rate", "current rate")) if rows else ""
    return ""


def render_html(report: TraceReport) -> str:
    from mlmon.report.render import trace_document

    return page(trace_document(report), lambda key: _charts(report, key))


def page(doc: Any, charts: Callable[[str], str] = lambda _key: "") -> str:
    """One self-contained page of a report :class:`~mlmon.report.render.Document`."""
    body = [
        f"<h1>{escape(doc.title)}</h1>",
        f'<div class="sub">{escape(doc.subtitle)}</div>',
        f'<div class="headline">{escape(doc.headline)}</div>',
    ]
    for note in doc.notes:
        body.append(f'<p class="note">{escape(note)}</p>')
    for table in doc.tables:
        body.append(f"<h2>{escape(table.title)}</h2>")
        chart = charts(table.key) if table.key else ""
        if chart:
            body.append(f'<div class="chart" data-chart="{table.key}">{chart}</div>')
        if not table.rows:
            body.append(f'<p class="empty">{escape(table.empty)}</p>')
            continue
        head = "".join(f"<th>{escape(c)}</th>" for c in table.columns)
        rows = "".join(
            "<tr>"
            + "".join(
                f'<td class="label">{escape(c)}</td>'
                if i in table.labels
                else f"<td>{escape(c)}</td>"
                for i, c in enumerate(row)
            )
            + "</tr>"
            for row in table.rows
        )
        body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(doc.title)}</title>"
        f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n"
    )
