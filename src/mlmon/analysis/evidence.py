"""What is tested about each reported slice before a cause is named (counts only).

For a slice S it asks both sources for:

- S's share of traffic now against its share in the baseline (two-proportion
  test) and, per condition of S, the share that condition takes of the rest
  of S's conditions (``monthly_charges >= 94.5`` within ``region=south``):
  which condition the traffic moved into;
- the distribution of every other feature *within* S against the same in the
  baseline (PSI and chi-square/KS on the baseline's buckets, from a cross
  request S × feature), so a shift local to S is seen even when the
  feature's global drift is below threshold;
- within S, the share of rows missing each feature, or holding a value of
  it the baseline never had.

Every test is corrected (Bonferroni) for the number of tests of its kind over
all the slices examined. A feature whose within-slice baseline the source
cannot give (a profile keeps crosses of at most three features, cells of ten
or more rows) is listed as untested, never as "did not move".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mlmon.analysis import drift as drift_module
from mlmon.analysis import quality as quality_module
from mlmon.analysis import stats as st
from mlmon.analysis.dimensions import MISSING, Dimension, SliceKey
from mlmon.analysis.metrics import Stats
from mlmon.analysis.source import BucketRequest

Fetch = Callable[[Sequence[BucketRequest]], tuple[list, list]]
#: A share "moved" when it changed by at least this fraction of itself (and significantly).
SHARE_MOVE = 0.3


@dataclass(frozen=True)
class ShareTest:
    """A share now against the baseline: of all traffic, or of a parent slice."""

    within: SliceKey  # () for all traffic
    now: float
    before: float
    p_value: float
    moved_up: bool
    moved_down: bool


@dataclass(frozen=True)
class FeatureTest:
    """One feature inside the slice: its distribution, and its missing/unseen rows."""

    feature: str
    psi: float
    p_value: float  # of the distribution test (KS or chi-square)
    drifted: bool
    largest_shift: tuple[str, float, float]  # bucket, baseline share, current share
    missing_now: float
    missing_before: float
    missing_spike: bool
    unseen_now: float  # rows with a value the baseline never had
    unseen_spike: bool


@dataclass(frozen=True)
class SliceEvidence:
    key: SliceKey
    share: ShareTest | None  # None: held to a parent or the overall, no share of its own
    conditions: tuple[tuple[str, ShareTest], ...]  # per feature of the key
    features: tuple[FeatureTest, ...]  # tested inside the slice
    untested: tuple[str, ...]  # no baseline inside the slice to test against


@dataclass(frozen=True)
class EvidenceSettings:
    """The trace's own thresholds, applied inside a slice: the same objects, not copies."""

    alpha: float
    drift: drift_module.DriftSettings
    quality: quality_module.QualitySettings


def gather(
    slices: Sequence,  # ScoredSlice
    dimensions: Sequence[Dimension],
    fetch: Fetch,
    *,
    overall_current: Stats,
    overall_baseline: Stats,
    baseline_buckets: dict[str, dict[str, float]],
    settings: EvidenceSettings,
) -> dict[SliceKey, SliceEvidence]:
    """Evidence for each slice, from one batch of cross requests per side."""
    by_name = {d.name: d for d in dimensions}
    plan: list[tuple[SliceKey, str, BucketRequest]] = []
    for s in slices:
        names = {n for n, _ in s.key}
        for d in dimensions:
            if d.name not in names:
                plan.append((s.key, d.name, _within(s.key, d, by_name)))
        if len(s.key) > 1:
            for name, _ in s.key:
                parent = tuple(p for p in s.key if p[0] != name)
                plan.append((s.key, f"parent:{name}", _within(parent, None, by_name)))
    now, before = fetch([r for _, _, r in plan]) if plan else ([], [])
    answers: dict[tuple[SliceKey, str], tuple] = {
        (key, what): (a, b) for (key, what, _), a, b in zip(plan, now, before, strict=True)
    }
    feature_family = max(sum(1 for _, w, _ in plan if not w.startswith("parent:")), 1)
    share_family = max(len(slices) + sum(1 for _, w, _ in plan if w.startswith("parent:")), 1)
    out = {}
    for s in slices:
        share = None
        if s.baseline_from == "slice" and s.baseline is not None:
            share = _share(
                (),
                (s.current.n, overall_current.n),
                (s.baseline.n, overall_baseline.n),
                share_family,
                settings,
            )
        conditions = []
        for name, _ in s.key if len(s.key) > 1 else ():
            a, b = answers[(s.key, f"parent:{name}")]
            parent = tuple(p for p in s.key if p[0] != name)
            parent_now, parent_before = (a or {}).get(parent), (b or {}).get(parent)
            if parent_now is None or parent_before is None or share is None:
                continue
            test = _share(
                parent,
                (s.current.n, parent_now.n),
                (s.baseline.n, parent_before.n),
                share_family,
                settings,
            )
            conditions.append((name, test))
        tested, untested = [], []
        for d in dimensions:
            if (s.key, d.name) not in answers:
                continue
            a, b = answers[(s.key, d.name)]
            result = (
                _feature(d, s.key, a, b, baseline_buckets.get(d.name, {}), feature_family, settings)
                if b
                else None
            )
            (tested.append(result) if result else untested.append(d.name))
        out[s.key] = SliceEvidence(s.key, share, tuple(conditions), tuple(tested), tuple(untested))
    return out


