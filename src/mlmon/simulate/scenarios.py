"""Incident scenarios: what is injected into production traffic, and when.

Every scenario shares the world, the model and the healthy first part of
the window; each injects its incident into the reality the model meets (or,
for the label issue, into the labels only). Times are fractions of the
window so any ``--days`` works.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    new_merchant: bool = False  # scammeds.com in CA, unseen in training, ~15 % of volume
    na_spike: bool = False  # account_age_days mostly missing for part of the window
    canary: bool = False  # v2 serves a share of traffic, much slower
    gradual_drift: bool = False  # amount grows steadily over the days
    label_issue: bool = False  # one zip code's actuals come from a broken labeller
    shadow: bool = False  # a v2 candidate shadows every request (mlmon.simulate.shadow)
    chain: bool = False  # an upstream model's score feeds this one (mlmon.simulate.chain)
    #: a LightGBM model logs each prediction's contributions (mlmon.simulate.attribution)
    attribution: bool = False
    #: "fraud", or another world (churn, credit, ads, delivery) whose incident is in
    #: :mod:`mlmon.simulate.incidents` under the scenario's name
    domain: str = "fraud"


#: When the incident starts, as a fraction of the window (healthy before).
INCIDENT_START = 0.6
NEW_MERCHANT_SHARE = 0.15
NA_SPIKE = (0.7, 0.85)  # window fraction
NA_SPIKE_RATE = 0.7
CANARY_SHARE = 0.2
DRIFT_FACTOR = 2.5  # amount multiplier reached at the end of the window
LABEL_ISSUE_ZIP = "94107"
EARLY_ACTUALS = 0.05  # share of actuals sent before their prediction

SCENARIOS = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            "fraud-incident",
            "A new merchant scammeds.com (CA) takes ~15% of volume and the model misses its "
            "fraud; account_age_days goes mostly missing for a while; a slow v2 canary.",
            new_merchant=True,
            na_spike=True,
            canary=True,
        ),
        Scenario("healthy", "The same model and traffic with nothing injected."),
        Scenario(
            "shadow",
            "A v2 candidate shadows every request of v1: better on electronics, worse in "
            "TX, about 30 ms slower; its answers are logged, not served.",
            shadow=True,
        ),
        Scenario(
            "chain",
            "An upstream fraud model's score is this model's input (trace.parent_prediction_id); "
            "the upstream service ships a calibration bug and both models' accuracy falls.",
            chain=True,
        ),
        Scenario(
            "attribution-shift",
            "A LightGBM fraud model logs each prediction's feature contributions; a sign-up "
            "promotion brings brand-new accounts (35% of traffic), the model leans on "
            "account_age_days far more than in training, and accuracy falls.",
            attribution=True,
        ),
        Scenario(
            "gradual-drift", "Transaction amounts grow steadily over the days.", gradual_drift=True
        ),
        Scenario(
            "label-issue",
            "Actuals for zip code 94107 come from a broken labeller that gives the same "
            "inputs conflicting labels; the inputs do not drift.",
            label_issue=True,
        ),
        Scenario(
            "churn-segment-drift",
            "Churn model: a surcharge in the south pushes monthly_charges (and data_usage_gb, "
            "which follows it) above the training range there only; the feature's global "
            "drift stays under the PSI threshold and the south's accuracy falls.",
            domain="churn",
        ),
        Scenario(
            "credit-two-incidents",
            "Credit model, two incidents at once: the mobile channel starts taking gig "
            "workers (an employment type never seen in training) and the partner channel "
            "stops sending income for most applications.",
            domain="credit",
        ),
        Scenario(
            "ads-overlapping-slices",
            "Click model: pub-01's pixel double-fires (many non-clicks come back as clicks); "
            "its traffic overlaps the prior_clicks bin that holds 80% of all traffic.",
            domain="ads",
        ),
        Scenario(
            "delivery-unseen-vehicle",
            "Delivery-time regressor (minutes): Lyon starts dispatching e-cargo bikes, a "
            "vehicle never seen in training and slower per km, on half its orders; the "
            "model under-predicts them and MAE rises there.",
            domain="delivery",
        ),
        Scenario(
            "churn-hard-slices",
            "Churn model, healthy: prepaid customers churn at random, as hard to predict as "
            "in training; nothing changed, nothing must be called.",
            domain="churn",
        ),
    )
}
