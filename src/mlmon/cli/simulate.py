"""``mlmon simulate``: a model's traffic with an injected incident and its truth, via the SDK."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from mlmon.cli._common import checked, cluster_client, err_console, model_name, progress_bar
from mlmon.simulate.scenarios import SCENARIOS


@click.command()
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
    callback=model_name,
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
      shadow          a v2 candidate shadows every v1 request: better on
                      electronics, worse in TX, ~30 ms slower (mlmon compare)
      chain           this model consumes an upstream model's score (up-MODEL,
                      trace.parent_prediction_id); the upstream ships a
                      calibration bug (its training file: TRAINING-upstream)
      attribution-shift  a LightGBM model logs each prediction's contributions
                      (training file: attr_<feature> columns, register with
                      --attribution-prefix attr_); new accounts flood in and
                      account_age_days' importance rises
      gradual-drift   amount grows steadily over the days
      label-issue     zip 94107's actuals come from a broken labeller
      churn-segment-drift     (churn) bills shift above the training range in
                              one region only; global drift stays under PSI 0.2
      credit-two-incidents    (credit) an unseen employment type on mobile and
                              income missing from the partner channel, at once
      ads-overlapping-slices  (ads) one publisher's clicks double-fire; its
                              traffic overlaps a bin holding 80% of traffic
      churn-hard-slices       (churn) healthy, with slices as hard as in training
      delivery-unseen-vehicle (delivery, a regressor of minutes) an unseen
                              vehicle on half of one city's orders
    Other domains' training files have their own label column: churned,
    defaulted, clicked or minutes (the truth file names it).

    \b
    Then:
      mlmon baseline register --model fraud --version v1 --name training \\
          --label-column is_fraud --prediction-column predicted --score-column score \\
          out/fraud-training.parquet
    """
    from mlmon.schema.event import normalize_timestamp
    from mlmon.simulate.emit import emit, write_reference
    from mlmon.simulate.run import build_traffic, default_end

    end = default_end()
    if end_text:
        end = datetime.fromisoformat(checked(normalize_timestamp, end_text).replace("Z", "+00:00"))
    if via == "elasticsearch":
        cluster_client(install_templates=True)  # a down cluster fails now, not after training
    traffic = build_traffic(scenario, events=events, days=days, seed=seed, end=end, model=model)
    write_reference(traffic, training_file)
    if traffic.upstream is not None:  # chain: the upstream model's own training file
        upstream_file = training_file.with_name(
            f"{training_file.stem}-upstream{training_file.suffix}"
        )
        write_reference(traffic.upstream, upstream_file)
        err_console.print(
            f"Upstream model {traffic.upstream.truth['model']}: training file {upstream_file}"
        )
    if truth:
        truth.parent.mkdir(parents=True, exist_ok=True)
        truth.write_text(json.dumps(traffic.truth, indent=2) + "\n")
    with progress_bar() as progress:
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
