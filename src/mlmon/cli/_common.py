"""What every command shares: the consoles, the --model check, one client, progress."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from mlmon.errors import UsageError
from mlmon.es.settings import ConnectionSettings

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def model_name(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """Every --model is checked before use: a name, never a pattern or query syntax."""
    if value is None:
        return None
    from mlmon.schema.event import validate_model_name

    return checked(validate_model_name, value, option="--model")


def checked(validate, value, *, option: str | None = None):
    """A value check's ValueError becomes a usage error (exit 2), named by its option."""
    try:
        return validate(value)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}" if option else str(exc)) from None


def cluster_client(*, check_features: bool = True, install_templates: bool = False):
    """Connect and check the node once: a missing feature fails here, in one line.

    Commands that write install the index templates first (idempotent, a few
    requests), so nothing is ever indexed with guessed dynamic mappings.
    """
    from mlmon.es.capabilities import check_node
    from mlmon.es.client import connect
    from mlmon.es.setup import TemplatesNotPermitted
    from mlmon.es.setup import setup as install

    client = connect(ConnectionSettings.from_env())
    if install_templates:
        try:
            install(client)  # checks the node too
        except TemplatesNotPermitted as error:
            # A least-privilege writer may not manage templates; say so, and go on writing.
            err_console.print(f"mlmon: warning: {error}", markup=False)
    elif check_features:
        check_node(client)
    return client


def progress_bar(**columns_kw) -> Progress:
    """A bar on stderr, only on a terminal: piped output stays clean."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        *columns_kw.get("columns", (MofNCompleteColumn(),)),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )


def split_names(values: tuple[str, ...]) -> tuple[str, ...]:
    """``--x a,b --x c`` → ``("a", "b", "c")``: repeated and comma-separated both work."""
    return tuple(n.strip() for group in values for n in group.split(",") if n.strip())


# --- options the report commands (trace, compare) share -----------------------

window_option = click.option(
    "--window",
    default="now-7d..now",
    show_default=True,
    help="Time window: START..END (ISO-8601 or now-<n><m|h|d|w>), or a length like 24h.",
)


def format_option(f):
    from mlmon.report import FORMATS

    return click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True
    )(f)


output_option = click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here."
)


def min_support_option(help_text: str):
    return click.option(
        "--min-support", type=click.IntRange(1), default=100, show_default=True, help=help_text
    )


def alpha_option(help_text: str):
    return click.option(
        "--alpha",
        type=click.FloatRange(0, 1, min_open=True, max_open=True),
        default=0.01,
        show_default=True,
        help=help_text,
    )


top_option = click.option(
    "--top", "top_k", type=click.IntRange(1), default=10, show_default=True, help="Slices shown."
)


def deliver(report, fmt: str, output: Path | None, *, render, print_text, summary: str) -> None:
    """A report to ``-o FILE`` (its one-line answer on stderr), the terminal, or stdout."""
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(render(report, fmt), encoding="utf-8")
        err_console.print(f"{summary}\nReport ({fmt}): {output}")
    elif fmt == "text":
        print_text(report, console)
    else:
        click.echo(render(report, fmt), nl=False)
