"""``mlmon compare``: would the candidate version have done better, on the same requests?"""

from __future__ import annotations

from pathlib import Path

import click

from mlmon.cli._common import cluster_client, console, err_console, model_name
from mlmon.report import FORMATS as REPORT_FORMATS


@click.command()
@click.option("--model", callback=model_name, required=True, help="Model to compare.")
@click.option("--candidate", required=True, help="The new version (a shadow or canary).")
@click.option("--against", required=True, help="The version it would replace (live).")
@click.option(
    "--window",
    default="now-7d..now",
    show_default=True,
    help="Time window: START..END (ISO-8601 or now-<n><m|h|d|w>), or a length like 24h.",
)
@click.option("--profile", "profile_name", help="Slice numbers on this profile's bins.")
@click.option(
    "--events",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Compare from a JSONL file of events with pandas instead of Elasticsearch.",
)
@click.option(
    "--format", "fmt", type=click.Choice(REPORT_FORMATS), default="text", show_default=True
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here."
)
@click.option(
    "--min-support",
    type=click.IntRange(1),
    default=100,
    show_default=True,
    help="Labelled requests a slice needs.",
)
@click.option(
    "--alpha",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.01,
    show_default=True,
    help="Significance; Bonferroni over the slices tested.",
)
@click.option(
    "--top", "top_k", type=click.IntRange(1), default=10, show_default=True, help="Slices shown."
)
def compare(
    model: str,
    candidate: str,
    against: str,
    window: str,
    profile_name: str | None,
    events: Path | None,
    fmt: str,
    output: Path | None,
    min_support: int,
    alpha: float,
    top_k: int,
) -> None:
    """Would the candidate have done better? Paired on the same requests when it can.

    \b
    With shadow predictions (logged with shadow_of=<live prediction id>): agreement,
    each version's metric on the same requests with McNemar's test (regression: a
    paired t-test on absolute errors), the slices where they disagree and where the
    candidate is worse or better, latency side by side, and a verdict line.
    Without (a canary on its own share of traffic): the two populations, said so.

    \b
    Examples:
      mlmon compare --model fraud --candidate v2 --against v1 --window now-1d..now
      mlmon compare --model fraud --candidate v2 --against v1 --format json
      mlmon compare --model fraud --candidate v2 --against v1 --events events.jsonl --window 7d
    """
    from mlmon.analysis.compare import CompareSettings
    from mlmon.compare_request import CompareRequest, run
    from mlmon.report.compare import print_text, render

    request = CompareRequest(
        model=model,
        candidate=candidate,
        against=against,
        window=window,
        events=events,
        profile_name=profile_name,
        settings=CompareSettings(alpha=alpha, min_support=min_support, top=top_k),
    )
    with err_console.status("comparing", spinner="dots"):
        report = run(request, client_factory=cluster_client)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(render(report, fmt), encoding="utf-8")
        err_console.print(f"{report.verdict}\nReport ({fmt}): {output}")
    elif fmt == "text":
        print_text(report, console)
    else:
        click.echo(render(report, fmt), nl=False)
