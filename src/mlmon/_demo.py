"""``mlmon demo``: the fraud-model incident end to end on a local Elasticsearch.

Stack, templates, a baseline from the training period, ~200,000 predictions
with their late actuals through the SDK, then what Elasticsearch holds,
answered by aggregations only, then ``mlmon trace``'s root-cause report
(text here, HTML in ``out/``). Re-running is safe: the demo model's
own indices are deleted by name first.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from mlmon import stack
from mlmon._trace_request import TraceRequest
from mlmon._trace_request import run as trace_run
from mlmon.baseline import build_profile, read_table
from mlmon.baseline.store import save_profile
from mlmon.es.client import connect
from mlmon.es.join import join_pending
from mlmon.es.settings import ConnectionSettings
from mlmon.es.setup import setup
from mlmon.kibana.bundle import generate as generate_kibana
from mlmon.kibana.validate import validate as validate_kibana
from mlmon.report.render import render, render_text
from mlmon.schema.event import format_timestamp, model_indices
from mlmon.simulate.emit import emit, write_reference
from mlmon.simulate.run import build_traffic, default_end

MODEL = "fraud-demo"


def forget_previous_run(client: Any, model: str) -> None:
    """Delete this demo model's own indices, by name (never a pattern of someone else's)."""
    patterns = f"{model_indices('predictions', model)},{model_indices('actuals', model)}"
    found = client.indices.get(index=patterns, allow_no_indices=True, ignore_unavailable=True)
    names = [name for name in found if f"-{model}-" in name]
    if names:
        client.indices.delete(index=",".join(names))


def run_demo(
    console: Console,
    *,
    events: int = 200_000,
    days: float = 7.0,
    seed: int = 7,
    out: Path = Path("out"),
    model: str = MODEL,
) -> dict[str, Any]:
    started = time.monotonic()
    settings = ConnectionSettings.from_env()
    node = stack.up(settings.url, say=lambda text: console.print(f"  {text}"))
    console.print(f"1. Elasticsearch {node.version or ''} at {node.url} ({node.health}).")
    client = connect(settings)
    setup(client)
    forget_previous_run(client, model)
    console.print("2. Index templates installed; previous demo data removed.")

    traffic = build_traffic(
        "fraud-incident", events=events, days=days, seed=seed, end=default_end(), model=model
    )
    training = write_reference(traffic, out / f"{model}-training.parquet")
    truth_path = out / f"{model}-truth.json"
    truth_path.write_text(json.dumps(traffic.truth, indent=2) + "\n")
    profile = save_profile(
        client,
        build_profile(
            read_table(training),
            model=model,
            version="v1",
            name="training",
            created_at=format_timestamp(datetime.now(timezone.utc)),
            label_column="is_fraud",
            prediction_column="predicted",
            score_column="score",
        ),
    )
    accuracy = profile.performance["accuracy"] if profile.performance else float("nan")
    console.print(
        f"3. Trained the fraud model (gradient boosting) on a healthy training period; "
        f"registered baseline {profile.profile_id} ({profile.rows:,} held-out rows, "
        f"accuracy {accuracy:.3f})."
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("   sending predictions and actuals", total=events)
        result = emit(
            traffic, sink="elasticsearch", model=model, progress=lambda n: progress.advance(task, n)
        )
    join_pending(client, model=model)
    sent = sum(s["sent"] for s in result.stats.values())
    dropped = sum(s["dropped_queue_full"] + s["dropped_send_failed"] for s in result.stats.values())
    console.print(
        f"4. Sent {result.predictions:,} predictions and {result.actuals:,} actuals over "
        f"{days:g} days through the SDK: {sent:,} delivered, {dropped} dropped."
    )
    summary = loaded_summary(client, model)
    render_summary(console, summary)

    window = f"{traffic.truth['start']}..{traffic.truth['end']}"
    console.print(
        f"6. The on-call question, answered from aggregations: "
        f"`mlmon trace --model {model} --window {window} --baseline training`\n"
    )
    report = trace_run(
        TraceRequest(model=model, window=window, baseline="training"),
        client_factory=lambda: client,
    )
    render_text(report, console)
    html = out / f"{model}-report.html"
    html.write_text(render(report, "html"), encoding="utf-8")
    summary["trace"] = report

    bundle = generate_kibana()
    kibana = validate_kibana(client, bundle.ndjson, bundle.rules, model=model)
    with_data = sum(1 for answer in kibana.answers if answer.rows)
    console.print(
        f"\n7. Kibana dashboards checked on this data (`mlmon kibana validate --model {model}`): "
        f"{len(kibana.answers)} panels, {with_data} with data, "
        f"{len(kibana.failures)} problems."
    )
    for finding in kibana.failures:
        console.print(f"   {finding}", markup=False)
    summary["kibana"] = kibana
    console.print(
        f"\nDone in {time.monotonic() - started:.0f}s. HTML report: {html}. "
        f"Injected incident: {truth_path}."
    )
    console.print(
        "Next: `mlmon simulate --scenario healthy|gradual-drift|label-issue`, "
        "`mlmon trace --help`, `mlmon check --help`, and the dashboards in Kibana with "
        "`docker compose up -d` (README: Dashboards in Kibana)."
    )
    return summary


def loaded_summary(client: Any, model: str) -> dict[str, Any]:
    """What the demo loaded, answered by one aggregation request."""
    index = model_indices("predictions", model)
    client.indices.refresh(index=index)
    aggs = {
        "versions": {
            "terms": {"field": "model.version"},
            "aggs": {
                "accuracy": {"avg": {"field": "actual.correct"}},
                "latency": {"percentiles": {"field": "latency_ms.total", "percents": [50, 95]}},
            },
        },
        "with_actual": {"filter": {"exists": {"field": "actual.label"}}},
        "tagged": {"filter": {"exists": {"field": "quality.profile"}}},
        "missing": {"terms": {"field": "quality.missing", "size": 5}},
        "unseen": {"terms": {"field": "quality.unseen", "size": 5}},
        "unseen_merchants": {
            "filter": {"term": {"quality.unseen": "merchant_name"}},
            "aggs": {"top": {"terms": {"field": "features.merchant_name", "size": 3}}},
        },
        "by_day": {
            "date_histogram": {"field": "@timestamp", "calendar_interval": "day"},
            "aggs": {
                "accuracy": {"avg": {"field": "actual.correct"}},
                "missing_age": {"filter": {"term": {"quality.missing": "account_age_days"}}},
            },
        },
    }
    found = client.search(
        index=index, size=0, track_total_hits=True, aggs=aggs, query={"term": {"model.name": model}}
    )
    agg = found["aggregations"]
    total = found["hits"]["total"]["value"]
    return {
        "predictions": total,
        "with_actual": agg["with_actual"]["doc_count"],
        "tagged": agg["tagged"]["doc_count"],
        "versions": {
            b["key"]: {
                "count": b["doc_count"],
                "accuracy": b["accuracy"]["value"],
                "p50_ms": b["latency"]["values"]["50.0"],
                "p95_ms": b["latency"]["values"]["95.0"],
            }
            for b in agg["versions"]["buckets"]
        },
        "missing": {b["key"]: b["doc_count"] for b in agg["missing"]["buckets"]},
        "unseen": {b["key"]: b["doc_count"] for b in agg["unseen"]["buckets"]},
        "unseen_merchants": {
            b["key"]: b["doc_count"] for b in agg["unseen_merchants"]["top"]["buckets"]
        },
        "by_day": [
            {
                "day": b["key_as_string"][:10],
                "count": b["doc_count"],
                "accuracy": b["accuracy"]["value"],
                "missing_age": b["missing_age"]["doc_count"],
            }
            for b in agg["by_day"]["buckets"]
        ],
    }


def render_summary(console: Console, summary: dict[str, Any]) -> None:
    total = summary["predictions"] or 1
    console.print(
        f"5. Elasticsearch holds {summary['predictions']:,} predictions, "
        f"{summary['tagged']:,} tagged against the baseline, "
        f"{summary['with_actual']:,} with their actual joined."
    )
    versions = Table(title="By model version", title_justify="left")
    for column in ("version", "predictions", "accuracy", "latency p50", "latency p95"):
        versions.add_column(column, justify="right")
    for name, row in sorted(summary["versions"].items()):
        versions.add_row(
            name,
            f"{row['count']:,}",
            _pct(row["accuracy"]),
            f"{row['p50_ms']:.0f} ms",
            f"{row['p95_ms']:.0f} ms",
        )
    console.print(versions)
    days = Table(title="By day: where it went wrong", title_justify="left")
    for column in ("day", "predictions", "accuracy", "account_age_days missing"):
        days.add_column(column, justify="right")
    for row in summary["by_day"]:
        days.add_row(
            row["day"],
            f"{row['count']:,}",
            _pct(row["accuracy"]),
            _pct(row["missing_age"] / row["count"] if row["count"] else None),
        )
    console.print(days)
    quality = Table(title="Data-quality tags (share of all predictions)", title_justify="left")
    quality.add_column("tag")
    quality.add_column("share", justify="right")
    for kind in ("missing", "unseen"):
        for feature, count in summary[kind].items():
            quality.add_row(f"{kind}: {feature}", _pct(count / total))
    for merchant, count in summary["unseen_merchants"].items():
        quality.add_row(f"unseen merchant_name = {merchant}", _pct(count / total))
    console.print(quality)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"
