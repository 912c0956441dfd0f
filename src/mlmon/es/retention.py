"""Retention: delete whole time-based indices older than an age, by their exact names.

mlmon writes one index per model, kind and month (``mlmon-<kind>-<model>-YYYY.MM``;
mlmon 0.1 wrote one per day, ``…-YYYY.MM.DD``, and those are still
read and expired), so an index's period is in its name and retention is a
delete of the names whose whole period lies before the cutoff: no ILM,
rollover or delete-by-query, which the local test distribution lacks, and the
same on every cluster. A monthly index goes when its last day is past the
cutoff, so up to one month more than the age asked for is kept. Wildcard
deletes are refused by default in 8.x, so names are listed and deleted
explicitly. Profiles (``mlmon-profiles``) are never touched.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from mlmon.errors import UsageError

_TIME_BASED = re.compile(
    r"^mlmon-(?:(?P<kind>predictions|actuals)-(?P<model>.+)|deadletter)-"
    r"(?P<year>\d{4})\.(?P<month>\d{2})(?:\.(?P<day>\d{2}))?$"
)
_AGE = re.compile(r"^(?P<n>\d+)(?P<unit>[dw])$")


def parse_age(text: str) -> timedelta:
    """``30d`` or ``8w`` (whole days)."""
    match = _AGE.match(text.strip())
    if not match or int(match["n"]) < 1:
        raise UsageError(f"--older-than {text!r} is not an age like 30d or 8w")
    days = int(match["n"]) * (7 if match["unit"] == "w" else 1)
    return timedelta(days=days)


def index_period(name: str) -> tuple[str | None, date] | None:
    """(model or None for dead letters, last day it covers) of an mlmon time-based index.

    Monthly names cover their whole month, daily (mlmon 0.1) names their day;
    anything else, or a date that does not exist, is None.
    """
    match = _TIME_BASED.match(name)
    if not match:
        return None
    year, month = int(match["year"]), int(match["month"])
    try:
        if match["day"] is not None:
            last = date(year, month, int(match["day"]))
        else:
            last = date(year, month, calendar.monthrange(year, month)[1])
    except (ValueError, calendar.IllegalMonthError):
        return None
    return match["model"], last


def is_daily(name: str) -> bool:
    """An mlmon 0.1 daily index (``…-YYYY.MM.DD``) rather than a monthly one."""
    match = _TIME_BASED.match(name)
    return bool(match and match["day"] is not None)


def expired(names: list[str], *, before: date, model: str | None = None) -> list[str]:
    """Names whose whole period lies before ``before`` (pure)."""
    out = []
    for name in names:
        parsed = index_period(name)
        if parsed is None:
            continue
        owner, last = parsed
        if model is not None and owner != model:
            continue
        if last < before:
            out.append(name)
    return sorted(out)


@dataclass
class RetentionResult:
    cutoff: date
    deleted: list[str] = field(default_factory=list)
    kept: int = 0


def apply(
    client,
    *,
    older_than: timedelta,
    model: str | None = None,
    dry_run: bool = False,
    today: date | None = None,
    batch: int = 50,
) -> RetentionResult:
    """Delete (or with ``dry_run`` list) the indices whose period ended ``older_than`` ago."""
    cutoff = (today or datetime.now(timezone.utc).date()) - older_than
    names = list(
        client.indices.get(
            index="mlmon-predictions-*,mlmon-actuals-*,mlmon-deadletter-*",
            allow_no_indices=True,
            expand_wildcards="open,closed",
        )
    )
    doomed = expired(names, before=cutoff, model=model)
    if not dry_run:
        for start in range(0, len(doomed), batch):
            client.indices.delete(index=",".join(doomed[start : start + batch]))
    managed = [n for n in names if index_period(n) is not None]
    return RetentionResult(cutoff=cutoff, deleted=doomed, kept=len(managed) - len(doomed))
