"""Incidents of the churn, credit, ads and delivery scenarios, each with the truth it injects.

An incident changes the reality the model meets before the labels are drawn
(a surcharge in one region, a new kind of applicant), hides values from the
model after they are drawn (a partner API that stops sending income), or
breaks the labels alone (a pixel that double-fires). Each returns the
actuals and the truth entries: kind, feature, slice, span, events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from mlmon.simulate.delivery import DELIVERY, NEW_VEHICLE, NEW_VEHICLE_CITY, RegressionDomain
from mlmon.simulate.domains import (
    ADS,
    BROKEN_PUBLISHER,
    CHURN,
    CREDIT,
    NEW_EMPLOYMENT,
    Domain,
    usage_from_charges,
)

#: Incidents start halfway through the window (healthy before).
START = 0.5
SURCHARGE = 100.0  # added to the south's monthly bills
SURCHARGE_REGION = "south"
HIDDEN_INCOME_CHANNEL = "partner"
HIDDEN_INCOME_RATE = 0.85
GIG_CHANNEL = "mobile"
GIG_RATE = 0.6
DOUBLE_FIRE_RATE = 0.6  # of pub-01's non-clicks recorded as clicks
NEW_VEHICLE_RATE = 0.5  # of the city's orders served by the unseen vehicle

Truth = list[dict[str, Any]]
At = Callable[[float], str]
Incident = Callable[
    [Domain | RegressionDomain, pd.DataFrame, np.random.Generator, np.ndarray, At],
    tuple[np.ndarray, Truth],
]


def _span(at: At, events: int, **entry: Any) -> dict[str, Any]:
    return {**entry, "start": at(START), "end": at(1.0), "events": int(events)}


def segment_drift(
    domain: Domain, frame: pd.DataFrame, rng: np.random.Generator, position: np.ndarray, at: At
) -> tuple[np.ndarray, Truth]:
    """A surcharge in one region pushes its bills (and the usage that follows them) above
    the training range; the bills' global drift stays small, the region's accuracy falls."""
    hit = (position >= START) & (frame["region"] == SURCHARGE_REGION).to_numpy()
    charges = frame.loc[hit, "monthly_charges"].to_numpy() + SURCHARGE
    frame.loc[hit, "monthly_charges"] = np.round(charges, 2)
    frame.loc[hit, "data_usage_gb"] = usage_from_charges(rng, charges)
    truth = _span(
        at,
        hit.sum(),
        kind="drift",
        feature="monthly_charges",
        correlated=["data_usage_gb"],
        slice={"region": SURCHARGE_REGION},
        within_slice=True,
        shift=f"+{SURCHARGE:g} above the training range",
    )
    return domain.label(rng, frame), [truth]


def two_incidents(
    domain: Domain, frame: pd.DataFrame, rng: np.random.Generator, position: np.ndarray, at: At
) -> tuple[np.ndarray, Truth]:
    """Mobile starts taking gig workers (unseen, risky); the partner API stops sending income,
    which in training was missing only for safe applicants (so the model now waves them by)."""
    late = position >= START
    n = len(frame)
    gig = late & (frame["channel"] == GIG_CHANNEL).to_numpy() & (rng.random(n) < GIG_RATE)
    frame.loc[gig, "employment"] = NEW_EMPLOYMENT
    actual = domain.label(rng, frame)  # reality, before the partner hides the income
    hidden = (
        late
        & (frame["channel"] == HIDDEN_INCOME_CHANNEL).to_numpy()
        & (rng.random(n) < HIDDEN_INCOME_RATE)
    )
    frame.loc[hidden, "income"] = np.nan
    return actual, [
        _span(
            at,
            gig.sum(),
            kind="unseen_category",
            feature="employment",
            value=NEW_EMPLOYMENT,
            slice={"employment": NEW_EMPLOYMENT},
            segment={"channel": GIG_CHANNEL},
        ),
        _span(
            at,
            hidden.sum(),
            kind="missing",
            feature="income",
            rate=HIDDEN_INCOME_RATE,
            slice={"channel": HIDDEN_INCOME_CHANNEL, "income": "(missing)"},
            segment={"channel": HIDDEN_INCOME_CHANNEL},
        ),
    ]


def double_fired_clicks(
    domain: Domain, frame: pd.DataFrame, rng: np.random.Generator, position: np.ndarray, at: At
) -> tuple[np.ndarray, Truth]:
    """pub-01's pixel double-fires: many non-clicks come back as clicks. Its traffic
    overlaps the prior_clicks bin that holds most traffic."""
    actual = domain.label(rng, frame)
    broken = (
        (position >= START)
        & (frame["publisher"] == BROKEN_PUBLISHER).to_numpy()
        & (actual == domain.classes[1])
        & (rng.random(len(frame)) < DOUBLE_FIRE_RATE)
    )
    actual = np.where(broken, domain.classes[0], actual)
    truth = _span(
        at,
        broken.sum(),
        kind="label",
        feature="publisher",
        value=BROKEN_PUBLISHER,
        slice={"publisher": BROKEN_PUBLISHER},
        overlaps={"prior_clicks": 0.0},
    )
    return actual, [truth]


def unseen_vehicle(
    domain: RegressionDomain,
    frame: pd.DataFrame,
    rng: np.random.Generator,
    position: np.ndarray,
    at: At,
) -> tuple[np.ndarray, Truth]:
    """Lyon dispatches e-cargo bikes (never seen in training, slower per km) on half its
    orders: the model takes the unknown vehicle as missing and under-predicts them."""
    hit = (
        (position >= START)
        & (frame["city"] == NEW_VEHICLE_CITY).to_numpy()
        & (rng.random(len(frame)) < NEW_VEHICLE_RATE)
    )
    frame.loc[hit, "vehicle"] = NEW_VEHICLE
    truth = _span(
        at,
        hit.sum(),
        kind="unseen_category",
        feature="vehicle",
        value=NEW_VEHICLE,
        slice={"vehicle": NEW_VEHICLE},
        segment={"city": NEW_VEHICLE_CITY},
    )
    return domain.label(rng, frame), [truth]


def nothing(
    domain: Domain, frame: pd.DataFrame, rng: np.random.Generator, position: np.ndarray, at: At
) -> tuple[np.ndarray, Truth]:
    """Healthy traffic; prepaid churns at random, as it did in training (a hard slice)."""
    return domain.label(rng, frame), [
        {"kind": "hard_slice", "slice": {"plan": "prepaid"}, "changed": False}
    ]


INCIDENTS: dict[str, tuple[Domain | RegressionDomain, Incident]] = {
    "churn-segment-drift": (CHURN, segment_drift),
    "credit-two-incidents": (CREDIT, two_incidents),
    "ads-overlapping-slices": (ADS, double_fired_clicks),
    "churn-hard-slices": (CHURN, nothing),
    "delivery-unseen-vehicle": (DELIVERY, unseen_vehicle),
}
