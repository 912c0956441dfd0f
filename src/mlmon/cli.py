"""The ``mlmon`` command: parse, call one library function, render.

Every error mlmon knows about derives from :class:`mlmon.errors.MlmonError`;
:func:`main` is the one place that prints it (one line, stderr) and exits
with its code. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from mlmon.errors import ClusterUnavailable, MlmonError, UsageError
from mlmon.es.settings import ConnectionSettings
from mlmon.report import FORMATS as REPORT_FORMATS
from mlmon.simulate.scenarios import SCENARIOS

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_CODES = """\b
Exit codes: 0 success, 1 error (for check: a monitor breached or errored),
2 bad arguments or input, 3 Elasticsearch unreachable or refusing,
4 no events for the model in the window (trace)."""


def _model_name(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """Every --model is checked before use: a name, never a pattern or query syntax."""
    if value is None:
        return None
    from mlmon.schema.event import validate_model_name

    try:
        return validate_model_name(value)
    except ValueError as exc:
        raise UsageError(f"--model: {exc}") from None


def _client(*, check_features: bool = True, install_templates: bool = False):
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


def _progress(**columns_kw) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        *columns_kw.get("columns", (MofNCompleteColumn(),)),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )


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


# --- stack -----------------------------------------------------------------


@cli.group()
def stack() -> None:
    """A local Elasticsearch without Docker, for development, tests and the demo.

    Elastic's test distribution (8.x, pinned) is downloaded once with Maven,
    runs as an unprivileged user when you are root, with a 1 GB heap on
    127.0.0.1, security off. If MLMON_ES_URL already answers, nothing is started.
    """


@stack.command("up")
@click.option(
    "--nodes",
    type=click.IntRange(1, 9),
    help="Start this many nodes forming one cluster (512 MB heap each, HTTP on the "
    "URL's port and the next ones) instead of the single node.",
)
@click.option(
    "--transport-port",
    type=click.IntRange(1024, 65535),
    help="First transport port of a cluster's nodes (default: the HTTP port + 200).",
)
def stack_up(nodes: int | None, transport_port: int | None) -> None:
    """Start the local node (idempotent) and wait until it is healthy.

    \b
    With --nodes N, N nodes on 127.0.0.1 find each other through their loopback
    transport ports, each with its own data and logs under the stack directory
    (MLMON_STACK_DIR); `mlmon stack down` stops them all.
    """
    from mlmon import stack as local

    if transport_port is not None and (nodes or 1) == 1:
        raise UsageError("--transport-port is for a cluster: give --nodes 2 or more")
    url = ConnectionSettings.from_env().url
    before = local.status(url)
    node = local.up(
        url, nodes=nodes, transport_port=transport_port, say=lambda text: err_console.print(text)
    )
    if before.running and not before.managed:
        console.print(f"Using the Elasticsearch already answering at {node.url} (nothing started).")
    elif before.running:
        console.print(
            f"Elasticsearch {node.version} already running at {node.url} ({_processes(node)})."
        )
    else:
        console.print(
            f"Elasticsearch {node.version} is up at {node.url} ({_processes(node)}, "
            f"health {node.health})."
        )


def _processes(node) -> str:
    """``pid 12`` for the single node, ``3 nodes, pids 12, 13, 14`` for a cluster."""
    if len(node.pids) <= 1 and (node.nodes or 1) == 1:
        return f"pid {node.pid}"
    return f"{node.nodes} nodes, pids {', '.join(map(str, node.pids))}"


@stack.command("down")
def stack_down() -> None:
    """Stop the node(s) `mlmon stack up` started (never another one). Data is kept."""
    from mlmon import stack as local

    pids = local.down()
    if not pids:
        console.print("No mlmon-managed node is running.")
    elif len(pids) == 1:
        console.print(f"Stopped Elasticsearch (pid {pids[0]}).")
    else:
        console.print(
            f"Stopped {len(pids)} Elasticsearch nodes (pids {', '.join(map(str, pids))})."
        )


@stack.command("status")
def stack_status() -> None:
    """Say whether Elasticsearch answers, and with how many nodes; exit 3 when it does not."""
    from mlmon import stack as local

    node = local.status(ConnectionSettings.from_env().url)
    if not node.running:
        raise ClusterUnavailable(f"nothing answers at {node.url}: start it with `mlmon stack up`")
    owner = (
        f"mlmon-managed, {_processes(node)}, {node.stack_dir}"
        if node.managed
        else f"{node.nodes} nodes, not started by mlmon"
        if (node.nodes or 1) > 1
        else "not started by mlmon"
    )
    console.print(f"Elasticsearch at {node.url}: health {node.health} ({owner}).")


# --- setup -----------------------------------------------------------------


@cli.command()
@click.option(
    "--security",
    is_flag=True,
    help="Also put mlmon's roles, the users whose MLMON_*_PASSWORD is set, and "
    "kibana_system's password from KIBANA_PASSWORD (needs a security administrator).",
)
def setup(security: bool) -> None:
    """Install mlmon's index templates (idempotent, versioned).

    Checks first that the node has every API and aggregation mlmon relies on.
    The templates are the JSON files in pipelines/elasticsearch; the roles
    (mlmon_writer, mlmon_reader, mlmon_retention) are in its security/ folder.
    """
    from mlmon.es.setup import daily_indices
    from mlmon.es.setup import setup as install

    client = _client(check_features=False)  # setup checks the node itself
    result = install(client)
    for change in result.changes:
        console.print(
            f"  {change.kind:9} template {change.name:18} v{change.version}  {change.action}"
        )
    if security:
        from mlmon.es.security import install_security

        for action in install_security(client):
            console.print(f"  security  {action}")
    console.print(f"Elasticsearch {result.node.version}: templates ready.")
    daily = daily_indices(client)
    if daily:
        console.print(
            f"{len(daily)} daily indices from mlmon 0.1 (for example "
            f"{daily[0]}) cost a shard each. New events go to monthly indices; "
            "the daily ones are still read, and `mlmon retention apply` deletes them by their "
            "day. To free their shards sooner, see 'Migrating from daily indices' in the README."
        )


# --- baseline --------------------------------------------------------------


@cli.group()
def baseline() -> None:
    """Reference profiles (training, validation, …) that events are tagged and compared against."""


@baseline.command("register")
@click.option(
    "--model",
    callback=_model_name,
    required=True,
    help="Model name (lowercase, digits, '_' or '-').",
)
@click.option("--version", "version", required=True, help="Model version, e.g. v1.")
@click.option(
    "--name",
    default="training",
    show_default=True,
    help="Profile name: training, validation, or any name.",
)
@click.option("--label-column", help="Column with the true label (gives baseline performance).")
@click.option("--prediction-column", help="Column with the model's prediction.")
@click.option("--score-column", help="Column with the model's score or probability.")
@click.option(
    "--bins",
    default=10,
    show_default=True,
    type=click.IntRange(2, 100),
    help="Quantile bins per numeric feature.",
)
@click.option(
    "--categorical",
    "categorical",
    multiple=True,
    metavar="COLUMN[,COLUMN…]",
    help="Columns that are categories though they look like numbers (zip codes, ids).",
)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def baseline_register(
    model: str,
    version: str,
    name: str,
    label_column: str | None,
    prediction_column: str | None,
    score_column: str | None,
    bins: int,
    categorical: tuple[str, ...],
    file: Path,
) -> None:
    """Build a profile from a CSV or Parquet FILE and store it (re-registering replaces it).

    The profile keeps, per feature: type, NA rate, category vocabulary with
    frequencies, numeric range and quantile bins; with labels and predictions,
    baseline performance. Events are tagged against it before indexing.

    \b
    Example:
      mlmon baseline register --model fraud --version v1 --name training \\
          --label-column is_fraud --prediction-column predicted \\
          --categorical zip_code train.csv
    """
    from mlmon.baseline import build_profile, read_table
    from mlmon.baseline.store import save_profile
    from mlmon.schema.event import format_timestamp

    with _progress(columns=(DownloadColumn(),)) as progress:
        task = progress.add_task(f"Reading {file.name}", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        frame = read_table(file, progress=advance)
    profile = build_profile(
        frame,
        model=model,
        version=version,
        name=name,
        created_at=format_timestamp(datetime.now(timezone.utc)),
        label_column=label_column,
        prediction_column=prediction_column,
        score_column=score_column,
        bins=bins,
        categorical=[c.strip() for group in categorical for c in group.split(",") if c.strip()],
    )
    client = _client(install_templates=True)  # the file was checked before the cluster
    stored = save_profile(client, profile)
    kinds = [f.kind for f in stored.features.values()]
    console.print(
        f"Registered profile {stored.profile_id}: {stored.rows} rows, "
        f"{kinds.count('numeric')} numeric and {kinds.count('categorical')} categorical features"
        + (f", baseline {_metrics(stored.performance)}" if stored.performance else "")
        + "."
    )


def _metrics(performance: dict) -> str:
    return ", ".join(f"{k} {v:.4g}" for k, v in performance.items() if k != "n")


@baseline.command("list")
@click.option("--model", callback=_model_name, help="Only this model's profiles.")
def baseline_list(model: str | None) -> None:
    """List registered profiles, newest first."""
    from mlmon.baseline.store import list_profiles

    rows = list_profiles(_client(), model=model)
    if not rows:
        console.print("No profiles registered yet (see `mlmon baseline register --help`).")
    for row in rows:
        console.print(f"{row['profile_id']:40} registered {row['registered_at']}")


# --- ingest / tag / join ---------------------------------------------------


@cli.command()
@click.option("--profile", "profile_name", help="Profile name to tag against (default: newest).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def ingest(file: Path, profile_name: str | None) -> None:
    """Validate, tag and index a JSON-lines FILE of events (archives, backfills).

    Each line is one event of schema v1 (see the README). Lines that are not
    valid JSON or not valid events go to the mlmon-deadletter-* index with
    their line number and reason; nothing is dropped silently. Actuals in the
    file are joined to their predictions at the end. Exits 1 if any line
    could not be indexed.
    """
    from mlmon.ingest import ingest_file

    client = _client(install_templates=True)
    with _progress(columns=(DownloadColumn(),)) as progress:
        task = progress.add_task(f"Ingesting {file.name}", total=file.stat().st_size)
        result = ingest_file(
            client, file, progress=lambda n: progress.advance(task, n), profile_name=profile_name
        )
    written = result.written
    console.print(
        f"{result.lines} lines: {written.indexed} indexed ({result.tagged} tagged, "
        f"{result.untagged} untagged), {written.duplicates} duplicates, "
        f"{written.dead_lettered} dead-lettered ({result.invalid} invalid), "
        f"{written.failed} failed; "
        f"actuals joined {result.joined}, pending {result.pending_actuals}."
    )
    for line in written.errors[:5]:
        err_console.print(f"  {line}")
    if written.dead_lettered or written.failed:
        err_console.print("Refused events are in mlmon-deadletter-* with their reasons.")
        sys.exit(1)


@cli.command()
@click.option(
    "--model", callback=_model_name, required=True, help="Model whose untagged predictions to tag."
)
@click.option("--since", help="Only events at or after this time (ISO-8601 or now-7d).")
@click.option("--profile", "profile_name", help="Profile name to tag against (default: newest).")
def tag(model: str, since: str | None, profile_name: str | None) -> None:
    """Tag predictions that arrived untagged (other languages, or before the profile existed).

    Uses bulk partial updates of the quality block, with the same tagging
    function as the SDK and `mlmon ingest`.
    """
    from mlmon.ingest import tag_untagged

    result = tag_untagged(_client(), model=model, since=since, profile_name=profile_name)
    console.print(
        f"{result.seen} untagged predictions: {result.tagged} tagged, "
        f"{result.no_profile} without a profile, {result.failed} failed."
    )
    if result.no_profile:
        err_console.print(f"Register a profile first: mlmon baseline register --model {model} …")
    if result.failed or result.no_profile:
        sys.exit(1)


@cli.command()
@click.option(
    "--model", callback=_model_name, help="Only this model's actuals (default: all models)."
)
def join(model: str | None) -> None:
    """Join pending actuals (ground truth) to their predictions.

    Safe to run any time (cron, after a backfill): actuals whose prediction is
    not indexed yet stay pending and are joined by a later run.
    """
    from mlmon.es.join import join_pending

    result = join_pending(_client(), model=model)
    console.print(
        f"Joined {result.joined} actuals; {result.pending} still wait for their "
        f"prediction; {result.failed} failed."
    )
    for line in result.errors[:5]:
        err_console.print(f"  {line}")
    if result.failed:
        sys.exit(1)


# --- simulate ----------------------------------------------------------------


@cli.command()
@click.option(
    "--scenario",
    required=True,
    type=click.Choice(list(SCENARIOS)),
    help="What to inject into the traffic.",
)
@click.option(
    "--events",
    default=200_000,
    show_default=True,
    type=click.IntRange(100),
    help="Predictions to generate (each gets an actual).",
)
@click.option(
    "--days",
    default=7.0,
    show_default=True,
    type=click.FloatRange(0.01, 365),
    help="Back-dated window the timestamps spread over, ending now.",
)
@click.option("--seed", default=7, show_default=True, help="Same seed, same events.")
@click.option(
    "--via",
    default="elasticsearch",
    show_default=True,
    help="Sink: elasticsearch, stdout, or fluentd://host:port.",
)
@click.option(
    "--model",
    callback=_model_name,
    default="fraud",
    show_default=True,
    help="Model name to log under.",
)
@click.option(
    "--truth",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write what was injected (slices, features, kinds, time spans) as JSON.",
)
@click.option(
    "--training-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("out/fraud-training.parquet"),
    show_default=True,
    help="Where to write the training-period file for `mlmon baseline register`.",
)
@click.option("--end", "end_text", help="End of the window (ISO-8601); default now, to the hour.")
def simulate(
    scenario: str,
    events: int,
    days: float,
    seed: int,
    via: str,
    model: str,
    truth: Path | None,
    training_file: Path,
    end_text: str | None,
) -> None:
    """Generate a fraud model's traffic with an injected incident, through the SDK.

    A gradient-boosting model is trained on a healthy training period; it then
    serves the production window, where the scenario injects its incident, so
    errors come from a real model meeting shifted data. Actuals follow hours
    later (a few arrive before their prediction). Prediction ids are
    deterministic, so re-running is safe: repeats are counted as duplicates.

    \b
    Scenarios:
      fraud-incident  new merchant scammeds.com in CA (~15% of volume, fraud the
                      model misses), account_age_days mostly missing for a while,
                      a slow v2 canary on 20% of traffic
      healthy         nothing injected
      gradual-drift   amount grows steadily over the days
      label-issue     zip 94107's actuals come from a broken labeller
      churn-segment-drift     (churn) bills shift above the training range in
                              one region only; global drift stays under PSI 0.2
      credit-two-incidents    (credit) an unseen employment type on mobile and
                              income missing from the partner channel, at once
      ads-overlapping-slices  (ads) one publisher's clicks double-fire; its
                              traffic overlaps a bin holding 80% of traffic
      churn-hard-slices       (churn) healthy, with slices as hard as in training
    Other domains' training files have their own label column: churned,
    defaulted or clicked (the truth file names it).

    \b
    Then:
      mlmon baseline register --model fraud --version v1 --name training \\
          --label-column is_fraud --prediction-column predicted --score-column score \\
          out/fraud-training.parquet
    """
    import json as json_module

    from mlmon.schema.event import normalize_timestamp
    from mlmon.simulate.run import build_traffic, default_end, emit, write_reference

    end = default_end()
    if end_text:
        end = datetime.fromisoformat(_checked(normalize_timestamp, end_text).replace("Z", "+00:00"))
    if via == "elasticsearch":
        _client(install_templates=True)  # a down cluster fails now, not after training
    traffic = build_traffic(scenario, events=events, days=days, seed=seed, end=end, model=model)
    write_reference(traffic, training_file)
    if truth:
        truth.parent.mkdir(parents=True, exist_ok=True)
        truth.write_text(json_module.dumps(traffic.truth, indent=2) + "\n")
    with _progress() as progress:
        task = progress.add_task(f"Sending {scenario} via {via}", total=events)
        result = emit(traffic, sink=via, model=model, progress=lambda n: progress.advance(task, n))
    sent = sum(s["sent"] for s in result.stats.values())
    dropped = sum(s["dropped_queue_full"] + s["dropped_send_failed"] for s in result.stats.values())
    duplicates = sum(s.get("duplicates", 0) for s in result.stats.values())
    err_console.print(
        f"{scenario}: {result.predictions} predictions and {result.actuals} actuals "
        f"({', '.join(sorted(result.stats))}) over {days:g} days to {traffic.truth['end']}: "
        f"{sent} sent, {duplicates} duplicates, {dropped} dropped. "
        f"Training file: {training_file}" + (f"; truth: {truth}" if truth else "") + "."
    )
    if dropped:
        sys.exit(1)


# --- trace and check ----------------------------------------------------------


@cli.command()
@click.option("--model", callback=_model_name, required=True, help="Model to trace.")
@click.option("--version", "version", help="Only this model version (default: all versions).")
@click.option(
    "--window",
    default="now-7d..now",
    show_default=True,
    help="Time window: START..END (ISO-8601 or now-<n><m|h|d|w>), or a length like 24h.",
)
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
    help="Labelled rows a slice needs.",
)
@click.option(
    "--alpha",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.01,
    show_default=True,
    help="Family-wise error rate (Bonferroni) for slices, drift and quality.",
)
@click.option(
    "--psi",
    "psi_threshold",
    type=click.FloatRange(0, min_open=True),
    default=0.2,
    show_default=True,
    help="PSI a feature needs to be called drifted.",
)
@click.option(
    "--max-depth",
    type=click.IntRange(1, 3),
    default=3,
    show_default=True,
    help="Features per slice (1 = single features only).",
)
@click.option(
    "--top", "top_k", type=click.IntRange(1), default=10, show_default=True, help="Slices shown."
)
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

    from mlmon.analysis.trace import TraceSettings
    from mlmon.report.render import render, render_text
    from mlmon.trace_request import TraceRequest, run

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
            client_factory=_client,
            say=lambda step: status.update(f"tracing: {step}"),
        )
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(render(report, fmt), encoding="utf-8")
        err_console.print(f"{report.headline}\nReport ({fmt}): {output}")
    elif fmt == "text":
        render_text(report, console)
    else:
        click.echo(render(report, fmt), nl=False)


@cli.command()
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
    import json

    from mlmon.monitors import check as check_monitors
    from mlmon.monitors import parse_config
    from mlmon.trace_request import TraceRequest, run

    monitors = parse_config(config.read_text(encoding="utf-8"), source=str(config))
    clients: list = []

    def client_once():
        if not clients:
            clients.append(_client())
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
    click.echo(json.dumps(summary, indent=2))
    for result in summary["monitors"]:
        if result["status"] != "ok":
            detail = "; ".join(result["breaches"]) or result.get("error", "")
            err_console.print(
                f"{result['status'].upper()} {result['name']}: {detail}", markup=False
            )
    if not summary["ok"]:
        sys.exit(1)


# --- demo --------------------------------------------------------------------


@cli.command()
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
    callback=_model_name,
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
    from mlmon.demo import run_demo

    out.mkdir(parents=True, exist_ok=True)
    run_demo(console, events=events, out=out, model=model)


# --- retention --------------------------------------------------------------


@cli.group()
def retention() -> None:
    """Delete old monthly indices (predictions, actuals, dead letters) by age."""


@retention.command("apply")
@click.option(
    "--older-than",
    default="30d",
    show_default=True,
    help="Age past which a period's indices go: 30d, 8w.",
)
@click.option(
    "--model",
    callback=_model_name,
    help="Only this model's indices (dead letters are shared: all models).",
)
@click.option("--dry-run", is_flag=True, help="List what would be deleted; delete nothing.")
def retention_apply(older_than: str, model: str | None, dry_run: bool) -> None:
    """Delete every mlmon index whose whole period is older than --older-than.

    \b
    Works on any 8.x cluster (no ILM needed): indices are per model and
    month (daily ones from mlmon 0.1 too), so their names say their age;
    a month goes once its last day is past the age, so up to a month more
    is kept. Profiles are kept. Run it daily (cron, or the compose
    `retention` service):
      mlmon retention apply --older-than 30d --dry-run
    """
    from mlmon.es.retention import apply, parse_age

    age = parse_age(older_than)
    result = apply(_client(check_features=False), older_than=age, model=model, dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    for name in result.deleted:
        console.print(f"  {verb} {name}")
    console.print(
        f"Retention {older_than} (days before {result.cutoff.isoformat()}): {verb} "
        f"{len(result.deleted)} indices, kept {result.kept}."
    )


# --- kibana -----------------------------------------------------------------

_KIBANA_DIR = click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder with the NDJSON and rules (default: the repository's kibana/).",
)


def _names(values: tuple[str, ...]) -> tuple[str, ...] | None:
    names = tuple(n.strip() for group in values for n in group.split(",") if n.strip())
    return names or None


@cli.group()
def kibana() -> None:
    """Dashboards and alert rules as code: export, validate, import.

    \b
    The source is src/mlmon/kibana/dashboards.py; kibana/ holds what it generates:
      mlmon-saved-objects.ndjson   data view, Lens panels, 4 dashboards
      mlmon-rules.json             Elasticsearch query rules (NA spike, unseen surge)

    \b
      mlmon kibana export                          regenerate kibana/ from the source
      mlmon kibana validate --model fraud-demo     prove every panel on real data
      mlmon kibana import --kibana-url http://127.0.0.1:5601
    """


@kibana.command("export")
@_KIBANA_DIR
@click.option("--categorical", multiple=True, help="Categorical features with share/slice panels.")
@click.option("--numeric", multiple=True, help="Numeric features with quantile panels.")
@click.option("--lookup", multiple=True, help="Feature lookups with latency panels.")
@click.option("--watch-unseen", multiple=True, help="Features whose unseen values are listed.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the folder is out of date.")
def kibana_export(folder, categorical, numeric, lookup, watch_unseen, check) -> None:
    """Generate the saved objects and rules (defaults: the demo model's features).

    \b
    For your model, name its features (repeat or comma-separate):
      mlmon kibana export --dir my-kibana --categorical country,plan --numeric amount
    """
    from dataclasses import replace

    from mlmon.kibana.bundle import default_folder, generate, load
    from mlmon.kibana.dashboards import FeatureChoice

    choice = FeatureChoice()
    for name, values in (
        ("categorical", categorical),
        ("numeric", numeric),
        ("lookups", lookup),
        ("watch_unseen", watch_unseen),
    ):
        if _names(values):
            choice = replace(choice, **{name: _names(values)})
    bundle = generate(choice)
    target = folder or default_folder()
    if check:
        current = load(target)
        if (current.ndjson, current.rules) != (bundle.ndjson, bundle.rules):
            raise MlmonError(f"{target} is out of date: run `mlmon kibana export`")
        console.print(f"{target} matches the dashboards source.")
        return
    for path in bundle.write(target):
        console.print(f"wrote {path}")


@kibana.command("validate")
@_KIBANA_DIR
@click.option(
    "--model",
    callback=_model_name,
    help="Scope every panel to this model, as the Model control would.",
)
@click.option(
    "--allow-empty",
    is_flag=True,
    help="List panels without data but do not fail (healthy traffic has no unseen values).",
)
def kibana_validate(folder, model, allow_empty) -> None:
    """Check structure, fields and every panel's query against Elasticsearch.

    \b
    Fails (exit 1) when a reference does not resolve, a field is not in the
    index template or has the wrong type for its use, or a panel, control or
    rule errors or has no data in the dashboards' time range (last 7 days).
    """
    from mlmon.kibana.bundle import default_folder, load
    from mlmon.kibana.validate import validate

    bundle = load(folder or default_folder())
    result = validate(_client(), bundle.ndjson, bundle.rules, model=model, allow_empty=allow_empty)
    with_data = sum(1 for a in result.answers if a.rows)
    console.print(
        f"{result.objects} saved objects, {len(result.answers)} panels run "
        f"({with_data} with data), {len(result.rule_values)} rules run"
        + (f", scoped to model {model}" if model else "")
    )
    for rule_id, groups in result.rule_values.items():
        shown = ", ".join(f"{k} {v:.3g}" if v is not None else f"{k} -" for k, v in groups.items())
        console.print(f"  rule {rule_id}: {shown or 'no groups'}")
    for finding in result.findings:
        mark = "FAIL" if finding in result.failures else "note"
        console.print(f"  {mark} {finding}", markup=False)
    if not result.ok:
        raise MlmonError(f"{len(result.failures)} problem(s) in the Kibana objects")
    console.print("Kibana objects valid.")


@kibana.command("import")
@_KIBANA_DIR
@click.option("--kibana-url", required=True, help="Kibana's URL, e.g. http://127.0.0.1:5601.")
@click.option("--space", help="Kibana space id (default: the default space).")
@click.option(
    "--wait",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Seconds to wait for Kibana to report itself available first.",
)
def kibana_import(folder, kibana_url, space, wait) -> None:
    """Post the saved objects (overwrite) and the rules to Kibana.

    Re-importing replaces mlmon's objects and updates its rules in place (ids
    are fixed). Credentials: MLMON_KIBANA_API_KEY, else MLMON_ES_USER and
    MLMON_ES_PASSWORD; MLMON_ES_CA_CERTS verifies an https Kibana.
    """
    from mlmon.kibana.api import KibanaTarget, import_bundle, wait_until_ready
    from mlmon.kibana.bundle import default_folder, load

    bundle = load(folder or default_folder())
    target = KibanaTarget.from_env(kibana_url, space)
    if wait:
        wait_until_ready(target, wait)
    result = import_bundle(bundle, target)
    console.print(
        f"Kibana: {result.objects} saved objects imported, rules {result.rules_created} "
        f"created, {result.rules_updated} updated."
    )


def _checked(validate, value):
    try:
        return validate(value)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


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
