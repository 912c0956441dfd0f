"""What traffic is sliced by: features and tags, with the buckets each one has.

A categorical dimension's buckets are its values; a numeric one's are the
baseline-quantile bins (``bin_edges`` of the profile: bin ``i`` is
``[edge[i-1], edge[i])`` with open ends), so a slice like
``amount ∈ [120, 310)`` means the same thing in the baseline and now. Every
dimension also has a ``(missing)`` bucket. Pure values, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Any, Literal

from mlmon.baseline.profile import Profile
from mlmon.schema.event import as_keyword

MISSING = "(missing)"
Kind = Literal["categorical", "numeric"]


@dataclass(frozen=True)
class Dimension:
    """One field traffic can be sliced by."""

    name: str  # as reports show it: "amount", "tags.region"
    field: str  # as documents hold it: "features.amount", "tags.region"
    kind: Kind
    edges: tuple[float, ...] = ()
    max_values: int = 200  # categorical buckets fetched per slice request

    def bin_labels(self) -> list[str]:
        """Readable names of the numeric bins, in order."""
        return list(_bin_labels(self.edges))

    def bin_ranges(self) -> list[tuple[str, float | None, float | None]]:
        """(label, gte, lt) per numeric bin; ``None`` is an open end."""
        bounds: list[float | None] = [None, *self.edges, None]
        return [(label, bounds[i], bounds[i + 1]) for i, label in enumerate(self.bin_labels())]


def bucket_label(key: Any) -> str:
    """A categorical bucket's name, as the profile's vocabulary names it: text as it
    is, a number as its keyword (a double's ``94107.0`` is ``"94107"``)."""
    return key if isinstance(key, str) else as_keyword(key)


def _num(value: float) -> str:
    return f"{value:.4g}"


@lru_cache(maxsize=4096)
def _bin_labels(edges: tuple[float, ...]) -> tuple[str, ...]:
    """Made once per set of edges: a trace asks for them tens of thousands of times."""
    if not edges:
        return ("all",)
    pairs = pairwise(edges)
    return (
        f"< {_num(edges[0])}",
        *(f"[{_num(a)}, {_num(b)})" for a, b in pairs),
        f">= {_num(edges[-1])}",
    )


def from_profile(profile: Profile, *, max_values: int = 200) -> list[Dimension]:
    """The profile's features as dimensions, numeric ones on the profile's bins."""
    out = []
    for name, feature in profile.features.items():
        out.append(
            Dimension(
                name=name,
                field=f"features.{name}",
                kind=feature.kind,
                edges=tuple(feature.bin_edges or ()) if feature.kind == "numeric" else (),
                max_values=max_values,
            )
        )
    return out


def from_fields(
    fields: dict[str, str], quantiles: dict[str, Sequence[float]], *, max_values: int = 200
) -> list[Dimension]:
    """Dimensions from a mapping (field → "keyword"/"double") and baseline quantile edges."""
    out = []
    for field, kind in sorted(fields.items()):
        name = field.removeprefix("features.")
        numeric = kind != "keyword"
        out.append(
            Dimension(
                name=name,
                field=field,
                kind="numeric" if numeric else "categorical",
                edges=tuple(sorted(set(quantiles.get(field, ())))) if numeric else (),
                max_values=max_values,
            )
        )
    return out


SliceKey = tuple[tuple[str, str], ...]  # ((dimension name, bucket), ...), sorted by name


def describe(pairs: Iterable[tuple[str, str]]) -> str:
    """``a=x, b=y``: how reports and evidence name a slice."""
    return ", ".join(f"{name}={bucket}" for name, bucket in pairs)
