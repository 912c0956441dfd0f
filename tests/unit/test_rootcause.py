"""Root-cause rules on hand-made evidence: one verdict per slice, label only with proof."""

from __future__ import annotations

from mlmon.analysis.drift import Distribution, DriftFinding
from mlmon.analysis.evidence import FeatureTest, ShareTest, SliceEvidence
from mlmon.analysis.metrics import Stats
from mlmon.analysis.quality import QualityFinding
from mlmon.analysis.rootcause import explain
from mlmon.analysis.slices import score

OVERALL_NOW = Stats(n=10_000, labelled=10_000, correct=9_000)
OVERALL_BEFORE = Stats(n=10_000, labelled=10_000, correct=9_500)


def slice_of(key, now: Stats, before: Stats | None, fallback: Stats | None = None):
    s = score(key, now, before, OVERALL_NOW, OVERALL_BEFORE, "accuracy", fallback=fallback)
    return s.__class__(**{**s.__dict__, "significant": True})


def steady(feature: str, *, psi: float = 0.01, drifted: bool = False, missing=(0.0, 0.0)):
    return FeatureTest(feature, psi, 0.5, drifted, ("x", 0.5, 0.5), missing[1], missing[0],
                       missing[1] - missing[0] >= 0.05, 0.0, False)  # fmt: skip


def share(now: float, before: float, *, up: bool = False, down: bool = False, within=()):
    return ShareTest(within, now, before, 0.4, up, down)


def causes(called, buckets, categorical, evidence=None, drift=(), quality=()):
    return explain(
        called,
        metric="accuracy",
        evidence=evidence or {},
        drift=list(drift),
        quality=list(quality),
        baseline_buckets=buckets,
        categorical=categorical,
    )


def test_unseen_is_decided_by_the_dimension_kind_not_the_label_text():
    # a category whose text looks like a numeric bin is still a category
    odd = slice_of((("code", "<none>"),), Stats(n=500, labelled=500, correct=50), None)
    found = causes([odd], {"code": {"A": 9_000, "B": 1_000}}, {"code"})
    assert [(c.kind, c.feature) for c in found] == [("quality", "code")]
    assert "unseen category" in found[0].evidence
    # a numeric bin absent from the baseline is not an unseen category: nothing separates it
    binned = slice_of((("amount", "B9"),), Stats(n=500, labelled=500, correct=50), None)
    found = causes([binned], {"amount": {"B1": 10_000}}, set())
    assert [c.kind for c in found] == ["unexplained"]
    assert "no baseline of its own" in found[0].evidence


def test_label_needs_a_tested_share_and_tested_inputs_that_did_not_move():
    key = (("zip", "94107"),)
    s = slice_of(key, Stats(n=1_050, labelled=1_050, correct=700), Stats(1_000, 1_000, 950))
    proof = SliceEvidence(key, share(0.105, 0.1), (), (steady("amount"), steady("hour")), ())
    found = causes([s], {"zip": {"94107": 1_000}}, {"zip"}, {key: proof})
    assert [c.kind for c in found] == ["label"]
    assert "amount, hour" in found[0].evidence and found[0].tested == ("amount", "hour")
    # the same slice with nothing testable inside it is unexplained, not a label issue
    blind = SliceEvidence(key, share(0.105, 0.1), (), (), ("amount", "hour"))
    found = causes([s], {"zip": {"94107": 1_000}}, {"zip"}, {key: blind})
    assert [c.kind for c in found] == ["unexplained"]
    # ... and so is one whose share fell
    shrunk = SliceEvidence(key, share(0.05, 0.1, down=True), (), (steady("amount"),), ())
    assert causes([s], {}, {"zip"}, {key: shrunk})[0].kind == "unexplained"


