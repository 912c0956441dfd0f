"""Retention: delete whole daily indices older than an age, by their exact names.

mlmon writes one index per model and day (``mlmon-<kind>-<model>-YYYY.MM.DD``),
so an index's day is in its name and retention is a delete of the names
past the cutoff: no ILM, rollover or delete-by-query, which the local test
distribution lacks, and the same on every cluster. Wildcard deletes are
refused by default in 8.x, so names are listed and deleted explicitly.
Profiles (``mlmon-profiles``) are never touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from mlmon.errors import UsageError
from mlmon.es.client import translate_errors

_DAILY = re.compile(
    r"^mlmon-(?:(?P<kind>predictions|actuals)-(?P<model>.+)|deadletter)-"
    r"(?P<day>\d{4}\.\d{2}\.\d{2})$"
)
_AGE = re.compile(r"^(?P<n>\d+)(?P<unit>[dw])$")


def parse_age(text: str) -> timedelta:
    """``30d`` or ``8w`` (whole days: indices are daily)."""
    match = _AGE.match(text.strip())
    if not match or int(match["n"]) < 1:
        raise UsageError(f"--older-than {text!r} is not an age like 30d or 8w")
    days = int(match["n"]) * (7 if match["unit"] == "w" else 1)
    return timedelta(days=days)


def index_day(name: str) -> tuple[str | None, date] | None:
    """(model or None for dead letters, day) of an mlmon daily index; None for others."""
    match = _DAILY.match(name)
    if not match:
        return None
    try:
        day = datetime.strptime(match["day"], "%Y.%m.%d").date()
    except ValueError:
        return None
    return match["model"], day


def expired(names: list[str], *, before: date, model: str | None = None) -> list[str]:
    """Names whose whole day lies before ``before`` (pure)."""
    out = []
    for name in names:
        parsed = index_day(name)
        if parsed is None:
            continue
        owner, day = parsed
        if model is not None and owner != model:
            continue
        if day < before:
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
    """Delete (or with ``dry_run`` list) the daily indices older than ``older_than``."""
    cutoff = (today or datetime.now(timezone.utc).date()) - older_than
    with translate_errors():
        names = list(
            client.indices.get(
                index="mlmon-predictions-*,mlmon-actuals-*,mlmon-deadletter-*",
                allow_no_indices=True,
                expand_wildcards="open,closed",
            )
        )
    doomed = expired(names, before=cutoff, model=model)
    if not dry_run:
        with translate_errors():
            for start in range(0, len(doomed), batch):
                client.indices.delete(index=",".join(doomed[start : start + batch]))
    daily = [n for n in names if index_day(n) is not None]
    return RetentionResult(cutoff=cutoff, deleted=doomed, kept=len(daily) - len(doomed))
