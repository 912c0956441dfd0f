"""Commands that read: ``mlmon trace``, ``mlmon check`` (monitors as code), ``mlmon demo``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from mlmon.cli._common import (
    alpha_option,
    cluster_client,
    console,
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
@click.option("--model", callback=model_name, required=True, help="Model to trace.")
@click.option("--version", "version", help="Only this model version (default: all versions).")
@window_option
@click.option(
    "--baseline",
    default="training",
    show_default=True,
    help="Compare with: a profile name (training, validation…), window:START..END, "
    "or version:V (same window, other version).",
)
@click.option(
    "--metric",
    help="accuracy, precision, recall, f1, roc_auc, mae, rmse or mape "
    "(default: accuracy for classifiers, mae for regression).",
)
@click.option("--positive-label", help="Positive class for precision/recall/F1/AUC.")
@click.option(
    "--events",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Trace a JSONL file of events with pandas instead of Elasticsearch.",
)
@format_option
@output_option
@min_support_option("Labelled rows a slice needs.")
@alpha_option("Family-wise error rate (Bonferroni) for slices, drift and quality.")
@click.option(
    "--psi",
    "psi_threshold",
    type=click.FloatRange(0, min_open=True),
    default=0.1,
    show_default=True,
    help="PSI a feature needs to be called drifted (0.1: a moderate shift; 0.25: a major one).",
)
@click.option(
    "--max-depth",
    type=click.IntRange(1, 3),
    default=3,
    show_default=True,
    help="Features per slice (1 = single features only).",
)
@top_option
def trace(
    model: str,
    version: str | None,
    window: str,
    baseline: str,
    metric: str | None,
    positive_label: str | None,
    events: Path | None,
    fmt: str,
    output: Path | None,
    min_support: int,
    alpha: float,
    psi_threshold: float,
    max_depth: int,
    top_k: int,
) -> None:
    """Root-cause report: what changed against the baseline, where, and why.

    \b
    1. the metric now against the baseline, and over time;
    2. the slices (single features, crosses of 2-3) that explain the drop;
    3. the cause: data quality, feature drift, or a label issue;
    plus prediction drift, estimated performance without actuals, and
    latency by version. Reads Elasticsearch aggregations only.

    \b
    A model with no events in the window (no traffic yet, or retention removed
    it) is one line, "no events for model M in window W", and exit code 4.

    \b
    Examples:
      mlmon trace --model fraud --window now-3d..now --baseline training
      mlmon trace --model fraud --version v2 --baseline version:v1 --format html -o v2.html
      mlmon trace --model fraud --baseline window:now-14d..now-7d --format json
      mlmon trace --model fraud --events events.jsonl --window 7d   # pandas, no cluster
    """
    from dataclasses import replace

    from mlmon._trace_request import TraceRequest, run
    from mlmon.analysis.trace import TraceSettings
    from mlmon.report.render import render, render_text

    defaults = TraceSettings()
    settings = replace(
        defaults,
        alpha=alpha,
        slices=replace(defaults.slices, min_support=min_support, max_depth=max_depth, top_k=top_k),
        drift=replace(defaults.drift, psi=psi_threshold),
    )
    request = TraceRequest(
        model=model,
        version=version,
        window=window,
        baseline=baseline,
        metric=metric,
        events=events,
        positive=positive_label,
        settings=settings,
    )
    with err_console.status("tracing", spinner="dots") as status:
        report = run(
            request,
            client_factory=cluster_client,
            say=lambda step: status.update(f"tracing: {step}"),
        )
    deliver(report, fmt, output, render=render, print_text=render_text, summary=report.headline)


@click.command()
@click.option(
    "--config",
    "config",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML file of monitors.",
)
def check(config: Path) -> None:
    """Evaluate monitors as code; exit 1 when any breaches (for cron or a CronJob).

    Prints a JSON summary on stdout, always: a monitor whose trace fails (no
    events in the window, the cluster refusing) is listed with status "error"
    and the reason, and the others are still evaluated. Each monitor names a
    model (window and baseline as in `mlmon trace`) and one check:

    \b
      defaults: {window: now-1d..now, baseline: training}
      monitors:
        - {name: fraud-accuracy, model: fraud, metric: accuracy, min: 0.9, max_drop: 0.03}
        - {name: fraud-drift, model: fraud, drift: {max_psi: 0.25}}
        - {name: fraud-na, model: fraud, quality: {max_missing_rate: 0.05}}
        - {name: fraud-latency, model: fraud, latency: {max_p95_ms: 120}}

    \b
    drift: without max_psi, breaches on what trace calls drifted.
    quality: max_missing_rate, max_unseen_rate, max_out_of_range_rate.
    latency: max_p50_ms, max_p95_ms, max_p99_ms (measure: total by default).
    """
    from mlmon._monitors import check as check_monitors
    from mlmon._monitors import parse_config
    from mlmon._trace_request import TraceRequest, run

    monitors = parse_config(config.read_text(encoding="utf-8"), source=str(config))
    clients: list = []

    def client_once():
        if not clients:
            clients.append(cluster_client())
        return clients[0]

    def run_trace(monitor):
        request = TraceRequest(
            model=monitor.model,
            version=monitor.version,
            window=monitor.window,
            baseline=monitor.baseline,
            metric=monitor.metric,
        )
        return run(request, client_factory=client_once)

    with err_console.status(f"checking {len(monitors)} monitors", spinner="dots"):
        summary = check_monitors(monitors, run_trace)
    click.echo(json.dumps(summary.to_json(), indent=2))
    for result in summary.results:
        if result.status != "ok":
            detail = "; ".join(result.breaches) or str(result.error or "")
            err_console.print(
                f"{result.status.upper()} {result.monitor.name}: {detail}", markup=False
            )
    if not summary.ok:
        sys.exit(1)


@click.command()
@click.option(
    "--events",
    default=200_000,
    show_default=True,
    type=click.IntRange(1000),
    help="Predictions to generate.",
)
@click.option(
    "--out",
    default=Path("out"),
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the training file and the injected-incident truth.",
)
@click.option(
    "--model",
    callback=model_name,
    default="fraud-demo",
    show_default=True,
    help="Model name the demo logs under (its indices are replaced on each run).",
)
def demo(events: int, out: Path, model: str) -> None:
    """The fraud-model incident end to end on a local Elasticsearch.

    Starts Elasticsearch if nothing answers at MLMON_ES_URL, installs the
    templates, trains a fraud model, registers its baseline, sends the
    fraud-incident scenario through the SDK (a new merchant the model misses,
    an NA spike, a slow canary, late actuals) and shows what Elasticsearch
    holds. Re-running is safe: the demo model's own indices are replaced.
    """
    from mlmon._demo import run_demo

    out.mkdir(parents=True, exist_ok=True)
    run_demo(console, events=events, out=out, model=model)
