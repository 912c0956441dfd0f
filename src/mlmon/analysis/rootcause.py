"""One cause per reported slice, with its evidence: quality, drift, label, or unexplained.

Pure: it reads the slices, the evidence gathered for them
(:mod:`mlmon.analysis.evidence`) and the feature-level drift and quality
findings. For each reported slice, in report order, the first that holds:

1. **quality**: a condition of the slice is a value the baseline never had
   (an unseen category), or the slice is a feature's missing bucket and that
   feature's NA rate rose; or, inside the slice, a feature is missing (or
   unseen) significantly more often than in the same slice of the baseline;
2. **drift**: a feature of the slice drifted overall; or traffic moved into
   the slice (its share, or a condition's share of the rest of it, rose
   significantly); or a feature's distribution moved *within* the slice,
   whatever its global drift;
3. **label**: the slice's share was tested and did not move, no feature of
   it drifted or lost quality, and the features tested inside it did not
   move, yet its metric fell: the answers changed, not the inputs;
4. **unexplained**: the evidence does not separate them (a share that fell,
   a slice with no baseline of its own, nothing testable inside it). It
   says so, and why.

Feature-level quality and drift findings on features no slice's cause names
are listed after, so a drifting feature that has not (yet) cost accuracy is
still named.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from mlmon.analysis.dimensions import MISSING, describe
from mlmon.analysis.drift import DriftFinding
from mlmon.analysis.evidence import FeatureTest, ShareTest, SliceEvidence
from mlmon.analysis.jsonkeys import OMIT_NONE
from mlmon.analysis.quality import QualityFinding


@dataclass(frozen=True)
class RootCause:
    """One verdict with its evidence; ``slice`` is None for a finding no slice accounts for.

    ``tested``: for a slice's verdict, the features whose distribution inside
    the slice was compared with the baseline (None for a feature-level finding).
    """

    kind: str  # "quality", "drift", "label" or "unexplained"
    feature: str
    slice: Mapping[str, str] | None
    evidence: str
    tested: tuple[str, ...] | None = field(default=None, metadata=OMIT_NONE)


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def explain(
    called: Sequence,  # ScoredSlice, in report order
    *,
    metric: str,
    evidence: dict,  # SliceKey → SliceEvidence
    drift: Sequence[DriftFinding],
    quality: Sequence[QualityFinding],
    baseline_buckets: dict[str, dict[str, float]],
    categorical: set[str],
) -> tuple[RootCause, ...]:
    """Root causes: one per called slice (in order), then the findings no slice explains.

    ``baseline_buckets``: dimension → bucket → count in the baseline;
    ``categorical``: the dimensions whose buckets are values (an unseen
    value is a category the baseline never had; a numeric bin is not).
    """
    drifted = {d.feature: d for d in drift if d.drifted}
    issues = {q.feature: q for q in quality if q.issues}
    causes = [
        _verdict(s, evidence.get(s.key), metric, drifted, issues, baseline_buckets, categorical)
        for s in called
    ]
    named = {c.feature for c in causes}
    for name, q in issues.items():
        if name not in named:
            for check in q.issues:
                causes.append(RootCause("quality", name, None, _quality_evidence(q, check)))
    for name, d in drifted.items():
        if name not in named:
            causes.append(RootCause("drift", name, None, _drift_evidence(d)))
    return tuple(causes)


def _verdict(
    s,
    ev: SliceEvidence | None,
    metric: str,
    drifted: dict[str, DriftFinding],
    issues: dict[str, QualityFinding],
    baseline_buckets: dict[str, dict[str, float]],
    categorical: set[str],
) -> RootCause:
    where = describe(s.key)
    perf = (
        f"{metric} {s.metric_current:.3f} against {s.metric_baseline:.3f} in the baseline, "
        f"on {_pct(s.volume_share)} of predictions"
    )
    tested = _tested(ev)

    def cause(kind: str, feature: str, text: str) -> RootCause:
        return RootCause(kind, feature, dict(s.key), text, tuple(tested))

    # 1. quality
    for feature, bucket in s.key:
        seen = baseline_buckets.get(feature, {})
        if feature in categorical and bucket != MISSING and seen and not seen.get(bucket):
            return cause(
                "quality",
                feature,
                f"{feature}={bucket} never occurs in the baseline (unseen category): {where} "
                f"has {perf}. The model has no experience with it: retrain with recent data "
                f"or route it to review.",
            )
    for feature, bucket in s.key:
        if bucket != MISSING:
            continue
        q = issues.get(feature)
        if q and "missing" in q.issues:
            return cause(
                "quality",
                feature,
                f"{feature} is missing on {_pct(q.missing_rate)} of predictions against "
                f"{_pct(q.baseline_missing_rate)} in the baseline (NA spike), and {where} "
                f"has {perf}. Check the upstream source of {feature}.",
            )
        moved = _moved_into(ev, feature)
        if moved is not None:
            return cause(
                "quality",
                feature,
                f"rows without {feature} rose: {_share_text(moved, s.key)}; {where} has {perf}. "
                f"Check the upstream source of {feature}.",
            )
    inside = [t for t in (ev.features if ev else ()) if t.missing_spike or t.unseen_spike]
    if inside:
        worst = max(inside, key=lambda t: max(t.missing_now - t.missing_before, t.unseen_now))
        return cause("quality", worst.feature, _inside_quality(worst, where, perf))
    # 2. drift
    for feature, _ in s.key:
        if feature in drifted:
            text = _drift_evidence(drifted[feature]) + f" The slice {where} has {perf}."
            return cause("drift", feature, text)
    moved_conditions = [(n, t) for n, t in (ev.conditions if ev else ()) if t.moved_up]
    if moved_conditions:
        feature, test = max(moved_conditions, key=lambda nt: nt[1].now / max(nt[1].before, 1e-9))
        return cause(
            "drift",
            feature,
            f"traffic moved into the slice: {_share_text(test, s.key)}. {where} has {perf}.",
        )
    if ev and ev.share and ev.share.moved_up:
        feature = _most_moved(ev) or s.key[0][0]
        return cause(
            "drift",
            feature,
            f"traffic moved into the slice: {_share_text(ev.share, s.key)}. {where} has {perf}.",
        )
    within = [t for t in (ev.features if ev else ()) if t.drifted]
    if within:
        worst = max(within, key=lambda t: t.psi)
        bucket, before, now = worst.largest_shift
        return cause(
            "drift",
            worst.feature,
            f"inside {where}, {worst.feature}'s distribution moved: PSI {worst.psi:.2f}, "
            f"p={worst.p_value:.1e} (largest shift: {bucket} {_pct(before)} → {_pct(now)}), "
            f"whatever its global drift. {where} has {perf}.",
        )
    # 3. label, only with positive evidence
    reasons = _not_label(s, ev, drifted, issues)
    if not reasons:
        assert ev is not None and ev.share is not None
        text = (
            f"{where} has {perf}, yet its share of traffic did not move "
            f"({_pct(ev.share.now)} against {_pct(ev.share.before)}, p={ev.share.p_value:.2f}) "
            f"and neither did the distributions of {', '.join(tested)} inside it"
        )
        if ev.untested:
            text += f" (not testable inside it: {', '.join(ev.untested)})"
        text += "." + _label_rates(s)
        text += " The labels changed, not the model's inputs: audit where these actuals come from."
        return cause("label", s.key[0][0], text)
    # 4. unexplained
    return cause(
        "unexplained",
        s.key[0][0],
        f"{where} has {perf}, but the evidence does not separate a data, drift or label "
        f"cause: {'; '.join(reasons)}.",
    )


def _most_moved(ev: SliceEvidence) -> str | None:
    """The condition whose share of the rest of the slice grew most (significant or not)."""
    ratios = [(t.now / t.before if t.before else float("inf"), n) for n, t in ev.conditions]
    return max(ratios)[1] if ratios else None


def _tested(ev: SliceEvidence | None) -> list[str]:
    return [t.feature for t in ev.features] if ev else []


def _moved_into(ev: SliceEvidence | None, feature: str) -> ShareTest | None:
    if ev is None:
        return None
    for name, test in ev.conditions:
        if name == feature and test.moved_up:
            return test
    if ev.share is not None and ev.share.moved_up and len(ev.key) == 1:
        return ev.share
    return None


def _share_text(test: ShareTest, key) -> str:
    """A share test in words: of the parent slice (``within``), or of all traffic."""
    if test.within:
        condition = describe(p for p in key if p not in set(test.within))
        return (
            f"{condition} holds {_pct(test.now)} of {describe(test.within)} against "
            f"{_pct(test.before)} in the baseline (p={test.p_value:.1e})"
        )
    return (
        f"{describe(key)} is {_pct(test.now)} of traffic against {_pct(test.before)} in the "
        f"baseline (p={test.p_value:.1e})"
    )


def _inside_quality(t: FeatureTest, where: str, perf: str) -> str:
    if t.missing_spike and t.missing_now - t.missing_before >= t.unseen_now:
        return (
            f"inside {where}, {t.feature} is missing on {_pct(t.missing_now)} of rows against "
            f"{_pct(t.missing_before)} in the same slice of the baseline; {where} has {perf}. "
            f"Check the upstream source of {t.feature} for this traffic."
        )
    return (
        f"inside {where}, {_pct(t.unseen_now)} of rows hold a {t.feature} value the baseline "
        f"never had; {where} has {perf}."
    )


def _not_label(s, ev: SliceEvidence | None, drifted, issues) -> list[str]:
    """Why the evidence does not support a label issue (empty: it does)."""
    reasons = []
    if ev is None or ev.share is None:
        reasons.append(
            "it has no baseline of its own (held to a "
            f"{'parent' if s.baseline_from == 'parent' else 'overall'} baseline), so its share "
            "and inputs cannot be compared"
        )
        return reasons
    if ev.share.moved_down:
        reasons.append(
            f"its share fell ({_pct(ev.share.now)} against {_pct(ev.share.before)}, "
            f"p={ev.share.p_value:.1e})"
        )
    for feature, _ in s.key:
        if feature in issues:
            reasons.append(f"{feature} has a data-quality finding overall")
    if not ev.features:
        untested = ", ".join(ev.untested) or "none"
        reasons.append(f"no feature could be tested inside it (no baseline for: {untested})")
    return reasons


def _label_rates(s) -> str:
    if s.baseline is None or not s.baseline.predicted_positive or not s.current.labelled:
        return ""
    pred_now = s.current.predicted_positive / s.current.labelled
    pred_before = s.baseline.predicted_positive / s.baseline.labelled
    act_now = s.current.actual_positive / s.current.labelled
    act_before = s.baseline.actual_positive / s.baseline.labelled
    return (
        f" The model's positive rate there is {_pct(pred_now)} (was {_pct(pred_before)}) "
        f"while the actuals' positive rate moved to {_pct(act_now)} (was {_pct(act_before)})."
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
