"""Slice search: the pruned search finds the exhaustive top-K, on the pandas backend."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mlmon.analysis.dimensions import Dimension
from mlmon.analysis.metrics import Stats
from mlmon.analysis.slices import SliceSettings, score, search
from mlmon.analysis.source import Scope
from mlmon.sources.frame import FrameSource, load_events

FEATURES = {"a": ["a0", "a1", "a2", "a3"], "b": ["b0", "b1", "b2"], "c": ["c0", "c1", "c2"],
            "d": ["d0", "d1"]}  # fmt: skip
DIMENSIONS = [Dimension(name, f"features.{name}", "categorical") for name in FEATURES]


def write_events(
    path: Path,
    *,
    seed: int,
    broken: dict[str, str],
    n: int = 6000,
    values: dict[str, list[str]] = FEATURES,
    tied: dict[str, str] | None = None,
) -> Path:
    """Predictions with actuals; rows matching ``broken`` are mostly wrong. Rows with
    ``broken`` also take the ``tied`` values (an unseen merchant that is always a pharmacy
    in CA)."""
    rng = np.random.default_rng(seed)
    with path.open("w") as out:
        for i in range(n):
            features = {k: str(rng.choice(v)) for k, v in values.items()}
            if tied and all(features[k] == v for k, v in broken.items()):
                features.update(tied)
            bad = bool(broken) and all(features[k] == v for k, v in broken.items())
            wrong = rng.random() < (0.6 if bad else 0.08 + 0.04 * (features.get("d") == "d1"))
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
    folder = tmp_path_factory.mktemp("slices")
    before = load_events(write_events(folder / "before.jsonl", seed=1, broken={}))
    now = load_events(write_events(folder / "now.jsonl", seed=2, broken={"a": "a1", "b": "b2"}))
    scope = Scope("m", None, None, None)
    return FrameSource(now.frame, scope), FrameSource(before.frame, scope)


def run(sources, **settings):
    current, baseline = sources

    def fetch(requests):
        return current.buckets(requests), baseline.buckets(requests)

    return search(
        DIMENSIONS,
        fetch,
        current.overall(),
        baseline.overall(),
        SliceSettings(**settings),
        metric="accuracy",
        alpha=0.01,
    )


@pytest.mark.parametrize("top_k", [1, 3, 8])
def test_pruned_search_returns_the_exhaustive_top_k(sources, top_k):
    pruned = run(sources, top_k=top_k, prune=True, min_support=50)
    everything = run(sources, top_k=top_k, prune=False, min_support=50)
    assert [(s.key, s.impact) for s in pruned.top] == [(s.key, s.impact) for s in everything.top]
    assert len(pruned.top) == top_k
    assert pruned.scored < everything.scored  # it did prune
    assert pruned.called[0].key == everything.called[0].key


def test_the_injected_cross_is_found_first(sources):
    result = run(sources, min_support=50)
    top = result.called[0]
    assert top.key == (("a", "a1"), ("b", "b2"))
    assert top.metric_current == pytest.approx(0.4, abs=0.08)
    assert top.significant
    # the parents it explains are not listed on their own
    assert (("a", "a1"),) not in [s.key for s in result.called]


def test_slice_hard_in_the_baseline_too_is_not_called(sources):
    result = run(sources, min_support=50)
    assert (("d", "d1"),) not in [s.key for s in result.called]


def test_score_holds_a_new_slice_to_the_baseline_overall():
    overall_now = Stats(n=1000, labelled=1000, correct=900)
    overall_before = Stats(n=1000, labelled=1000, correct=950)
    new = score((("x", "new"),), Stats(n=100, labelled=100, correct=20), None,
                overall_now, overall_before, "accuracy")  # fmt: skip
    assert new.baseline_from == "overall"
    assert new.metric_baseline == pytest.approx(0.95)
    assert new.impact == pytest.approx(0.1 * (0.95 - 0.2))
    assert new.arize_impact == pytest.approx((880 / 900) - 0.9)


def test_sampled_search_marks_its_requests_and_rescores_the_leaders_exactly(sources):
    """The pandas backend answers sampled requests exactly, so the sampled path must end
    with the same ranking as the exact one, having sent sample-marked cross requests."""
    current, baseline = sources
    seen = []

    def fetch(requests):
        seen.extend(requests)
        return current.buckets(requests), baseline.buckets(requests)

    exact = run(sources, top_k=3, min_support=50)
    sampled = search(
        DIMENSIONS,
        fetch,
        current.overall(),
        baseline.overall(),
        SliceSettings(top_k=3, min_support=50, sample_above=1000, sample_rows=500),
        metric="accuracy",
        alpha=0.01,
    )
    assert sampled.sampled and not exact.sampled
    assert sampled.rescored >= 9  # top_k × 3 leading crosses and narrower ones inside them
    assert [(s.key, s.impact) for s in sampled.top] == [(s.key, s.impact) for s in exact.top]
    crosses = [r for r in seen if len(r.dimensions) > 1]
    assert crosses and any(r.sample == 500 for r in crosses)
    assert any(r.sample is None for r in crosses)  # the exact rescoring requests
    assert len(sampled.levels) == len(exact.levels) + 1


MERCHANTS = {"merchant": [f"m{i}" for i in range(12)], "category": [f"c{i}" for i in range(6)],
             "state": [f"s{i}" for i in range(6)], "device": ["d0", "d1"]}  # fmt: skip


def test_sampled_estimates_that_undercount_still_give_the_exact_report(tmp_path):
    """Estimates steer the search; every count that ranks, folds or contains is exact.

    The bad merchant is always category c0 in state s0, so ``c0 ∧ s0`` holds it.
    The fake sampler undercounts every sampled cross by 15 %, as a small sample
    may: redundancy (merchant ∧ c0 is merchant) and containment (the merchant
    lies inside c0 ∧ s0) judged on those estimates would report other slices.
    """
    from dataclasses import fields as stat_fields

    dimensions = [Dimension(name, f"features.{name}", "categorical") for name in MERCHANTS]
    bad, tied = {"merchant": "m0"}, {"category": "c0", "state": "s0"}
    scope = Scope("m", None, None, None)
    current, baseline = (
        FrameSource(load_events(write_events(
            tmp_path / f"{name}.jsonl", seed=seed, broken=broken, n=12_000, values=MERCHANTS,
            tied=tied if broken else None,
        )).frame, scope)
        for name, seed, broken in (("now", 3, bad), ("before", 4, {}))
    )  # fmt: skip
    under = 0.85

    def fetch(requests, *, noisy=True):
        now, before = current.buckets(requests), baseline.buckets(requests)
        for i, request in enumerate(requests):
            if noisy and request.sample and now[i] is not None:
                now[i] = {
                    key: Stats(*(getattr(stats, f.name) * under for f in stat_fields(stats)))
                    for key, stats in now[i].items()
                }
        return now, before

    def traced(**sampling):
        settings = SliceSettings(top_k=3, min_support=50, **sampling)
        return search(
            dimensions, fetch, current.overall(), baseline.overall(), settings,
            metric="accuracy", alpha=0.01,
        )  # fmt: skip

    exact = traced()
    sampled = traced(sample_above=1000, sample_rows=500)
    assert sampled.sampled and not exact.sampled
    assert exact.called[0].key == (("merchant", "m0"),)
    assert [s.key for s in sampled.called] == [s.key for s in exact.called]
    assert [s.key for s in sampled.ranked] == [s.key for s in exact.ranked]
