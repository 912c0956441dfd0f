"""Windows and baselines as users write them on the command line (pure; ``now`` is given).

Windows: ``now-7d..now``, ``2026-11-18..2026-11-25``, ``2026-11-20T06:00Z..now-1h``,
or a bare duration ``7d`` (the last seven days). Units: ``m`` minutes, ``h``
hours, ``d`` days, ``w`` weeks.

Baselines: a registered profile's name (``training``, ``validation``, any
name), ``window:<start>..<end>`` (another production window) or
``version:<v>`` (another model version on the same window).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

from mlmon.errors import UsageError
from mlmon.schema.event import format_timestamp, normalize_timestamp

UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
RELATIVE = re.compile(r"^now(?:-(\d+)([mhdw]))?$")
DURATION = re.compile(r"^(\d+)([mhdw])$")


@dataclass(frozen=True)
class Window:
    start: str  # ISO-8601, inclusive
    end: str  # ISO-8601, exclusive

    @property
    def seconds(self) -> float:
        return (_parse_iso(self.end) - _parse_iso(self.start)).total_seconds()

    def to_dict(self) -> dict[str, str]:
        return {"start": self.start, "end": self.end}


@dataclass(frozen=True)
class BaselineSpec:
    kind: Literal["profile", "window", "version"]
    name: str | None = None  # profile name
    window: Window | None = None
    version: str | None = None

    def describe(self) -> str:
        if self.kind == "profile":
            return f"profile {self.name}"
        if self.kind == "window":
            assert self.window
            return f"window {self.window.start}..{self.window.end}"
        return f"version {self.version}"


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def parse_time(text: str, now: datetime) -> datetime:
    text = text.strip()
    relative = RELATIVE.match(text)
    if relative:
        amount, unit = relative.groups()
        return now - timedelta(**{UNITS[unit]: int(amount)}) if amount else now
    try:
        value = normalize_timestamp(text, field="time")
    except ValueError as exc:
        raise UsageError(
            f"cannot read time {text!r}: use ISO-8601 (2026-11-18T00:00Z) "
            f"or now-<n><m|h|d|w> ({exc})"
        ) from None
    return _parse_iso(value)


def parse_window(text: str, now: datetime | None = None) -> Window:
    """``start..end`` or a bare duration; a usage error names what is wrong."""
    now = now or datetime.now(timezone.utc)
    text = text.strip()
    duration = DURATION.match(text)
    if duration:
        amount, unit = duration.groups()
        start_at, end_at = now - timedelta(**{UNITS[unit]: int(amount)}), now
    elif ".." in text:
        start_text, end_text = text.split("..", 1)
        start_at, end_at = parse_time(start_text, now), parse_time(end_text, now)
    else:
        raise UsageError(f"window {text!r}: write <start>..<end> (now-7d..now) or a duration (7d)")
    if end_at <= start_at:
        raise UsageError(f"window {text!r} ends before it starts")
    return Window(format_timestamp(start_at), format_timestamp(end_at))


def parse_baseline(text: str, now: datetime | None = None) -> BaselineSpec:
    text = text.strip()
    if not text:
        raise UsageError("--baseline is empty: give a profile name, window:<a>..<b> or version:<v>")
    if text.startswith("window:"):
        return BaselineSpec("window", window=parse_window(text.removeprefix("window:"), now))
    if text.startswith("version:"):
        version = text.removeprefix("version:").strip()
        if not version:
            raise UsageError("--baseline version: needs a version, e.g. version:v1")
        return BaselineSpec("version", version=version)
    return BaselineSpec("profile", name=text)


def auto_interval(seconds: float, buckets: int = 28) -> str:
    """A round timeline interval giving about ``buckets`` points over the window."""
    for step in (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400):
        if seconds / step <= buckets:
            return f"{step}s"
    return f"{7 * 86400}s"
