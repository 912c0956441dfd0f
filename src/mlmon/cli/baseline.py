"""``mlmon baseline``: register a reference profile from a file, list the stored ones."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import click
from rich.progress import DownloadColumn

from mlmon.cli._common import cluster_client, console, model_name, progress_bar, split_names


@click.group()
def baseline() -> None:
    """Reference profiles (training, validation, …) that events are tagged and compared against."""


@baseline.command("register")
@click.option(
    "--model",
    callback=model_name,
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
    "--task",
    type=click.Choice(["classification", "regression"]),
    help="The model's task (default: regression when the label column holds numbers that "
    "are not a few classes).",
)
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
@click.option(
    "--attribution-prefix",
    metavar="PREFIX",
    help="Columns PREFIX<feature> hold each row's attribution of that feature (SHAP values, "
    "a tree's contributions): the profile keeps the features' mean |attribution|.",
)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def baseline_register(
    model: str,
    version: str,
    name: str,
    label_column: str | None,
    prediction_column: str | None,
    score_column: str | None,
    task: str | None,
    bins: int,
    categorical: tuple[str, ...],
    attribution_prefix: str | None,
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

    with progress_bar(columns=(DownloadColumn(),)) as progress:
        reading = progress.add_task(f"Reading {file.name}", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(reading, completed=done, total=total)

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
        categorical=list(split_names(categorical)),
        task=task,  # type: ignore[arg-type]
        attribution_prefix=attribution_prefix,
    )
    client = cluster_client(install_templates=True)  # the file was checked before the cluster
    stored = save_profile(client, profile)
    kinds = [f.kind for f in stored.features.values()]
    console.print(
        f"Registered profile {stored.profile_id}: {stored.rows} rows, "
        f"{kinds.count('numeric')} numeric and {kinds.count('categorical')} categorical features"
        + (f", {stored.task}" if stored.task else "")
        + (f", baseline {_metrics(stored.performance)}" if stored.performance else "")
        + (f", attributions of {len(stored.attributions)} features" if stored.attributions else "")
        + "."
    )
    if stored.calibration:
        from mlmon.analysis.estimation import ScoreCalibration

        console.print(ScoreCalibration.from_dict(stored.calibration).describe().capitalize() + ".")


def _metrics(performance: dict) -> str:
    return ", ".join(f"{k} {v:.4g}" for k, v in performance.items() if k not in ("n", "mape_n"))


@baseline.command("list")
@click.option("--model", callback=model_name, help="Only this model's profiles.")
def baseline_list(model: str | None) -> None:
    """List registered profiles, newest first."""
    from mlmon.baseline.store import list_profiles

    rows = list_profiles(cluster_client(), model=model)
    if not rows:
        console.print("No profiles registered yet (see `mlmon baseline register --help`).")
    for row in rows:
        console.print(f"{row['profile_id']:40} registered {row['registered_at']}")
