"""What ``mlmon compare`` finds, as frozen values; field names are the JSON keys.

``mlmon compare --format json`` writes :func:`to_json` of a
:class:`CompareReport`. Its keys (documented in the README's "Comparing two
versions" section, stable from this release, more may be added):

- ``model``, ``candidate``, ``against``, ``window`` {``start``, ``end``},
  ``backend`` ("elasticsearch" | "pandas"), ``mode`` ("paired" | "population"),
  ``metric`` ("accuracy" | "mae"), ``requests``;
- ``agreement`` {``rate``, ``agree``, ``compared``}: paired classification only;
- ``overall`` {``metric``, ``candidate``, ``against``, ``difference``, ``count``,
  ``test`` {``name``, ``statistic``, ``p_value``, ``candidate_only``, ``against_only``,
  ``mean_difference``}, ``significant``};
- ``slices[]``: single-feature slices ranked by disagreement (paired) or by the
  size of the difference (population), each {``filters``, ``count``,
  ``volume_share``, ``disagreement_rate``, ``candidate``, ``against``,
  ``difference``, ``p_value``, ``significant``, ``direction``};
- ``worse[]`` / ``better[]``: the significant slices where the candidate is worse /
  better, ranked by what they cost / gain overall (``impact``), same keys plus ``impact``;
- ``latency`` {``measure``, ``candidate``, ``against`` (``p50``/``p95``/``p99`` ms),
  ``p95_difference_ms``};
- ``verdict``: the one-line answer; ``notes[]`` when something needs saying.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlmon.analysis.jsonkeys import OMIT_EMPTY, OMIT_NONE
from mlmon.analysis.result import _plain
from mlmon.analysis.window import Window


@dataclass(frozen=True)
class PairCounts:
    """Additive counts over paired requests (a shadow and its live prediction).

    ``compared``: pairs where both gave a label; ``agree``: the same label.
    ``both`` / ``candidate_only`` / ``against_only`` / ``neither``: who was right on a
    labelled pair (McNemar's cells). ``scored``, ``sum_diff``, ``sum_diff_squared``:
    the per-request differences of absolute error, candidate − against (regression);
    ``sum_abs_candidate`` / ``sum_abs_against``: each side's summed absolute error there.
    """

    requests: int = 0
    compared: int = 0
    agree: int = 0
    both: int = 0
    candidate_only: int = 0
    against_only: int = 0
    neither: int = 0
    scored: int = 0
    sum_diff: float = 0.0
    sum_diff_squared: float = 0.0
    sum_abs_candidate: float = 0.0
    sum_abs_against: float = 0.0

    @property
    def labelled(self) -> int:
        return self.both + self.candidate_only + self.against_only + self.neither


@dataclass(frozen=True)
class PairedTest:
    name: str  # "mcnemar_exact", "paired_t" (paired) or "two_proportion_z", "mae_z"
    statistic: float | None
    p_value: float
    candidate_only: int | None = field(default=None, metadata=OMIT_NONE)
    against_only: int | None = field(default=None, metadata=OMIT_NONE)
    mean_difference: float | None = field(default=None, metadata=OMIT_NONE)


@dataclass(frozen=True)
class MetricComparison:
    metric: str
    candidate: float | None
    against: float | None
    difference: float | None  # candidate − against, in the metric's units
    count: int  # requests it stands on (labelled or scored)
    test: PairedTest
    significant: bool


@dataclass(frozen=True)
class Agreement:
    rate: float | None
    agree: int
    compared: int


@dataclass(frozen=True)
class SliceComparison:
    filters: Mapping[str, str]
    count: int
    volume_share: float
    disagreement_rate: float | None
    candidate: float | None
    against: float | None
    difference: float | None
    p_value: float
    significant: bool
    direction: str  # "better", "worse" or "same" (for the candidate)
    impact: float | None = field(default=None, metadata=OMIT_NONE)


@dataclass(frozen=True)
class LatencyComparison:
    measure: str  # "total"
    candidate: Mapping[str, float]
    against: Mapping[str, float]
    p95_difference_ms: float | None


@dataclass(frozen=True)
class RequestCounts:
    paired: int
    candidate: int
    against: int


@dataclass(frozen=True)
class CompareReport:
    model: str
    candidate: str
    against: str
    window: Window
    backend: str
    mode: str  # "paired" or "population"
    metric: str
    requests: RequestCounts
    overall: MetricComparison
    slices: tuple[SliceComparison, ...]
    worse: tuple[SliceComparison, ...]
    better: tuple[SliceComparison, ...]
    verdict: str
    agreement: Agreement | None = field(default=None, metadata=OMIT_NONE)
    latency: LatencyComparison | None = field(default=None, metadata=OMIT_NONE)
    notes: tuple[str, ...] = field(default=(), metadata=OMIT_EMPTY)


_TOP_ORDER = (
    "model",
    "candidate",
    "against",
    "window",
    "backend",
    "mode",
    "metric",
    "requests",
    "notes",
    "agreement",
    "overall",
    "slices",
    "worse",
    "better",
    "latency",
    "verdict",
)


def to_json(report: CompareReport) -> dict[str, Any]:
    """The report as its JSON document (the same plain-value rules as the trace's)."""
    out = _plain(report)
    return {key: out[key] for key in _TOP_ORDER if key in out}
