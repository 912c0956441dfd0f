"""The ``mlmon`` command: parse, call one library function, render.

One module per command group; this one builds the root group from them and
holds :func:`main`, the one place that prints an error. Every error mlmon
knows about derives from :class:`mlmon.errors.MlmonError`: it becomes one
line on stderr and the exit code its type carries. Anything else is a bug
and keeps its traceback.

Internal to mlmon: no compatibility promise between releases. The public API is
``mlmon``, ``mlmon.sdk`` (and its processors, sinks), ``mlmon.errors``, ``mlmon.testing``.
"""

from __future__ import annotations

import sys

import click

from mlmon.cli import analyze, baseline, compare, data, kibana, simulate, stack
from mlmon.cli._common import err_console
from mlmon.errors import MlmonError

__all__ = ["cli", "main"]

EXIT_CODES = """\b
Exit codes: 0 success, 1 error (for check: a monitor breached or errored),
2 bad arguments or input, 3 Elasticsearch unreachable or refusing,
4 no events for the model in the window (trace)."""


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_CODES,
)
@click.version_option(package_name="mlmon")
def cli() -> None:
    """ML observability on the Elastic stack.

    \b
    Connection (shared with the SDK):
      MLMON_ES_URL        default http://127.0.0.1:9200
      MLMON_ES_API_KEY    or MLMON_ES_USER + MLMON_ES_PASSWORD
      MLMON_ES_CA_CERTS   CA bundle to verify the cluster's certificate

    \b
    First steps:
      mlmon stack up                      a local Elasticsearch (no Docker)
      mlmon setup                         index templates
      mlmon baseline register --model fraud --version v1 --name training \\
            --label-column is_fraud --prediction-column predicted train.csv
      python: PredictionLogger(model="fraud", version="v1", sink="elasticsearch")
    """


for command in (
    stack.stack,
    data.setup,
    baseline.baseline,
    data.ingest,
    data.tag,
    data.join,
    simulate.simulate,
    analyze.trace,
    compare.compare,
    analyze.check,
    analyze.demo,
    data.retention,
    kibana.kibana,
):
    cli.add_command(command)


def main() -> None:
    """Console entry point: known errors become one line on stderr and an exit code."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        err_console.print("mlmon: aborted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except MlmonError as exc:
        err_console.print(f"mlmon: error: {exc}", markup=False, soft_wrap=True)
        sys.exit(exc.exit_code)
