"""Each scenario's injected effect is really in the generated data, at the stated size."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from mlmon.errors import UsageError
from mlmon.simulate import scenarios as sc
from mlmon.simulate.run import build_traffic

END = datetime(2026, 11, 25, tzinfo=timezone.utc)
EVENTS = 30_000


@pytest.fixture(scope="module")
def traffic():
    return {
        name: build_traffic(name, events=EVENTS, days=7, seed=5, end=END) for name in sc.SCENARIOS
    }


def accuracy(frame: pd.DataFrame) -> float:
    return float((frame["predicted"] == frame["actual"]).mean())


def late(frame: pd.DataFrame, fraction: float) -> pd.Series:
    """Rows at or after ``fraction`` of the declared 7-day window ending at END."""
    start = END - pd.Timedelta(days=7)
    return (frame["timestamp"] - start) >= pd.Timedelta(days=7) * fraction


def test_same_seed_same_events(traffic):
    again = build_traffic("fraud-incident", events=EVENTS, days=7, seed=5, end=END)
    pd.testing.assert_frame_equal(again.frame, traffic["fraud-incident"].frame)
    other = build_traffic("fraud-incident", events=EVENTS, days=7, seed=6, end=END)
    assert not other.frame["amount"].equals(traffic["fraud-incident"].frame["amount"])


def test_timestamps_are_back_dated_over_the_window(traffic):
    frame = traffic["healthy"].frame
    assert frame["timestamp"].min() >= datetime(2026, 11, 18, tzinfo=timezone.utc)
    assert frame["timestamp"].max() < END
    assert frame["timestamp"].is_monotonic_increasing
    days = pd.Series([t.date() for t in frame["timestamp"]]).value_counts()
    assert len(days) == 7 and days.min() > EVENTS / 7 * 0.8
    assert (frame["actual_timestamp"] >= frame["timestamp"]).all()


def test_healthy_is_as_good_as_its_baseline(traffic):
    healthy = traffic["healthy"]
    baseline = float((healthy.reference["predicted"] == healthy.reference["is_fraud"]).mean())
    assert abs(accuracy(healthy.frame) - baseline) < 0.01
    assert healthy.truth["injected"] == [
        {
            "kind": "late_actuals",
            "mean_delay_hours": 6.0,
            "sent_before_prediction_share": sc.EARLY_ACTUALS,
        }
    ]
    assert healthy.frame["account_age_days"].isna().sum() == 0
    assert set(healthy.frame["version"]) == {"v1"}


def test_fraud_incident_new_merchant_is_fifteen_percent_and_the_model_misses_it(traffic):
    incident = traffic["fraud-incident"]
    frame = incident.frame
    new = frame["merchant_name"] == "scammeds.com"
    assert not new[~late(frame, sc.INCIDENT_START)].any()
    share = new[late(frame, sc.INCIDENT_START)].mean()
    assert share == pytest.approx(sc.NEW_MERCHANT_SHARE, abs=0.01)
    assert (frame.loc[new, "state"] == "CA").all()
    assert "scammeds.com" not in set(incident.reference["merchant_name"])
    assert accuracy(frame[new]) < 0.1  # a real model meeting a merchant it never saw
    assert accuracy(frame[~new]) > 0.85
    injected = {item["kind"]: item for item in incident.truth["injected"]}
    assert injected["unseen_category"]["events"] == int(new.sum())
    assert injected["unseen_category"]["slice"] == {"merchant_name": "scammeds.com", "state": "CA"}


def test_fraud_incident_na_spike_and_slow_canary(traffic):
    frame = traffic["fraud-incident"].frame
    missing = frame["account_age_days"].isna()
    span = late(frame, sc.NA_SPIKE[0]) & ~late(frame, sc.NA_SPIKE[1])
    assert missing[span].mean() == pytest.approx(sc.NA_SPIKE_RATE, abs=0.03)
    assert not missing[~span].any()
    v2 = frame["version"] == "v2"
    assert v2.mean() == pytest.approx(sc.CANARY_SHARE, abs=0.01)
    assert frame.loc[v2, "latency_total"].median() > 10 * frame.loc[~v2, "latency_total"].median()
    early = frame["actual_first"].mean()
    assert early == pytest.approx(sc.EARLY_ACTUALS, abs=0.01)


def test_gradual_drift_moves_amount_steadily(traffic):
    frame = traffic["gradual-drift"].frame
    healthy = traffic["healthy"].frame
    first = ~late(frame, 1 / 7)
    last = late(frame, 6 / 7)
    assert frame.loc[first, "amount"].median() == pytest.approx(
        healthy.loc[first, "amount"].median(), rel=0.15
    )
    ratio = frame.loc[last, "amount"].median() / healthy.loc[last, "amount"].median()
    assert ratio == pytest.approx(sc.DRIFT_FACTOR * 0.96, rel=0.15)


def test_label_issue_gives_one_zip_conflicting_labels_without_input_drift(traffic):
    frame = traffic["label-issue"].frame
    healthy = traffic["healthy"].frame
    zip_rows = frame["zip_code"] == sc.LABEL_ISSUE_ZIP
    broken = zip_rows & late(frame, 0.5)
    assert broken.sum() > 300
    fraud_share = (frame.loc[broken, "actual"] == "fraud").mean()
    assert fraud_share == pytest.approx(0.5, abs=0.06)  # a coin, whatever the inputs
    assert accuracy(frame[broken]) < 0.6 < 0.9 < accuracy(frame[~zip_rows])
    for column in ("amount", "account_age_days", "hour"):  # the inputs did not move
        assert np.allclose(frame[column].fillna(-1), healthy[column].fillna(-1))


def _psi(reference: pd.Series, current: pd.Series) -> float:
    edges = np.unique(np.quantile(reference, np.arange(1, 10) / 10))
    before = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=10) + 0.5
    now = np.bincount(np.searchsorted(edges, current, side="right"), minlength=10) + 0.5
    before, now = before / before.sum(), now / now.sum()
    return float(np.sum((now - before) * np.log(now / before)))


def test_segment_drift_moves_one_region_above_the_training_range_only(traffic):
    from mlmon.simulate import incidents

    churn = traffic["churn-segment-drift"]
    frame, reference = churn.frame, churn.reference
    south = frame["region"] == incidents.SURCHARGE_REGION
    hit = south & late(frame, incidents.START)
    above = frame["monthly_charges"] > reference["monthly_charges"].max()
    assert above[hit].mean() > 0.2 and above[~hit].mean() < 0.01
    top_decile = reference["monthly_charges"].quantile(0.9)
    assert frame.loc[hit, "monthly_charges"].median() > top_decile
    assert _psi(reference["monthly_charges"], frame["monthly_charges"]) < 0.2  # globally small
    assert np.corrcoef(frame["monthly_charges"], frame["data_usage_gb"])[0, 1] > 0.9
    assert accuracy(frame[hit]) < accuracy(frame[south & ~hit]) - 0.1
    assert churn.truth["injected"][0]["slice"] == {"region": "south"}


def test_two_incidents_hit_two_segments(traffic):
    from mlmon.simulate import incidents

    credit = traffic["credit-two-incidents"]
    frame = credit.frame
    after = late(frame, incidents.START)
    gig = frame["employment"] == "gig"
    assert "gig" not in set(credit.reference["employment"])
    assert set(frame.loc[gig, "channel"]) == {"mobile"} and not gig[~after].any()
    mobile = (frame["channel"] == "mobile") & after
    assert gig[mobile].mean() == pytest.approx(incidents.GIG_RATE, abs=0.04)
    missing = frame["income"].isna()
    partner = (frame["channel"] == "partner") & after
    assert missing[partner].mean() == pytest.approx(0.85 + 0.15 * 0.04, abs=0.04)
    assert missing[~partner].mean() < 0.06  # the few verified applicants, as in training
    assert accuracy(frame[gig]) < 0.6 < 0.7 < accuracy(frame[~gig & ~partner])
    kinds = [e["kind"] for e in credit.truth["injected"]]
    assert kinds[:2] == ["unseen_category", "missing"]


def test_overlapping_slices_break_one_publishers_labels_only(traffic):
    ads = traffic["ads-overlapping-slices"]
    frame = ads.frame
    pub = frame["publisher"] == "pub-01"
    assert pub.mean() == pytest.approx(0.17, abs=0.03)
    assert (frame["prior_clicks"] == 0).mean() == pytest.approx(0.8, abs=0.02)
    broken = pub & late(frame, 0.5)
    assert accuracy(frame[broken]) < accuracy(frame[pub & ~late(frame, 0.5)]) - 0.3
    assert accuracy(frame[~pub]) > 0.8
    assert ads.truth["injected"][0]["kind"] == "label"


def test_hard_slices_are_as_hard_as_in_training(traffic):
    churn = traffic["churn-hard-slices"]
    frame, reference = churn.frame, churn.reference
    prepaid = frame["plan"] == "prepaid"
    before = (reference["predicted"] == reference["churned"])[reference["plan"] == "prepaid"]
    assert accuracy(frame[prepaid]) < 0.6 and before.mean() < 0.6
    assert accuracy(frame[prepaid]) == pytest.approx(before.mean(), abs=0.04)
    assert accuracy(frame) == pytest.approx(
        float((reference["predicted"] == reference["churned"]).mean()), abs=0.02
    )


def test_bad_arguments_are_usage_errors():
    with pytest.raises(UsageError, match="unknown scenario"):
        build_traffic("meteor", events=1000, days=1, seed=1, end=END)
    with pytest.raises(UsageError, match="--events"):
        build_traffic("healthy", events=5, days=1, seed=1, end=END)


def test_attribution_shift_logs_the_models_exact_contributions_and_new_accounts(traffic):
    shifted = traffic["attribution-shift"]
    frame = shifted.frame
    columns = [f"attr_{name}" for name in shifted.features]
    assert set(columns) <= set(frame.columns) and set(columns) <= set(shifted.reference.columns)
    # TreeSHAP is additive: log-odds of the score = the contributions + one bias, on every row
    logit = np.log(frame["score"] / (1.0 - frame["score"]))
    bias = logit - frame[columns].sum(axis=1)
    assert float(bias.max() - bias.min()) < 1e-4  # the contributions are rounded to 1e-6
    after = late(frame, sc.INCIDENT_START)
    newcomers = frame["account_age_days"] <= 14
    share = newcomers[after].mean() - newcomers[~after].mean()
    assert share == pytest.approx(0.35, abs=0.03)
    importance = frame.loc[after, "attr_account_age_days"].abs().mean()
    assert importance > 1.5 * shifted.reference["attr_account_age_days"].abs().mean()
    assert accuracy(frame[after]) < accuracy(frame[~after]) - 0.05
