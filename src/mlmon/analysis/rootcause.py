"""Name the cause behind the called slices: data quality, drift, or the labels.

Pure: it reads the slice, drift and quality findings and returns causes with
evidence a person can act on. For each called slice, in order of impact,
each of its conditions is explained by the first that holds:

1. **quality / unseen**: the value never occurs in the baseline;
2. **quality / missing**: the slice is the feature's missing bucket and that
   feature's NA rate rose;
3. **drift**: the slice's feature drifted;
4. **label**: the slice kept its share of traffic against its own baseline
   and none of its features drifted or has a quality finding, yet its metric
   fell: the inputs did not move, the answers did (a broken labeller, a
   changed definition).

Quality and drift findings no slice accounts for are listed after, so a
drifting feature that has not (yet) cost accuracy is still named.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mlmon.analysis.dimensions import MISSING, describe
from mlmon.analysis.drift import DriftFinding
from mlmon.analysis.quality import QualityFinding
from mlmon.analysis.slices import ScoredSlice

#: A slice "kept its share" when its share moved by less than this fraction.
STABLE_SHARE = 0.3


@dataclass(frozen=True)
class RootCause:
    """One verdict with its evidence; ``slice`` is None for a finding no slice accounts for."""

    kind: str  # "quality", "drift" or "label"
    feature: str
    slice: Mapping[str, str] | None
    evidence: str


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def explain(
    called: list[ScoredSlice],
    *,
    metric: str,
    drift: Sequence[DriftFinding],
    quality: Sequence[QualityFinding],
    baseline_buckets: dict[str, dict[str, float]],
    baseline_total: float,
    categorical: set[str],
    max_slices: int = 5,
) -> tuple[RootCause, ...]:
    """Root causes, most important first.

    ``baseline_buckets``: dimension → bucket → count in the baseline;
    ``categorical``: the dimensions whose buckets are values (an unseen
    value is a category the baseline never had; a numeric bin is not).
    """
    drifted = {d.feature: d for d in drift if d.drifted}
    issues = {q.feature: q for q in quality if q.issues}
    causes: list[RootCause] = []
    named: set[tuple[str, str]] = set()

    def add(kind: str, feature: str, evidence: str, slice_: ScoredSlice | None) -> None:
        if (kind, feature) in named:
            return
        named.add((kind, feature))
        causes.append(RootCause(kind, feature, dict(slice_.key) if slice_ else None, evidence))

    for s in called[:max_slices]:
        where = describe(s.key)
        perf = (
            f"{metric} {s.metric_current:.3f} against {s.metric_baseline:.3f} in the baseline, "
            f"on {_pct(s.volume_share)} of predictions"
        )
        for feature, bucket in s.key:
            seen_before = baseline_buckets.get(feature, {})
            if (
                feature in categorical
                and bucket != MISSING
                and seen_before
                and seen_before.get(bucket, 0) == 0
            ):
                add(
                    "quality",
                    feature,
                    f"{feature}={bucket} never occurs in the baseline (unseen category): "
                    f"{where} has {perf}. The model has no experience with it: retrain "
                    f"with recent data or route it to review.",
                    s,
                )
                break
            if bucket == MISSING and feature in issues and "missing" in issues[feature].issues:
                q = issues[feature]
                add(
                    "quality",
                    feature,
                    f"{feature} is missing on {_pct(q.missing_rate)} of predictions against "
                    f"{_pct(q.baseline_missing_rate)} in the baseline (NA spike), and the "
                    f"rows without it have {perf}. Check the upstream source of {feature}.",
                    s,
                )
                break
            if feature in drifted:
                d = drifted[feature]
                add("drift", feature, _drift_evidence(d) + f" The slice {where} has {perf}.", s)
                break
        else:
            if _stable(s, baseline_total) and not any(
                f in drifted or f in issues for f, _ in s.key
            ):
                add("label", _first_feature(s), _label_evidence(s, where, perf), s)

    for name, q in issues.items():
        for check in q.issues:
            add("quality", name, _quality_evidence(q, check), None)
    for name, d in drifted.items():
        add("drift", name, _drift_evidence(d), None)
    return tuple(causes)


def _first_feature(s: ScoredSlice) -> str:
    return s.key[0][0]


def _stable(s: ScoredSlice, total: float) -> bool:
    """The slice's share of traffic is about what it was in its own baseline.

    Only a slice with its own baseline counts can tell: one held to a parent's
    or to the overall baseline has no share to compare with.
    """
    if s.baseline is None or s.baseline_from != "slice" or not total or s.baseline.n == 0:
        return False
    before = s.baseline.n / total
    return abs(s.volume_share - before) / before < STABLE_SHARE


def _label_evidence(s: ScoredSlice, where: str, perf: str) -> str:
    text = f"{where} has {perf}, yet it kept its share of traffic and its inputs did not drift."
    if s.baseline is not None and s.baseline.predicted_positive and s.current.labelled:
        pred_now = s.current.predicted_positive / s.current.labelled
        pred_before = s.baseline.predicted_positive / s.baseline.labelled
        act_now = s.current.actual_positive / s.current.labelled
        act_before = s.baseline.actual_positive / s.baseline.labelled
        text += (
            f" The model's positive rate there is {_pct(pred_now)} (was {_pct(pred_before)}) "
            f"while the actuals' positive rate moved to {_pct(act_now)} (was {_pct(act_before)})."
        )
    return (
        text + " The labels changed, not the model's inputs: audit where these actuals come from."
    )


def _drift_evidence(d: DriftFinding) -> str:
    shifts = "; ".join(
        f"{m.bucket} {_pct(m.baseline_share)} → {_pct(m.current_share)}"
        for m in d.largest_shifts[:3]
    )
    test = "KS" if d.test == "ks" else "chi-square"
    return (
        f"{d.feature} drifted: PSI {d.psi:.2f}, Jensen–Shannon {d.js:.2f}, {test} "
        f"p={d.p_value:.1e}. Largest shifts: {shifts}."
    )


def _quality_evidence(q: QualityFinding, check: str) -> str:
    words = {"missing": "missing", "unseen": "an unseen category", "out_of_range": "out of range"}
    text = (
        f"{q.feature} is {words[check]} on {_pct(q.rate(check))} of predictions against "
        f"{_pct(q.baseline_rate(check))} in the baseline."
    )
    if check == "unseen" and q.top_unseen_values:
        top = ", ".join(f"{k} ({v:,})" for k, v in list(q.top_unseen_values.items())[:3])
        text += f" Top unseen values: {top}."
    return text
