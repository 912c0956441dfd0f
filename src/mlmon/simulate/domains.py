"""Worlds other than fraud — churn, credit, ad clicks — so the analyzer is not fitted to one.

Each :class:`Domain` draws healthy rows (seeded numpy), has a true process
(a logit over the rows) and names its label column and classes. As in the
fraud world, an incident changes the reality the model meets (or, for a
label issue, only the labels); the model's errors follow from that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

Draw = Callable[[np.random.Generator, int], pd.DataFrame]
Logit = Callable[[pd.DataFrame], np.ndarray]


@dataclass(frozen=True)
class Domain:
    name: str
    categorical: tuple[str, ...]
    numeric: tuple[str, ...]
    classes: tuple[str, str]  # (positive, negative)
    label_column: str  # in the training file
    draw: Draw
    logit: Logit

    @property
    def features(self) -> tuple[str, ...]:
        return self.categorical + self.numeric

    def label(self, rng: np.random.Generator, frame: pd.DataFrame) -> np.ndarray:
        probability = 1.0 / (1.0 + np.exp(-self.logit(frame)))
        return np.where(rng.random(len(frame)) < probability, *self.classes)


def _pick(rng: np.random.Generator, values: tuple[str, ...], weights, n: int) -> np.ndarray:
    return rng.choice(np.array(values, dtype=object), n, p=np.asarray(weights) / np.sum(weights))


def _effect(frame: pd.DataFrame, column: str, effects: dict[str, float]) -> np.ndarray:
    return frame[column].map(effects).fillna(0.0).to_numpy(dtype=float)


# --- churn: a telecom's subscribers ------------------------------------------------

CHURN_REGIONS = ("north", "south", "east", "west", "central")
PLANS = ("basic", "standard", "premium", "prepaid")
PLAN_CHARGES = {"basic": 35.0, "standard": 60.0, "premium": 95.0, "prepaid": 30.0}
CONTRACTS = ("monthly", "annual", "two_year")
#: Above this monthly bill customers leave fast; training hardly reaches it.
PRICE_SHOCK_AT = 130.0


def usage_from_charges(rng: np.random.Generator, charges: np.ndarray) -> np.ndarray:
    """Data usage follows the bill (overage billing): the correlated second feature."""
    return np.round(np.clip(0.3 * charges + rng.normal(0.0, 4.0, charges.size), 0.0, None), 1)


def draw_churn(rng: np.random.Generator, n: int) -> pd.DataFrame:
    plan = _pick(rng, PLANS, [0.35, 0.3, 0.2, 0.15], n)
    charges = np.round(np.array([PLAN_CHARGES[p] for p in plan]) * rng.lognormal(0.0, 0.15, n), 2)
    return pd.DataFrame(
        {
            "region": _pick(rng, CHURN_REGIONS, [0.25, 0.2, 0.2, 0.2, 0.15], n),
            "plan": plan,
            "contract": _pick(rng, CONTRACTS, [0.5, 0.3, 0.2], n),
            "tenure_months": np.floor(rng.gamma(1.5, 16.0, n)) + 1.0,
            "monthly_charges": charges,
            "data_usage_gb": usage_from_charges(rng, charges),
            "support_calls": rng.poisson(1.2, n).astype(float),
        }
    )


def churn_logit(frame: pd.DataFrame) -> np.ndarray:
    """Monthly contracts, short tenure and support calls churn; a bill above the shock
    point churns hard. Prepaid customers churn at random: a slice that is always hard."""
    charges = frame["monthly_charges"].to_numpy(dtype=float)
    logit = (
        -1.3
        + _effect(frame, "contract", {"monthly": 0.9, "annual": -0.4, "two_year": -1.4})
        - 0.035 * (frame["tenure_months"].to_numpy(dtype=float) - 20.0)
        + 0.45 * (frame["support_calls"].to_numpy(dtype=float) - 1.2)
        + 0.01 * (charges - 55.0)
        + 0.15 * np.clip(charges - PRICE_SHOCK_AT, 0.0, None)
    )
    return np.where((frame["plan"] == "prepaid").to_numpy(), -0.1, logit)


CHURN = Domain(
    name="churn",
    categorical=("region", "plan", "contract"),
    numeric=("tenure_months", "monthly_charges", "data_usage_gb", "support_calls"),
    classes=("churn", "stay"),
    label_column="churned",
    draw=draw_churn,
    logit=churn_logit,
)


# --- credit: loan applications ------------------------------------------------------

CHANNELS = ("web", "branch", "partner", "mobile")
EMPLOYMENT = ("salaried", "self_employed", "retired", "student")
EMPLOYMENT_RISK = {
    "salaried": -0.3,
    "self_employed": 0.3,
    "retired": -0.2,
    "student": 0.6,
    "gig": 2.5,  # never seen in training
}
PURPOSES = ("car", "home", "education", "debt_consolidation", "other")
NEW_EMPLOYMENT = "gig"
VERIFIED_SHARE = 0.04  # no income field: the bank link vouches for them
VERIFIED_INCOME = 150.0  # what their (unseen) income is worth to the true process


def draw_credit(rng: np.random.Generator, n: int) -> pd.DataFrame:
    previous = np.where(rng.random(n) < 0.85, 0.0, rng.poisson(1.0, n) + 1.0)
    income = np.round(rng.lognormal(np.log(55.0), 0.5, n), 1)
    # applicants who link a verified bank account skip the income field: few, and safe
    income[rng.random(n) < VERIFIED_SHARE] = np.nan
    return pd.DataFrame(
        {
            "channel": _pick(rng, CHANNELS, [0.35, 0.2, 0.2, 0.25], n),
            "employment": _pick(rng, EMPLOYMENT, [0.55, 0.2, 0.15, 0.1], n),
            "purpose": _pick(rng, PURPOSES, [0.3, 0.2, 0.15, 0.25, 0.1], n),
            "income": income,
            "debt_ratio": np.round(rng.beta(2.0, 5.0, n), 3),
            "credit_score": np.round(np.clip(rng.normal(690.0, 60.0, n), 350, 850)),
            "loan_amount": np.round(rng.lognormal(np.log(15.0), 0.7, n), 1),
            "previous_defaults": previous,  # 85 % zeros: one numeric bin holds most traffic
        }
    )


def credit_logit(frame: pd.DataFrame) -> np.ndarray:
    income = frame["income"].to_numpy(dtype=float)
    income = np.where(np.isfinite(income), income, VERIFIED_INCOME)
    return (
        -1.0
        - 2.5 * np.log(income / 55.0)
        + 3.0 * (frame["debt_ratio"].to_numpy(dtype=float) - 0.29)
        - 0.01 * (frame["credit_score"].to_numpy(dtype=float) - 690.0)
        + 0.4 * np.log(frame["loan_amount"].to_numpy(dtype=float) / 15.0)
        + 0.8 * frame["previous_defaults"].to_numpy(dtype=float)
        + _effect(frame, "employment", EMPLOYMENT_RISK)
    )


CREDIT = Domain(
    name="credit",
    categorical=("channel", "employment", "purpose"),
    numeric=("income", "debt_ratio", "credit_score", "loan_amount", "previous_defaults"),
    classes=("default", "repaid"),
    label_column="defaulted",
    draw=draw_credit,
    logit=credit_logit,
)


# --- ads: clicks on served impressions ----------------------------------------------

N_PUBLISHERS = 30
AD_FORMATS = ("banner", "video", "native")
AD_DEVICES = ("mobile", "desktop", "tablet")
BROKEN_PUBLISHER = "pub-01"


def _publisher_quality() -> np.ndarray:
    return np.random.default_rng(41).normal(0.0, 0.5, N_PUBLISHERS)


def _publisher_weights() -> np.ndarray:
    weights = np.random.default_rng(42).pareto(1.5, N_PUBLISHERS) + 0.3
    weights[1] = weights.max() * 1.2  # pub-01 is the biggest publisher (~15 %)
    return weights / weights.sum()


PUBLISHERS = tuple(f"pub-{i:02d}" for i in range(N_PUBLISHERS))


def draw_ads(rng: np.random.Generator, n: int) -> pd.DataFrame:
    prior = np.where(rng.random(n) < 0.8, 0.0, rng.poisson(2.0, n) + 1.0)
    return pd.DataFrame(
        {
            "publisher": _pick(rng, PUBLISHERS, _publisher_weights(), n),
            "ad_format": _pick(rng, AD_FORMATS, [0.5, 0.2, 0.3], n),
            "device": _pick(rng, AD_DEVICES, [0.6, 0.3, 0.1], n),
            "prior_clicks": prior,  # 80 % zeros: one bin holds most traffic
            "slot": rng.integers(1, 6, n).astype(float),
            "hour": rng.integers(0, 24, n).astype(float),
        }
    )


def ads_logit(frame: pd.DataFrame) -> np.ndarray:
    quality = dict(zip(PUBLISHERS, _publisher_quality(), strict=True))
    return (
        -1.6
        + _effect(frame, "ad_format", {"banner": -0.6, "video": 0.5, "native": 0.2})
        + _effect(frame, "device", {"mobile": 0.1, "desktop": -0.2, "tablet": 0.2})
        + 0.6 * np.minimum(frame["prior_clicks"].to_numpy(dtype=float), 5.0)
        - 0.25 * (frame["slot"].to_numpy(dtype=float) - 1.0)
        + _effect(frame, "publisher", quality)
    )


ADS = Domain(
    name="ads",
    categorical=("publisher", "ad_format", "device"),
    numeric=("prior_clicks", "slot", "hour"),
    classes=("click", "no_click"),
    label_column="clicked",
    draw=draw_ads,
    logit=ads_logit,
)

DOMAINS = {d.name: d for d in (CHURN, CREDIT, ADS)}
