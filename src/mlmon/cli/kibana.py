"""``mlmon kibana``: dashboards and alert rules as code — export, validate, import."""

from __future__ import annotations

from pathlib import Path

import click

from mlmon.cli._common import cluster_client, console, model_name, split_names
from mlmon.errors import MlmonError

_KIBANA_DIR = click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder with the NDJSON and rules (default: the repository's kibana/).",
)


@click.group()
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
        if split_names(values):
            choice = replace(choice, **{name: split_names(values)})
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
    callback=model_name,
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
    With --model, a model without events in that range is one line and exit
    code 4, as for `mlmon trace`.
    """
    from mlmon.kibana.bundle import default_folder, load
    from mlmon.kibana.validate import validate

    bundle = load(folder or default_folder())
    result = validate(
        cluster_client(), bundle.ndjson, bundle.rules, model=model, allow_empty=allow_empty
    )
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
