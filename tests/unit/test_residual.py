"""Minimal explanations on the pandas backend: a broad slice holding two causes is not listed,
shadows of a reported slice are not listed, and the negative filter is exact."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import chi2_contingency

from mlmon.analysis import stats as st
from mlmon.analysis.dimensions import Dimension
from mlmon.analysis.slices import SliceSettings, search
from mlmon.analysis.source import BucketRequest, Scope
from mlmon.sources.frame import FrameSource, load_events

FEATURES = {"a": ["a0", "a1", "a2", "a3"], "b": ["b0", "b1", "b2"], "c": ["c0", "c1"],
            "d": ["d0", "d1", "d2"]}  # fmt: skip
DIMENSIONS = [Dimension(name, f"features.{name}", "categorical") for name in FEATURES]


def write_events(path: Path, *, seed: int, incidents: bool, n: int = 8000) -> Path:
    """Two incidents (a=a1, b=b2) that happen only where c=c0, which holds 85 % of rows."""
    rng = np.random.default_rng(seed)
    with path.open("w") as out:
        for i in range(n):
            features = {k: str(rng.choice(v)) for k, v in FEATURES.items()}
            features["c"] = "c0" if rng.random() < 0.85 else "c1"
            bad = (
                incidents
                and features["c"] == "c0"
                and (features["a"] == "a1" or features["b"] == "b2")
            )
            wrong = rng.random() < (0.5 if bad else 0.08)
            stamp = f"2026-11-{10 + i * 7 // n:02d}T12:00:00.000Z"
            pid = f"p{seed}-{i}"
            out.write(json.dumps({
                "@timestamp": stamp, "event": {"kind": "prediction", "schema_version": 1},
                "model": {"name": "m", "version": "v1"}, "prediction_id": pid,
                "features": features, "prediction": {"label": "yes"},
            }) + "\n")  # fmt: skip
            out.write(json.dumps({
                "@timestamp": stamp, "event": {"kind": "actual", "schema_version": 1},
                "model": {"name": "m", "version": "v1"}, "prediction_id": pid,
                "actual": {"label": "no" if wrong else "yes"},
            }) + "\n")  # fmt: skip
    return path


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    folder = tmp_path_factory.mktemp("residual")
    before = load_events(write_events(folder / "before.jsonl", seed=1, incidents=False))
    now = load_events(write_events(folder / "now.jsonl", seed=2, incidents=True))
    scope = Scope("m", None, None, None)
    return FrameSource(now.frame, scope), FrameSource(before.frame, scope)


def run(sources, **settings):
    current, baseline = sources

    def fetch(requests):
        return current.buckets(requests), baseline.buckets(requests)

    settings = {"min_support": 50, **settings}
    return search(
        DIMENSIONS,
        fetch,
        current.overall(),
        baseline.overall(),
        SliceSettings(**settings),
        metric="accuracy",
        alpha=0.01,
    )


def test_the_two_causes_top_the_list_and_their_container_is_not_listed(sources):
    result = run(sources)
    keys = [s.key for s in result.called]
    # the incidents, alone or as exactly where they happen (a=a1 ∧ c=c0: c1 rows are healthy)
    firsts = sorted(tuple(p for p in key if p[0] != "c") for key in keys[:2])
    assert firsts == [(("a", "a1"),), (("b", "b2"),)]
    assert all(set(key) <= {("a", "a1"), ("b", "b2"), ("c", "c0")} for key in keys[:2])
    # c=c0 holds both causes and drops too, but nothing of its own is left once they are out
    container = (("c", "c0"),)
    assert container not in keys
    scored = {s.key: s for s in result.top}
    assert container in scored and scored[container].significant  # it was a candidate
    assert set(result.explained[container]) & {("a", "a1"), ("b", "b2")}  # by an incident
    # no listed slice is a piece of a listed one (a shadow)
    for i, s in enumerate(result.called):
        assert not any(set(other.key) < set(s.key) for other in result.called[:i])


def test_a_reported_slice_is_ranked_on_its_residual(sources):
    result = run(sources)
    second = result.called[1]
    assert second.residual is not None and second.residual.significant
    assert result.called[0].key in second.residual.excluded
    assert second.residual.impact <= second.impact + 1e-12


def test_the_negative_filter_leaves_out_exactly_the_excluded_rows(sources):
    current, _ = sources
    a, b, c = DIMENSIONS[0], DIMENSIONS[1], DIMENSIONS[2]
    whole = BucketRequest((c,), (frozenset({"c0"}),))
    without = BucketRequest((c,), (frozenset({"c0"}),), exclude=(((a, "a1"),), ((b, "b2"),)))
    inside = BucketRequest((c, a, b))
    [all_c0], [rest], [cells] = (current.buckets([r]) for r in (whole, without, inside))
    key = (("c", "c0"),)
    hit = [
        s for k, s in cells.items() if ("c", "c0") in k and ({("a", "a1"), ("b", "b2")} & set(k))
    ]
    removed = sum(hit[1:], start=hit[0])
    assert rest[key] == all_c0[key] - removed


def test_the_share_test_is_the_chi_square_of_the_two_by_two_table():
    p = st.two_proportion_pvalue(900, 10_000, 200, 5_000)
    table = [[900, 10_000 - 900], [200, 5_000 - 200]]
    assert p == pytest.approx(chi2_contingency(table, correction=False).pvalue, rel=1e-9)
