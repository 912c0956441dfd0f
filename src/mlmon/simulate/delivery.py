"""A regression world: food-delivery times in minutes.

The model predicts a delivery's minutes from the order (city, vehicle,
cuisine, distance, items, preparation time, hour). ``e_cargo`` is a vehicle
the training data never has: its incident
(:func:`mlmon.simulate.incidents.unseen_vehicle`) dispatches it in one city.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

CITIES = ("paris", "lyon", "marseille", "lille", "nantes")
CITY_DELAY = {"paris": 4.0, "lyon": 1.0, "marseille": 2.0, "lille": 0.0, "nantes": -1.0}
VEHICLES = ("bike", "scooter", "car")
#: minutes per kilometre
PACE = {"bike": 4.0, "scooter": 2.8, "car": 3.3, "e_cargo": 7.5}
CUISINES = ("pizza", "sushi", "burger", "indian", "salad")
NOISE_MINUTES = 3.0
NEW_VEHICLE = "e_cargo"
NEW_VEHICLE_CITY = "lyon"


def _pick(rng: np.random.Generator, values: tuple[str, ...], weights, n: int) -> np.ndarray:
    return rng.choice(np.array(values, dtype=object), n, p=np.asarray(weights) / np.sum(weights))


def draw_orders(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "city": _pick(rng, CITIES, [0.35, 0.2, 0.2, 0.15, 0.1], n),
            "vehicle": _pick(rng, VEHICLES, [0.45, 0.4, 0.15], n),
            "cuisine": _pick(rng, CUISINES, [0.3, 0.2, 0.25, 0.15, 0.1], n),
            "distance_km": np.round(np.clip(rng.gamma(2.0, 1.5, n), 0.3, None), 2),
            "items": (rng.poisson(1.5, n) + 1).astype(float),
            "prep_minutes": np.round(rng.lognormal(np.log(12.0), 0.3, n), 1),
            "hour": rng.integers(10, 24, n).astype(float),
        }
    )


def delivery_minutes(frame: pd.DataFrame) -> np.ndarray:
    """The expected minutes of each order (noise is added by the domain)."""
    hour = frame["hour"].to_numpy(dtype=float)
    rush = np.isin(hour, (12.0, 13.0, 19.0, 20.0, 21.0)) * 6.0
    pace = frame["vehicle"].map(PACE).to_numpy(dtype=float)
    return (
        frame["prep_minutes"].to_numpy(dtype=float)
        + pace * frame["distance_km"].to_numpy(dtype=float)
        + 2.0 * np.sqrt(frame["items"].to_numpy(dtype=float))
        + frame["city"].map(CITY_DELAY).to_numpy(dtype=float)
        + rush
        + 5.0
    )


@dataclass(frozen=True)
class RegressionDomain:
    """A world whose label is a number; the same shape as a classification Domain."""

    name: str
    categorical: tuple[str, ...]
    numeric: tuple[str, ...]
    label_column: str
    draw: Callable[[np.random.Generator, int], pd.DataFrame]
    mean: Callable[[pd.DataFrame], np.ndarray]
    noise: float
    classes: tuple[str, ...] = ()
    task: str = "regression"

    @property
    def features(self) -> tuple[str, ...]:
        return self.categorical + self.numeric

    def label(self, rng: np.random.Generator, frame: pd.DataFrame) -> np.ndarray:
        noisy = self.mean(frame) + rng.normal(0.0, self.noise, len(frame))
        return np.round(np.clip(noisy, 1.0, None), 1)


DELIVERY = RegressionDomain(
    name="delivery",
    categorical=("city", "vehicle", "cuisine"),
    numeric=("distance_km", "items", "prep_minutes", "hour"),
    label_column="minutes",
    draw=draw_orders,
    mean=delivery_minutes,
    noise=NOISE_MINUTES,
)


__all__ = ["DELIVERY", "RegressionDomain", "delivery_minutes", "draw_orders"]