def _within(
    key: SliceKey, dimension: Dimension | None, by_name: dict[str, Dimension]
) -> BucketRequest:
    """Counts of ``dimension``'s buckets inside ``key`` (or of ``key`` alone)."""
    dims = [by_name[n] for n, _ in key]
    keep: list[frozenset[str] | None] = [frozenset((b,)) for _, b in key]
    if dimension is not None:
        dims.append(dimension)
        keep.append(None)
    return BucketRequest(tuple(dims), tuple(keep))


def _share(
    within: SliceKey,
    now_counts: tuple[float, float],
    before_counts: tuple[float, float],
    family: int,
    settings: EvidenceSettings,
) -> ShareTest:
    """(part, whole) now and before: did the part's share move, up or down?"""
    (part_now, whole_now), (part_before, whole_before) = now_counts, before_counts
    now = part_now / whole_now if whole_now else 0.0
    before = part_before / whole_before if whole_before else 0.0
    p = st.two_proportion_pvalue(int(part_now), int(whole_now), int(part_before), int(whole_before))
    significant = min(1.0, p * family) < settings.alpha
    relative = (now - before) / before if before else (1.0 if now else 0.0)
    return ShareTest(
        within=within,
        now=now,
        before=before,
        p_value=p,
        moved_up=significant and relative >= SHARE_MOVE,
        moved_down=significant and relative <= -SHARE_MOVE,
    )


def _feature(
    dimension: Dimension,
    key: SliceKey,
    now: dict | None,
    before: dict,
    seen: dict[str, float],
    family: int,
    settings: EvidenceSettings,
) -> FeatureTest | None:
    counts_before = _counts(before, key, dimension.name)
    # Buckets the baseline's slice lacks but its whole had are left out of the comparison: a
    # profile drops cross cells under ten rows, and a bucket it dropped is not a shift.
    counts_now = {
        bucket: n
        for bucket, n in _counts(now or {}, key, dimension.name).items()
        if bucket in counts_before or bucket == MISSING or not seen.get(bucket)
    }
    total_now, total_before = sum(counts_now.values()), sum(counts_before.values())
    if total_now < settings.drift.min_count or total_before < settings.drift.min_count:
        return None
    measured = drift_module.measure(
        dimension,
        counts_before,
        counts_now,
        settings=settings.drift,
    )
    missing_now = counts_now.get(MISSING, 0.0)
    missing_before = counts_before.get(MISSING, 0.0)
    unseen = 0.0
    if dimension.kind == "categorical" and seen:
        unseen = sum(v for k, v in counts_now.items() if k != MISSING and not seen.get(k))
    p_missing = st.two_proportion_pvalue(
        int(missing_now), int(total_now), int(missing_before), int(total_before)
    )
    rate_now, rate_before = missing_now / total_now, missing_before / total_before
    p_unseen = st.two_proportion_pvalue(int(unseen), int(total_now), 0, int(total_before))
    psi = measured.psi if measured else 0.0
    p_value = measured.p_value if measured else 1.0
    shift = measured.largest_shifts[0] if measured and measured.largest_shifts else None
    return FeatureTest(
        feature=dimension.name,
        psi=psi,
        p_value=p_value,
        drifted=min(1.0, p_value * family) < settings.alpha and psi >= settings.drift.psi,
        largest_shift=(shift.bucket, shift.baseline_share, shift.current_share)
        if shift
        else ("", 0.0, 0.0),
        missing_now=rate_now,
        missing_before=rate_before,
        missing_spike=rate_now - rate_before >= settings.quality.missing_rise
        and min(1.0, p_missing * family) < settings.alpha,
        unseen_now=unseen / total_now,
        unseen_spike=unseen / total_now >= settings.quality.unseen_rise
        and min(1.0, p_unseen * family) < settings.alpha,
    )


def _counts(answer: dict, key: SliceKey, name: str) -> dict[str, float]:
    """Bucket → rows of feature ``name`` inside the slice ``key``, from a cross answer."""
    wanted = set(key)
    out: dict[str, float] = {}
    for cell, stats in answer.items():
        if not wanted <= set(cell):
            continue
        bucket = dict(cell).get(name)
        if bucket is not None:
            out[bucket] = out.get(bucket, 0.0) + stats.n
    return out
