"""The index layout on the real node: ten months of a model cost a few shards, not 300."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from mlmon.es.writer import write_events
from mlmon.schema.document import normalize_event


def _events(model: str, start: datetime, days: int, per_day: int, kind: str) -> list[dict]:
    events = []
    for day in range(days):
        for n in range(per_day):
            when = start + timedelta(days=day, hours=n * 24 / per_day)
            event = {
                "@timestamp": when.isoformat(),
                "model": {"name": model, "version": "v1"},
                "prediction_id": f"p-{day}-{n}",
                "features": {"plan": "basic"},
            }
            if kind == "actual":
                event |= {"event": {"kind": "actual"}, "actual": {"label": "churn"}}
            else:
                event |= {"prediction": {"label": "stay"}}
            events.append(normalize_event(event))
    return events


def test_ten_months_of_one_model_make_at_most_a_dozen_indices_per_kind(es, model):
    start = datetime(2026, 1, 15, tzinfo=timezone.utc)  # mid-month: 11 calendar months touched
    days = 304  # ten months, as the car-loan history that made 304 daily indices
    predictions = _events(model, start, days, 2, "prediction")
    actuals = _events(model, start, days, 2, "actual")
    written = write_events(es, predictions + actuals, source="test", refresh=True)
    assert (written.indexed, written.dead_lettered, written.failed) == (4 * days, 0, 0)

    for kind in ("predictions", "actuals"):
        names = sorted(es.indices.get(index=f"mlmon-{kind}-{model}-*"))
        print(kind, len(names), names[0], names[-1])
        assert len(names) <= 12, names
        assert names[0] == f"mlmon-{kind}-{model}-2026.01"
        assert names[-1] == f"mlmon-{kind}-{model}-2026.11"
    total = es.count(index=f"mlmon-predictions-{model}-*")["count"]
    assert total == 2 * days
