"""Retention picks indices by the period in their name (pure part)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from mlmon.errors import UsageError
from mlmon.es.retention import expired, index_period, parse_age

NAMES = [
    "mlmon-predictions-fraud-2026.09",
    "mlmon-predictions-fraud-2026.10",
    "mlmon-actuals-fraud-2026.10",
    "mlmon-predictions-fraud-v2-2026.08",
    "mlmon-deadletter-2026.09",
    # daily names written before the monthly layout are still expired by their day
    "mlmon-predictions-fraud-2026.08.31",
    "mlmon-predictions-fraud-2026.10.01",
    "mlmon-profiles",
    "mlmon-predictions-fraud-2026.13",  # not a month: left alone
    "mlmon-predictions-fraud-2026.02.30",  # not a day: left alone
    "other-2020.01",
]


def test_index_period_reads_model_and_last_day_covered():
    assert index_period("mlmon-predictions-fraud-v2-2026.09") == ("fraud-v2", date(2026, 9, 30))
    assert index_period("mlmon-actuals-m-2028.02") == ("m", date(2028, 2, 29))  # leap year
    assert index_period("mlmon-deadletter-2026.12") == (None, date(2026, 12, 31))
    assert index_period("mlmon-predictions-fraud-2026.09.01") == ("fraud", date(2026, 9, 1))
    assert index_period("mlmon-profiles") is None
    assert index_period("mlmon-predictions-fraud-2026.13") is None
    assert index_period("mlmon-predictions-fraud-2026.02.30") is None


def test_a_month_expires_only_when_all_of_it_is_before_the_cutoff():
    assert expired(NAMES, before=date(2026, 9, 30)) == [
        "mlmon-predictions-fraud-2026.08.31",
        "mlmon-predictions-fraud-v2-2026.08",
    ]
    assert expired(NAMES, before=date(2026, 10, 1)) == [
        "mlmon-deadletter-2026.09",
        "mlmon-predictions-fraud-2026.08.31",
        "mlmon-predictions-fraud-2026.09",
        "mlmon-predictions-fraud-v2-2026.08",
    ]


def test_expired_is_scoped_by_model():
    assert expired(NAMES, before=date(2026, 11, 1), model="fraud") == [
        "mlmon-actuals-fraud-2026.10",
        "mlmon-predictions-fraud-2026.08.31",
        "mlmon-predictions-fraud-2026.09",
        "mlmon-predictions-fraud-2026.10",
        "mlmon-predictions-fraud-2026.10.01",
    ]


@pytest.mark.parametrize(("text", "days"), [("30d", 30), ("8w", 56), (" 1d ", 1)])
def test_parse_age(text, days):
    assert parse_age(text) == timedelta(days=days)


@pytest.mark.parametrize("text", ["0d", "30", "1y", "-3d", "d", "30h"])
def test_bad_ages_are_usage_errors(text):
    with pytest.raises(UsageError, match="is not an age like 30d"):
        parse_age(text)