def test_a_cross_held_to_its_parent_has_no_share_to_compare_and_is_not_a_label_issue():
    parent_before = Stats(n=1_050, labelled=1_050, correct=1_000)  # same size as the cross now
    cross = slice_of(
        (("state", "CA"), ("zip", "94107")),
        Stats(n=1_050, labelled=1_050, correct=700),
        None,
        fallback=parent_before,
    )
    assert cross.baseline_from == "parent"
    assert [c.kind for c in causes([cross], {}, {"state", "zip"})] == ["unexplained"]


def test_a_shift_within_the_slice_is_drift_even_when_the_feature_did_not_drift_overall():
    key = (("region", "south"),)
    s = slice_of(key, Stats(n=2_000, labelled=2_000, correct=1_200), Stats(2_000, 2_000, 1_500))
    moved = FeatureTest("charges", 1.4, 1e-30, True, (">= 94.5", 0.1, 0.6), 0, 0, False, 0, False)
    ev = SliceEvidence(key, share(0.2, 0.2), (), (steady("plan"), moved), ())
    global_charges = DriftFinding(
        feature="charges", kind="numeric", psi=0.07, js=0.03, baseline_count=2e4,
        current_count=2e4, test="ks", statistic=0.05, p_value=0.2,
        distribution=Distribution((), (), ()), largest_shifts=(), p_adjusted=1.0, drifted=False,
    )  # fmt: skip
    found = causes([s], {"region": {"south": 2_000}}, {"region"}, {key: ev}, [global_charges])
    assert [(c.kind, c.feature) for c in found] == [("drift", "charges")]
    assert "inside region=south" in found[0].evidence and ">= 94.5" in found[0].evidence


def test_traffic_moving_into_a_condition_of_the_slice_is_drift_on_that_condition():
    key = (("charges", ">= 94.5"), ("region", "south"))
    s = slice_of(key, Stats(n=900, labelled=900, correct=400), Stats(200, 200, 180))
    conditions = (
        ("charges", share(0.55, 0.1, up=True, within=(("region", "south"),))),
        ("region", share(0.3, 0.2, within=(("charges", ">= 94.5"),))),
    )
    ev = SliceEvidence(key, share(0.09, 0.02, up=True), conditions, (), ("plan",))
    found = causes([s], {}, {"region"}, {key: ev})
    assert [(c.kind, c.feature) for c in found] == [("drift", "charges")]
    assert "charges=>= 94.5 holds 55.0% of region=south" in found[0].evidence


def test_missing_inside_the_slice_is_quality_and_each_slice_gets_one_verdict_in_order():
    partner = (("channel", "partner"),)
    gig = (("employment", "gig"),)
    first = slice_of(gig, Stats(n=700, labelled=700, correct=330), None)
    second = slice_of(partner, Stats(n=2_000, labelled=2_000, correct=1_300),
                      Stats(2_000, 2_000, 1_550))  # fmt: skip
    inside = (steady("income", missing=(0.03, 0.45)),)
    ev = {partner: SliceEvidence(partner, share(0.2, 0.2), (), inside, ())}
    buckets = {"employment": {"salaried": 5_000}, "channel": {"partner": 2_000}}
    na = QualityFinding("income", ("missing",), 0.1, 0.03, 0.0, 0.0, 0.0, 0.0)
    found = causes([first, second], buckets, {"employment", "channel"}, ev, quality=[na])
    assert [(c.kind, c.feature, c.slice) for c in found] == [
        ("quality", "employment", {"employment": "gig"}),
        ("quality", "income", {"channel": "partner"}),
    ]  # the NA finding on income is the second slice's cause, not listed again
    assert "inside channel=partner, income is missing on 45.0%" in found[1].evidence


def test_the_cli_psi_default_is_the_analyzers():
    """`mlmon trace --psi` and the library share one materiality line."""
    from mlmon.analysis.drift import MATERIAL_PSI
    from mlmon.analysis.trace import TraceSettings
    from mlmon.cli.analyze import trace

    (psi,) = [p for p in trace.params if p.name == "psi_threshold"]
    assert psi.default == MATERIAL_PSI == TraceSettings().drift.psi
