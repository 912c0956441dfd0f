"""Render a trace report as text (rich), JSON, Markdown or HTML.

All formats but JSON render :func:`mlmon.report.content.tables`; JSON is
:func:`mlmon.analysis.result.to_json` of the report (the stable keys of
ARCHITECTURE), with NaN never written.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table as RichTable

from mlmon.analysis.result import TraceReport, to_json
from mlmon.report import content
from mlmon.report.html import page, render_html


@dataclass(frozen=True)
class Document:
    """What every non-JSON format shows, whichever command made it: the answer first."""

    command: str  # "trace", "compare"
    subject: str  # the model
    subtitle: str
    headline: str
    notes: Sequence[str]
    tables: list[content.Table]

    @property
    def title(self) -> str:
        return f"mlmon {self.command}: {self.subject}"


def trace_document(report: TraceReport) -> Document:
    return Document(
        "trace",
        report.model,
        content.subtitle(report),
        report.headline,
        content.notes(report),
        content.tables(report),
    )


def render_json(report: TraceReport) -> str:
    return json.dumps(to_json(report), indent=2, allow_nan=False, default=str) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: TraceReport) -> str:
    return markdown(trace_document(report))


def markdown(doc: Document) -> str:
    lines = [f"# {doc.title}", "", f"_{doc.subtitle}_", ""]
    lines += [f"**{doc.headline}**", ""]
    for note in doc.notes:
        lines.append(f"> {note}")
    for table in doc.tables:
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
    print_document(trace_document(report), console)


def print_document(doc: Document, console: Console) -> None:
    console.print(f"[bold]mlmon {doc.command}[/bold] {doc.subtitle}")
    console.print(f"[bold]{doc.headline}[/bold]")
    for note in doc.notes:
        console.print(f"[yellow]note:[/yellow] {note}")
    for table in doc.tables:
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


def render_document(doc: Document, fmt: str, *, as_json: Callable[[], str], html: str = "") -> str:
    """A document as text for a file; JSON comes from the report itself (``as_json``)."""
    if fmt == "json":
        return as_json()
    if fmt == "md":
        return markdown(doc)
    if fmt == "html":
        return html or page(doc)
    console = Console(record=True, width=140, color_system=None, file=_Null())
    print_document(doc, console)
    return console.export_text()


def render(report: TraceReport, fmt: str) -> str:
    """Text for a file (``text`` renders without colour)."""
    return render_document(
        trace_document(report),
        fmt,
        as_json=lambda: render_json(report),
        html=render_html(report) if fmt == "html" else "",
    )


class _Null:
    def write(self, _: str) -> int:
        return 0

    def flush(self) -> None:
        pass
