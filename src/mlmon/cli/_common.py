"""What every command shares: the consoles, the --model check, one client, progress."""

from __future__ import annotations

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
