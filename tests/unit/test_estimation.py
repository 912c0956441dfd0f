"""CBPE wired in: the calibration a profile stores, the score counts the pandas backend
gives, the estimator for the report's positive class, and the fallback without one."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import precision_score, recall_score

from mlmon.analysis.calibration import bin_counts
from mlmon.analysis.estimation import ScoreCalibration, estimator_for
from mlmon.analysis.source import Scope
from mlmon.baseline.build import build_profile
from mlmon.baseline.profile import Profile
from mlmon.errors import ProfileError, UsageError
from mlmon.sources.frame import FrameSource

RNG = np.random.default_rng(2026)


def table(n: int = 20_000, threshold: float = 0.4, good: str = "approved") -> pd.DataFrame:
    """Scores that are a monotone, miscalibrated function of P(good); the model says
    ``good`` from ``threshold`` on."""
    truth = RNG.beta(2, 2, n)
    labels = np.where(RNG.random(n) < truth, good, "declined")
    scores = np.round(truth**2, 3)  # squared: not calibrated
    return pd.DataFrame(
        {
            "income": RNG.normal(50, 10, n),
            "label": labels,
            "predicted": np.where(scores >= threshold, good, "declined"),
            "score": scores,
        }
    )


def profile_of(frame: pd.DataFrame, **columns) -> Profile:
    return build_profile(
        frame,
        model="m",
        version="v1",
        name="training",
        created_at="2026-11-01T00:00:00.000Z",
        **{"label_column": "label", "prediction_column": "predicted", "score_column": "score"}
        | columns,
    )


def test_registration_stores_a_calibration_that_survives_json():
    profile = profile_of(table())
    stored = Profile.from_dict(json.loads(json.dumps(profile.to_dict())))
    assert stored.calibration == profile.calibration
    calibration = ScoreCalibration.from_dict(stored.calibration)
    assert calibration.score_label == "approved"  # the class the score grows with
    assert calibration.rule.threshold == 0.4 and calibration.rule_misses == 0
    assert calibration.map.method == "isotonic"  # squared scores: calibration helps
    assert sum(calibration.map.positive) == profile.labels["approved"]


def test_no_calibration_without_a_score_binary_labels_or_for_regression():
    frame = table(2_000)
    assert profile_of(frame, score_column=None).calibration is None
    three = frame.assign(label=np.where(frame.index % 3 == 0, "maybe", frame["label"]))
    assert profile_of(three).calibration is None
    numeric = frame.assign(label=RNG.normal(0, 1, len(frame)), predicted=0.0)
    assert profile_of(numeric).calibration is None
    assert "calibration" not in profile_of(frame, score_column=None).to_dict()


def test_scores_outside_0_1_are_refused_with_the_column_named():
    with pytest.raises(ProfileError, match=r"score column: .*outside \[0, 1\]"):
        profile_of(table(2_000).assign(score=lambda f: f["score"] * 3))


def test_without_a_prediction_column_the_threshold_is_half():
    calibration = ScoreCalibration.from_dict(
        profile_of(table(5_000), prediction_column=None).calibration
    )
    assert calibration.rule.threshold == 0.5 and calibration.rule_misses is None
    assert calibration.score_label == "approved"


@pytest.mark.parametrize("positive", ["approved", "declined"])
def test_precision_and_recall_are_the_report_positive_class(positive):
    """Whichever class the report calls positive, the estimates are its, and they are the
    realized ones where the window is the baseline's population."""
    frame = table(200_000)
    choice = estimator_for(profile_of(frame).calibration, positive)
    estimator = choice.estimator
    assert choice.calibrated and choice.classes_known
    assert estimator.score_class_positive is (positive == "approved")
    estimate = estimator.estimate(bin_counts(frame["score"], estimator.calibration.edges))
    y, said = frame["label"] == positive, frame["predicted"] == positive
    assert estimate.precision.value == pytest.approx(precision_score(y, said), abs=0.01)
    assert estimate.recall.value == pytest.approx(recall_score(y, said), abs=0.01)
    assert estimate.accuracy.value == pytest.approx(float((y == said).mean()), abs=0.01)
    other = estimator_for(
        profile_of(frame).calibration, "declined" if positive == "approved" else "approved"
    ).estimator.estimate(bin_counts(frame["score"], estimator.calibration.edges))
    assert other.accuracy.value == pytest.approx(estimate.accuracy.value, abs=1e-12)
    assert other.roc_auc.value == pytest.approx(estimate.roc_auc.value, abs=1e-12)


def events_frame(n: int = 3_000) -> pd.DataFrame:
    start = pd.Timestamp("2026-11-01T00:00:00Z")
    stamps = start + pd.to_timedelta(RNG.uniform(0, 3 * 86400, n), unit="s")
    scores = RNG.uniform(0, 1, n)
    scores[:3] = (0.0, 1.0, 0.5)  # both ends and an edge
    frame = pd.DataFrame(
        {
            "@timestamp": stamps.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "model.name": "m",
            "model.version": "v1",
            "prediction.score": scores,
        }
    )
    frame.loc[5:9, "prediction.score"] = np.nan  # unscored rows are not counted
    return frame


def test_frame_score_bins_count_as_a_range_aggregation():
    frame = events_frame()
    source = FrameSource(frame, Scope("m"))
    edges = tuple(i / 200 for i in range(201))
    counted = source.score_bins(edges, "86400s")
    scores = frame["prediction.score"].dropna()
    assert counted.total == bin_counts(scores, edges)
    assert [start for start, _ in counted.buckets] == [
        "2026-11-01T00:00:00.000Z",
        "2026-11-02T00:00:00.000Z",
        "2026-11-03T00:00:00.000Z",
    ]
    assert tuple(np.sum([c for _, c in counted.buckets], axis=0)) == counted.total
    assert [s for s, _ in counted.buckets] == [s for s, _ in source.timeline("86400s")]
    assert source.score_bins(edges, None).total == counted.total
    empty = FrameSource(frame.assign(**{"prediction.score": np.nan}), Scope("m"))
    assert empty.score_bins(edges, None) is None


def test_an_unreadable_stored_calibration_is_one_clear_error():
    calibration = dict(profile_of(table(3_000)).calibration)
    calibration["threshold"] = 0.123  # not a bin edge
    with pytest.raises(UsageError, match="not a score bin edge"):
        estimator_for(calibration, "approved")
    del calibration["score_label"]
    with pytest.raises(UsageError, match="calibration in the profile is unreadable"):
        estimator_for(calibration, "approved")
