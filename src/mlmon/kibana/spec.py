"""A small vocabulary for dashboards: what a panel shows, not how Kibana stores it.

``dashboards.py`` describes mlmon's dashboards with these classes and
``lens.py`` turns them into Kibana 8.x saved objects. Queries are Lucene
syntax, which Kibana sends to Elasticsearch as a ``query_string`` query, so
``mlmon kibana validate`` can run exactly what a panel asks for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# --- columns -----------------------------------------------------------------


@dataclass(frozen=True)
class DateHistogram:
    """Time on the x axis; ``interval`` as Kibana writes it (``1h``, ``1d``)."""

    field: str = "@timestamp"
    interval: str = "1h"


@dataclass(frozen=True)
class Terms:
    """Top values of a field, ordered by the panel's first metric or alphabetically."""

    field: str
    size: int = 10
    alphabetical: bool = False
    other_bucket: bool = False


@dataclass(frozen=True)
class Ranges:
    """Explicit numeric ranges, ``[(from, to), ...]`` with ``None`` for an open end."""

    field: str
    edges: tuple[tuple[float | None, float | None], ...]


Bucket = DateHistogram | Terms | Ranges


@dataclass(frozen=True)
class Count:
    """Events, optionally only those matching a Lucene filter."""

    label: str = "Events"
    filter: str | None = None


@dataclass(frozen=True)
class Metric:
    """A single-value aggregation of a numeric field (``percentile`` needs ``percent``)."""

    operation: Literal["average", "sum", "min", "max", "median", "percentile", "unique_count"]
    field: str
    label: str
    percent: float | None = None


@dataclass(frozen=True)
class Ratio:
    """``count(numerator) / count(denominator)``: a rate, as a Lens formula."""

    label: str
    numerator: str
    denominator: str | None = None
    percent: bool = True


Value = Count | Metric | Ratio

# --- panels and dashboards ---------------------------------------------------

Chart = Literal["line", "area", "bar_stacked", "bar_percentage_stacked", "metric", "table"]


@dataclass(frozen=True)
class Panel:
    """One Lens visualization: buckets (x first, then a split) and the values shown."""

    title: str
    chart: Chart
    values: tuple[Value, ...]
    buckets: tuple[Bucket, ...] = ()
    query: str = ""
    description: str = ""
    width: int = 24
    height: int = 12


@dataclass(frozen=True)
class Dashboard:
    """A dashboard with model and version controls, opening on ``time_from``..``now``."""

    slug: str
    title: str
    description: str
    panels: tuple[Panel, ...]
    controls: tuple[str, ...] = ("model.name", "model.version", "model.deployment")
    time_from: str = "now-7d"
    time_to: str = "now"


@dataclass(frozen=True)
class Rule:
    """A Kibana *Elasticsearch query* rule: alert when ``aggregation`` of the matching
    events over the last ``window`` passes ``threshold``, per value of ``group_by``."""

    slug: str
    name: str
    description: str
    query: dict
    threshold: float
    aggregation: Literal["count", "avg", "sum", "max"] = "count"
    agg_field: str | None = None
    group_by: str | None = "model.name"
    window: tuple[int, Literal["m", "h", "d"]] = (1, "h")
    interval: str = "5m"
    tags: tuple[str, ...] = ("mlmon",)
