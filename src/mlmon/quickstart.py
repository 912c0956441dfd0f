"""The interim ``make demo``: the ingest foundation end to end on the local Elasticsearch.

Registers a baseline from a small generated training table, logs predictions
through the SDK (some with an unseen merchant, a missing value or an
out-of-range amount), sends late actuals, and shows the tagged documents
counted by Elasticsearch aggregations. The fraud-incident demo with
``mlmon trace`` replaces this once the simulator and analyzer land.

Run: ``python -m mlmon.quickstart`` (``make demo`` does, after ``mlmon stack up``).
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from mlmon import PredictionLogger
from mlmon.baseline import build_profile, read_table
from mlmon.baseline.store import save_profile
from mlmon.es.client import connect
from mlmon.es.setup import setup
from mlmon.schema.event import format_timestamp, model_indices

MODEL, VERSION = "quickstart-fraud", "v1"
MERCHANTS = [f"merchant-{i:03d}" for i in range(200)]
STATES = ["CA", "NY", "TX", "WA", "FL", "IL"]
DEVICES = ["ios", "android", "web"]


def training_table(rows: int, rng: random.Random) -> pd.DataFrame:
    records = []
    for _ in range(rows):
        amount = round(rng.lognormvariate(3.5, 0.8), 2)
        is_fraud = int(amount > 150 and rng.random() < 0.5)
        records.append(
            {
                "merchant_name": rng.choice(MERCHANTS),
                "state": rng.choice(STATES),
                "device_type": rng.choice(DEVICES),
                "amount": min(amount, 900.0),
                "account_age_days": rng.randint(0, 3650),
                "is_fraud": is_fraud,
                "predicted": int(amount > 150),
            }
        )
    return pd.DataFrame.from_records(records)


def traffic(count: int, rng: random.Random):
    """Mostly healthy events; 5% unseen merchant, 5% missing age, 2% out-of-range amount."""
    for i in range(count):
        features = {
            "merchant_name": rng.choice(MERCHANTS),
            "state": rng.choice(STATES),
            "device_type": rng.choice(DEVICES),
            "amount": round(rng.lognormvariate(3.5, 0.8), 2),
            "account_age_days": rng.randint(0, 3650),
        }
        features["amount"] = min(features["amount"], 900.0)
        roll = rng.random()
        if roll < 0.05:
            features["merchant_name"] = "scammeds.com"
        elif roll < 0.10:
            features["account_age_days"] = None
        elif roll < 0.12:
            features["amount"] = 25_000.0
        yield i, features


def _forget_previous_run(client) -> None:
    """Re-running gives the same answer: delete this demo model's own indices, by name."""
    found = client.indices.get(
        index=model_indices("predictions", MODEL) + "," + model_indices("actuals", MODEL),
        allow_no_indices=True,
        ignore_unavailable=True,
    )
    names = [name for name in found if f"-{MODEL}-" in name]
    if names:
        client.indices.delete(index=",".join(names))


def main() -> int:
    console = Console(highlight=False)
    rng = random.Random(7)
    started = time.monotonic()
    client = connect()
    setup(client)
    _forget_previous_run(client)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "train.csv"
        training_table(20_000, rng).to_csv(path, index=False)
        profile = build_profile(
            read_table(path),
            model=MODEL,
            version=VERSION,
            name="training",
            created_at=format_timestamp(datetime.now(timezone.utc)),
            label_column="is_fraud",
            prediction_column="predicted",
        )
    stored = save_profile(client, profile)
    console.print(f"1. Registered baseline [bold]{stored.profile_id}[/] from 20,000 training rows.")

    log = PredictionLogger(model=MODEL, version=VERSION, sink="elasticsearch")
    ids = []
    for _, features in traffic(5_000, rng):
        score = min(1.0, features["amount"] / 300) if features["amount"] else 0.1
        ids.append(
            log.prediction(
                features=features,
                prediction=int(score > 0.5),
                score=score,
                latency_ms={"total": rng.uniform(5, 20)},
            )
        )
    for pid in ids[::3]:
        log.actual(pid, label=rng.choice([0, 1]))
    log.flush()
    stats = log.stats()
    log.close()
    console.print(
        f"2. Logged {stats['emitted']} events through the SDK (predictions and late actuals): "
        f"{stats['sent']} sent, {stats['tagged']} predictions tagged, {stats['joined']} actuals "
        f"joined, {stats['dropped_queue_full'] + stats['dropped_send_failed']} dropped."
    )

    index = model_indices("predictions", MODEL)
    client.indices.refresh(index=index)
    filters = {"term": {"model.name": MODEL}}
    aggs = {
        "tagged": {"filter": {"exists": {"field": "quality.profile"}}},
        "missing": {"terms": {"field": "quality.missing"}},
        "unseen": {"terms": {"field": "quality.unseen"}},
        "out_of_range": {"terms": {"field": "quality.out_of_range"}},
        "unseen_values": {
            "filter": {"exists": {"field": "quality.unseen"}},
            "aggs": {"top": {"terms": {"field": "features.merchant_name", "size": 3}}},
        },
        "with_actual": {"filter": {"exists": {"field": "actual.label"}}},
    }
    result = client.search(
        index=index, query={"bool": {"filter": [filters]}}, size=0, aggs=aggs, track_total_hits=True
    )
    agg = result["aggregations"]
    table = Table(title=f"3. What Elasticsearch holds for {MODEL} (aggregations only)")
    table.add_column("question")
    table.add_column("answer", justify="right")
    table.add_row("predictions indexed", str(result["hits"]["total"]["value"]))
    table.add_row("tagged against the baseline", str(agg["tagged"]["doc_count"]))
    for kind in ("missing", "unseen", "out_of_range"):
        for bucket in agg[kind]["buckets"]:
            table.add_row(f"{kind}: {bucket['key']}", str(bucket["doc_count"]))
    for bucket in agg["unseen_values"]["top"]["buckets"]:
        table.add_row(f"top unseen merchant: {bucket['key']}", str(bucket["doc_count"]))
    table.add_row("predictions with a joined actual", str(agg["with_actual"]["doc_count"]))
    console.print(table)
    console.print(
        f"Done in {time.monotonic() - started:.1f}s. Next: `mlmon --help`, the README's "
        "SDK section, and `mlmon ingest` for JSON-lines archives."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
