"""`mlmon retention apply` on the real Elasticsearch: old months (and 0.1's old days) go,
recent ones and profiles stay."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from conftest import run_mlmon
from mlmon.es.writer import write_events
from mlmon.schema.document import normalize_event
from mlmon.schema.event import format_timestamp, predictions_index


def _event(model: str, when: datetime, pid: str) -> dict:
    return normalize_event(
        {
            "@timestamp": when.isoformat(),
            "model": {"name": model, "version": "v1"},
            "prediction_id": pid,
            "features": {"merchant": "a"},
            "prediction": {"label": "legit"},
        }
    )


def test_retention_deletes_only_periods_past_the_cutoff(es, model):
    now = datetime.now(timezone.utc)
    # 70 days back, the whole month lies before the 30-day cutoff whatever today is.
    old, recent = now - timedelta(days=70), now - timedelta(days=2)
    written = write_events(
        es, [_event(model, old, "p-old"), _event(model, recent, "p-new")], source="test"
    )
    assert written.indexed == 2
    old_index = predictions_index(model, format_timestamp(old))
    legacy_daily = f"mlmon-predictions-{model}-{now - timedelta(days=40):%Y.%m.%d}"
    es.indices.create(index=legacy_daily)  # as mlmon 0.1 wrote them
    names = set(es.indices.get(index=f"mlmon-predictions-{model}-*"))
    assert {old_index, legacy_daily} <= names
    told = run_mlmon("setup")  # an administrator hears of the daily indices left to migrate
    assert told.returncode == 0, told.stderr
    assert "daily indices from mlmon 0.1" in told.stdout and "Migrating" in told.stdout

    dry = run_mlmon("retention", "apply", "--older-than", "30d", "--model", model, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"would delete {old_index}" in dry.stdout
    assert f"would delete {legacy_daily}" in dry.stdout
    assert es.indices.exists(index=old_index)

    done = run_mlmon("retention", "apply", "--older-than", "30d", "--model", model)
    assert done.returncode == 0, done.stderr
    assert "deleted 2 indices" in done.stdout
    assert not es.indices.exists(index=old_index)
    assert set(es.indices.get(index=f"mlmon-predictions-{model}-*")) == names - {
        old_index,
        legacy_daily,
    }

    bad = run_mlmon("retention", "apply", "--older-than", "30 days")
    assert bad.returncode == 2 and "is not an age like 30d" in bad.stderr
