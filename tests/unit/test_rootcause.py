"""Root-cause rules on hand-made findings: what decides unseen, and when a slice is 'stable'."""

from __future__ import annotations

from mlmon.analysis.metrics import Stats
from mlmon.analysis.rootcause import explain
from mlmon.analysis.slices import score

OVERALL_NOW = Stats(n=10_000, labelled=10_000, correct=9_000)
OVERALL_BEFORE = Stats(n=10_000, labelled=10_000, correct=9_500)


def slice_of(key, now: Stats, before: Stats | None, fallback: Stats | None = None):
    s = score(key, now, before, OVERALL_NOW, OVERALL_BEFORE, "accuracy", fallback=fallback)
    return s.__class__(**{**s.__dict__, "significant": True})


def causes(called, buckets, categorical):
    return explain(
        called,
        metric="accuracy",
        drift=[],
        quality=[],
        baseline_buckets=buckets,
        baseline_total=OVERALL_BEFORE.n,
        categorical=categorical,
    )


def test_unseen_is_decided_by_the_dimension_kind_not_the_label_text():
    # a category whose text looks like a numeric bin is still a category
    odd = slice_of((("code", "<none>"),), Stats(n=500, labelled=500, correct=50), None)
    found = causes([odd], {"code": {"A": 9_000, "B": 1_000}}, {"code"})
    assert [(c.kind, c.feature) for c in found] == [("quality", "code")]
    assert "unseen category" in found[0].evidence
    # a numeric bin absent from the baseline is not an unseen category
    binned = slice_of((("amount", "B9"),), Stats(n=500, labelled=500, correct=50), None)
    assert causes([binned], {"amount": {"B1": 10_000}}, set()) == ()


def test_a_slice_that_kept_its_share_and_inputs_is_a_label_issue():
    before = Stats(n=1_000, labelled=1_000, correct=950)
    now = Stats(n=1_050, labelled=1_050, correct=700)
    found = causes([slice_of((("zip", "94107"),), now, before)], {"zip": {"94107": 1_000}}, {"zip"})
    assert [c.kind for c in found] == ["label"]


def test_a_cross_held_to_its_parent_has_no_share_to_compare_and_is_not_a_label_issue():
    parent_before = Stats(n=1_050, labelled=1_050, correct=1_000)  # same size as the cross now
    cross = slice_of(
        (("state", "CA"), ("zip", "94107")),
        Stats(n=1_050, labelled=1_050, correct=700),
        None,
        fallback=parent_before,
    )
    assert cross.baseline_from == "parent"
    assert causes([cross], {}, {"state", "zip"}) == ()
