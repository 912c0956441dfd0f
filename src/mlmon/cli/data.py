"""Commands that put events in and keep indices in shape: setup, ingest, tag, join, retention."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.progress import DownloadColumn

from mlmon.cli._common import cluster_client, console, err_console, model_name, progress_bar


@click.command()
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

    client = cluster_client(check_features=False)  # setup checks the node itself
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


@click.command()
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
    from mlmon._ingest import ingest_file

    client = cluster_client(install_templates=True)
    with progress_bar(columns=(DownloadColumn(),)) as progress:
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


@click.command()
@click.option(
    "--model", callback=model_name, required=True, help="Model whose untagged predictions to tag."
)
@click.option("--since", help="Only events at or after this time (ISO-8601 or now-7d).")
@click.option("--profile", "profile_name", help="Profile name to tag against (default: newest).")
def tag(model: str, since: str | None, profile_name: str | None) -> None:
    """Tag predictions that arrived untagged (other languages, or before the profile existed).

    Uses bulk partial updates of the quality block, with the same tagging
    function as the SDK and `mlmon ingest`.
    """
    from mlmon._ingest import tag_untagged

    result = tag_untagged(cluster_client(), model=model, since=since, profile_name=profile_name)
    console.print(
        f"{result.seen} untagged predictions: {result.tagged} tagged, "
        f"{result.no_profile} without a profile, {result.failed} failed."
    )
    if result.no_profile:
        err_console.print(f"Register a profile first: mlmon baseline register --model {model} …")
    if result.failed or result.no_profile:
        sys.exit(1)


@click.command()
@click.option(
    "--model", callback=model_name, help="Only this model's actuals (default: all models)."
)
def join(model: str | None) -> None:
    """Join pending actuals (ground truth) to their predictions.

    Safe to run any time (cron, after a backfill): actuals whose prediction is
    not indexed yet stay pending and are joined by a later run.
    """
    from mlmon.es.join import join_pending

    result = join_pending(cluster_client(), model=model)
    console.print(
        f"Joined {result.joined} actuals; {result.pending} still wait for their "
        f"prediction; {result.failed} failed."
    )
    for line in result.errors[:5]:
        err_console.print(f"  {line}")
    if result.failed:
        sys.exit(1)


@click.group()
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
    callback=model_name,
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
    result = apply(
        cluster_client(check_features=False), older_than=age, model=model, dry_run=dry_run
    )
    verb = "would delete" if dry_run else "deleted"
    for name in result.deleted:
        console.print(f"  {verb} {name}")
    console.print(
        f"Retention {older_than} (days before {result.cutoff.isoformat()}): {verb} "
        f"{len(result.deleted)} indices, kept {result.kept}."
    )
