"""Retention picks indices by the day in their name (pure part)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from mlmon.errors import UsageError
from mlmon.es.retention import expired, index_day, parse_age

NAMES = [
    "mlmon-predictions-fraud-2026.10.01",
    "mlmon-predictions-fraud-2026.10.31",
    "mlmon-actuals-fraud-2026.10.01",
    "mlmon-predictions-fraud-v2-2026.09.01",
    "mlmon-deadletter-2026.09.30",
    "mlmon-profiles",
    "mlmon-predictions-fraud-2026.13.45",  # not a day: left alone
    "other-2020.01.01",
]


def test_index_day_reads_model_and_day():
    assert index_day("mlmon-predictions-fraud-v2-2026.09.01") == ("fraud-v2", date(2026, 9, 1))
    assert index_day("mlmon-deadletter-2026.09.30") == (None, date(2026, 9, 30))
    assert index_day("mlmon-profiles") is None
    assert index_day("mlmon-predictions-fraud-2026.13.45") is None


def test_expired_is_strictly_before_the_cutoff_and_scoped_by_model():
    cutoff = date(2026, 10, 1)
    assert expired(NAMES, before=cutoff) == [
        "mlmon-deadletter-2026.09.30",
        "mlmon-predictions-fraud-v2-2026.09.01",
    ]
    assert expired(NAMES, before=date(2026, 10, 2), model="fraud") == [
        "mlmon-actuals-fraud-2026.10.01",
        "mlmon-predictions-fraud-2026.10.01",
    ]


@pytest.mark.parametrize(("text", "days"), [("30d", 30), ("8w", 56), (" 1d ", 1)])
def test_parse_age(text, days):
    assert parse_age(text) == timedelta(days=days)


@pytest.mark.parametrize("text", ["0d", "30", "1y", "-3d", "d", "30h"])
def test_bad_ages_are_usage_errors(text):
    with pytest.raises(UsageError, match="is not an age like 30d"):
        parse_age(text)
