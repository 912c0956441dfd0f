"""Render a trace report as text (rich), JSON, Markdown or HTML.

All formats but JSON render :func:`mlmon.report.content.tables`; JSON is
:func:`mlmon.analysis.result.to_json` of the report (the stable keys of
ARCHITECTURE), with NaN never written.
"""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table as RichTable

from mlmon.analysis.result import TraceReport, to_json
from mlmon.report import content
from mlmon.report.html import render_html


def render_json(report: TraceReport) -> str:
    return json.dumps(to_json(report), indent=2, allow_nan=False, default=str) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: TraceReport) -> str:
    lines = [f"# mlmon trace: {report.model}", "", f"_{content.subtitle(report)}_", ""]
    lines += [f"**{report.headline}**", ""]
    for note in content.notes(report):
        lines.append(f"> {note}")
    for table in content.tables(report):
        lines += ["", f"## {table.title}", ""]
        if not table.rows:
            lines.append(f"_{table.empty}_")
            continue
        lines.append("| " + " | ".join(table.columns) + " |")
        lines.append("|" + "---|" * len(table.columns))
        for row in table.rows:
            lines.append("| " + " | ".join(_md_cell(c) for c in row) + " |")
    return "\n".join(lines) + "\n"


def render_text(report: TraceReport, console: Console) -> None:
    """The terminal report: the answer first, then the evidence."""
    console.print(f"[bold]mlmon trace[/bold] {content.subtitle(report)}")
    console.print(f"[bold]{report.headline}[/bold]")
    for note in content.notes(report):
        console.print(f"[yellow]note:[/yellow] {note}")
    for table in content.tables(report):
        if table.key == "timeline" and len(table.rows) > 14:
            table.rows = table.rows[-14:]
            table.title += " (last 14 points; full series in --format json/html)"
        if not table.rows:
            console.print(f"\n[bold]{table.title}[/bold]: {table.empty}")
            continue
        if table.key == "root_causes":  # prose reads better than a narrow column
            console.print(f"\n[bold]{table.title}[/bold]")
            for number, kind, feature, _slice, evidence in table.rows:
                console.print(f" {number}. [bold]{kind}[/bold] ({feature}) {evidence}", markup=True)
            console.print()
            continue
        rich_table = RichTable(title=table.title, title_justify="left", title_style="bold")
        for i, column in enumerate(table.columns):
            rich_table.add_column(column, overflow="fold", min_width=24 if i == 0 else None)
        for row in table.rows:
            rich_table.add_row(*row)
        console.print(rich_table)


def render(report: TraceReport, fmt: str) -> str:
    """Text for a file (``text`` renders without colour)."""
    if fmt == "json":
        return render_json(report)
    if fmt == "md":
        return render_markdown(report)
    if fmt == "html":
        return render_html(report)
    console = Console(record=True, width=140, color_system=None, file=_Null())
    render_text(report, console)
    return console.export_text()


class _Null:
    def write(self, _: str) -> int:
        return 0

    def flush(self) -> None:
        pass
