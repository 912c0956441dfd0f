"""Model chains: which feature carries an upstream model's output, and when it is implicated."""

from __future__ import annotations

from mlmon.analysis.chain import finding, headline_suffix, match_links
from mlmon.analysis.result import UpstreamLink


def parent(score: float, model: str = "risk") -> dict:
    return {
        "model": {"name": model, "version": "v3"},
        "prediction": {"score": score, "label": "no"},
    }


def test_the_feature_equal_to_the_parents_score_is_the_link():
    samples = [
        ({"risk_score": 0.1 * i, "amount": 5.0, "kind": "no"}, parent(0.1 * i))
        for i in range(1, 10)
    ]
    links = match_links(samples)
    # "kind" equals the parent's label on every sample too: a label can be an input as well
    assert [(link.feature, link.model, link.matched) for link in links] == [
        ("kind", "risk", 9),
        ("risk_score", "risk", 9),
    ]
    assert links[1].version == "v3" and links[1].sampled == 9


def test_a_feature_that_matches_only_by_chance_is_not_a_link():
    samples = [({"x": 0.5}, parent(0.5))] + [({"x": 0.5}, parent(0.1 * i)) for i in range(1, 10)]
    assert match_links(samples) == ()
    assert match_links([]) == ()


def test_an_untraceable_upstream_is_said_so():
    link = UpstreamLink("risk_score", "risk", "v3", 9, 9)
    found = finding(link, "drifted", None, "no profile named 'training'")
    assert "risk could not be traced: no profile named 'training'" in found.evidence
    assert headline_suffix([found]) == " Upstream: risk_score (drifted) is model risk's output."
