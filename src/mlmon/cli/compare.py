"""``mlmon compare``: would the candidate version have done better, on the same requests?"""

from __future__ import annotations

from pathlib import Path

import click

from mlmon.cli._common import (
    alpha_option,
    cluster_client,
    deliver,
    err_console,
    format_option,
    min_support_option,
    model_name,
    output_option,
    top_option,
    window_option,
)


@click.command()
@click.option("--model", callback=model_name, required=True, help="Model to compare.")
@click.option("--candidate", required=True, help="The new version (a shadow or canary).")
@click.option("--against", required=True, help="The version it would replace (live).")
@window_option
@click.option("--profile", "profile_name", help="Slice numbers on this profile's bins.")
@click.option(
    "--events",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Compare from a JSONL file of events with pandas instead of Elasticsearch.",
)
@format_option
@output_option
@min_support_option("Labelled requests a slice needs.")
@alpha_option("Significance; Bonferroni over the slices tested.")
@top_option
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
    A candidate without events in the window is one line and exit code 4.

    \b
    Examples:
      mlmon compare --model fraud --candidate v2 --against v1 --window now-1d..now
      mlmon compare --model fraud --candidate v2 --against v1 --format json
      mlmon compare --model fraud --candidate v2 --against v1 --events events.jsonl --window 7d
    """
    from mlmon._compare_request import CompareRequest, run
    from mlmon.analysis.compare import CompareSettings
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
    deliver(report, fmt, output, render=render, print_text=print_text, summary=report.verdict)
