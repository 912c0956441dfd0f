"""A compare report in every format: the verdict first, then the evidence tables."""

from __future__ import annotations

import json

from rich.console import Console

from mlmon.analysis.compare_result import CompareReport, SliceComparison, to_json
from mlmon.report.content import Table, filters, num, pct
from mlmon.report.render import Document, print_document, render_document


def subtitle(report: CompareReport) -> str:
    how = "paired on the same requests" if report.mode == "paired" else "unpaired populations"
    return (
        f"model {report.model}, {report.candidate} against {report.against}, window "
        f"{report.window.start} .. {report.window.end}, {how} ({report.backend})"
    )


def _points(value: float | None, metric: str) -> str:
    if value is None:
        return "–"
    return f"{value:+.3f}" if metric == "mae" else f"{100 * value:+.1f} pts"


def _slice_rows(slices: tuple[SliceComparison, ...], metric: str) -> list[list[str]]:
    return [
        [
            filters(s.filters),
            f"{s.count:,}",
            pct(s.volume_share),
            pct(s.disagreement_rate),
            num(s.candidate),
            num(s.against),
            _points(s.difference, metric),
            f"{s.p_value:.2g}",
            s.direction,
        ]
        for s in slices
    ]


def tables(report: CompareReport) -> list[Table]:
    o, metric = report.overall, report.metric
    test = o.test
    cells = ""
    if test.candidate_only is not None:
        cells = (
            f"only {report.candidate} right: {test.candidate_only:,}; "
            f"only {report.against} right: {test.against_only:,}"
        )
    elif test.mean_difference is not None:
        cells = f"mean |error| difference {test.mean_difference:+.4g}"
    overall = Table(
        f"{metric} of each version" + (" on the same requests" if report.mode == "paired" else ""),
        ["measure", report.candidate, report.against, "difference", "test", "p-value", "counts"],
        [
            [
                metric,
                num(o.candidate),
                num(o.against),
                _points(o.difference, metric),
                test.name,
                f"{test.p_value:.2g}",
                cells or f"{o.count:,} requests",
            ]
        ],
    )
    if report.agreement is not None:
        a = report.agreement
        overall.rows.append(
            ["agreement", pct(a.rate), "", "", "", "", f"{a.agree:,} of {a.compared:,}"]
        )
    columns = ["slice", "requests", "share", "disagree", report.candidate, report.against]
    columns += ["difference", "p-value", f"{report.candidate} is"]
    ranked = "by disagreement" if report.mode == "paired" else "by difference"
    out = [
        overall,
        Table(
            f"Where {report.candidate} is worse (by what it costs overall)",
            columns,
            _slice_rows(report.worse, metric),
            empty="no slice is significantly worse",
        ),
        Table(
            f"Where {report.candidate} is better",
            columns,
            _slice_rows(report.better, metric),
            empty="no slice is significantly better",
        ),
        Table(
            f"Slices {ranked}",
            columns,
            _slice_rows(report.slices, metric),
            empty="no slice has enough requests",
        ),
    ]
    if report.latency is not None:
        lat = report.latency
        out.append(
            Table(
                "Latency (total, ms)"
                + (" on the same requests" if report.mode == "paired" else ""),
                ["version", "p50", "p95", "p99"],
                [
                    [version, *(num(values.get(p), 1) for p in ("p50", "p95", "p99"))]
                    for version, values in (
                        (report.candidate, lat.candidate),
                        (report.against, lat.against),
                    )
                ],
            )
        )
    return out


def document(report: CompareReport) -> Document:
    return Document(
        "compare", report.model, subtitle(report), report.verdict, report.notes, tables(report)
    )


def render_json(report: CompareReport) -> str:
    return json.dumps(to_json(report), indent=2, allow_nan=False, default=str) + "\n"


def render(report: CompareReport, fmt: str) -> str:
    return render_document(document(report), fmt, as_json=lambda: render_json(report))


def print_text(report: CompareReport, console: Console) -> None:
    print_document(document(report), console)


__all__ = ["document", "print_text", "render", "render_json"]
