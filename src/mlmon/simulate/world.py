"""Card transactions and the true fraud process behind them (pure, seeded numpy).

Fraud labels come from one generating process for every scenario: the
model's errors in an incident come from a real model meeting shifted inputs
(a merchant it never saw, values gone missing), not from scripted flips.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

CATEGORIES = ("grocery", "electronics", "travel", "gaming", "pharmacy", "fashion", "fuel")
CATEGORY_RISK = {
    "grocery": -0.8,
    "electronics": 0.7,
    "travel": 0.4,
    "gaming": 0.9,
    "pharmacy": 0.1,
    "fashion": 0.0,
    "fuel": -0.5,
}
CATEGORY_AMOUNT = {
    "grocery": 3.4,
    "electronics": 5.2,
    "travel": 5.6,
    "gaming": 3.6,
    "pharmacy": 3.5,
    "fashion": 4.3,
    "fuel": 3.8,
}
STATES = ("CA", "NY", "TX", "FL", "WA", "IL", "PA", "OH", "GA", "NC")
STATE_WEIGHTS = np.array([0.2, 0.14, 0.13, 0.11, 0.08, 0.08, 0.07, 0.07, 0.06, 0.06])
DEVICES = ("ios", "android", "web")
DEVICE_WEIGHTS = np.array([0.45, 0.35, 0.2])
ZIPS = {
    state: [f"{10000 + 731 * i + 97 * j:05d}" for j in range(3)] for i, state in enumerate(STATES)
}
ZIPS["CA"][0] = "94107"
N_MERCHANTS = 200
NEW_MERCHANT = "scammeds.com"

FEATURES = (
    "merchant_name",
    "merchant_category",
    "state",
    "zip_code",
    "amount",
    "account_age_days",
    "device_type",
    "hour",
)
CATEGORICAL = ("merchant_name", "merchant_category", "state", "zip_code", "device_type")


@dataclass(frozen=True)
class Merchants:
    names: np.ndarray
    categories: np.ndarray
    risk: np.ndarray
    weights: np.ndarray


def merchants(seed: int) -> Merchants:
    """Two hundred merchants with a category, a popularity and a hidden risk."""
    rng = np.random.default_rng([seed, 1])
    names = np.array([f"shop-{i:03d}.com" for i in range(N_MERCHANTS)], dtype=object)
    categories = rng.choice(np.array(CATEGORIES, dtype=object), N_MERCHANTS)
    risk = rng.normal(0.0, 0.6, N_MERCHANTS)
    weights = rng.pareto(1.5, N_MERCHANTS) + 0.2
    return Merchants(names, categories, risk, weights / weights.sum())


def draw(rng: np.random.Generator, n: int, shops: Merchants) -> pd.DataFrame:
    """``n`` healthy transactions (no timestamps yet)."""
    pick = rng.choice(N_MERCHANTS, n, p=shops.weights)
    category = shops.categories[pick]
    states = rng.choice(np.array(STATES, dtype=object), n, p=STATE_WEIGHTS)
    zips = np.array(
        [ZIPS[s][k] for s, k in zip(states, rng.integers(0, 3, n), strict=True)], dtype=object
    )
    mu = np.array([CATEGORY_AMOUNT[c] for c in category])
    frame = pd.DataFrame(
        {
            "merchant_name": shops.names[pick],
            "merchant_category": category,
            "state": states,
            "zip_code": zips,
            "amount": np.round(rng.lognormal(mu, 0.7), 2),
            "account_age_days": np.floor(rng.gamma(1.3, 500.0, n)),
            "device_type": rng.choice(np.array(DEVICES, dtype=object), n, p=DEVICE_WEIGHTS),
            "hour": rng.integers(0, 24, n).astype(float),
        }
    )
    frame["merchant_risk"] = shops.risk[pick]
    return frame


def fraud_probability(frame: pd.DataFrame) -> np.ndarray:
    """The true process: large amounts, new accounts, night-time, web and risky merchants."""
    category = frame["merchant_category"].map(CATEGORY_RISK).fillna(0.0).to_numpy()
    age = frame["account_age_days"].fillna(frame["account_age_days"].median()).to_numpy()
    night = frame["hour"].isin([0.0, 1.0, 2.0, 3.0, 4.0]).to_numpy()
    logit = (
        -4.2
        + 0.55 * (np.log(frame["amount"].to_numpy()) - 4.0)
        - 0.9 * (np.log1p(age) - 6.0)
        + 1.1 * night
        + 0.8 * (frame["device_type"] == "web").to_numpy()
        + category
        + frame["merchant_risk"].to_numpy()
    )
    return 1.0 / (1.0 + np.exp(-logit))


def label(rng: np.random.Generator, frame: pd.DataFrame) -> np.ndarray:
    return np.where(rng.random(len(frame)) < fraud_probability(frame), "fraud", "legit")


@dataclass(frozen=True)
class History:
    """A model's training history: its merchants, the random stream that drew it (and
    goes on to draw the traffic), the rows with their labels, and how many train it
    (the rest is the reference)."""

    shops: Merchants
    rng: np.random.Generator
    frame: pd.DataFrame
    labels: np.ndarray
    train_rows: int


def training_history(seed: int, stream: int, rows: int = 20_000) -> History:
    """``rows`` labelled transactions, 75 % to train on; ``stream`` keeps scenarios' draws apart."""
    shops = merchants(seed)
    rng = np.random.default_rng([seed, stream])
    frame = draw(rng, rows, shops)
    return History(shops, rng, frame, label(rng, frame), int(rows * 0.75))
