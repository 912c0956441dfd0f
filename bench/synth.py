"""Synthetic 20-feature traffic for the benchmarks, generated in vectorised chunks.

8 categorical features (one of 500 merchants) and 12 numeric ones; a model
that is right ~95 % of the time; in the second half of the window a new
merchant takes 6 % of traffic and the model misses its fraud, and one
numeric feature goes missing on 30 % of events. Same seed, same events.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

CATEGORICAL = {
    "merchant": [f"m-{i:03d}" for i in range(500)],
    "state": ["CA", "NY", "TX", "FL", "WA", "IL", "PA", "OH", "GA", "NC"],
    "device": ["ios", "android", "web"],
    "channel": ["app", "web", "pos", "phone"],
    "category": ["food", "travel", "retail", "pharmacy", "gaming", "fuel", "cash", "other"],
    "country": [f"c{i:02d}" for i in range(20)],
    "plan": ["free", "basic", "plus", "pro", "team"],
    "browser": ["chrome", "safari", "firefox", "edge", "app", "other"],
}
NUMERIC = [f"x{i:02d}" for i in range(12)]
FEATURES = [*CATEGORICAL, *NUMERIC]
#: Which of the 20 stay when fewer are asked for: the incident's and the risk's first.
_KEPT_FIRST = ["merchant", "category", "x00", "x03", "state", "device", "x01", "x02"]
_NOT_FEATURES = {"label", "predicted", "score", "@timestamp", "prediction_id", "version", "latency"}
NEW_MERCHANT = "m-new-scam"
END = datetime(2026, 11, 20, tzinfo=timezone.utc)
DAYS = 7


@dataclass(frozen=True)
class FeatureSet:
    """The features of one benchmark model: two in five categorical, as the 20 are."""

    categorical: dict[str, list[str]]
    numeric: list[str]

    @property
    def names(self) -> list[str]:
        return [*self.categorical, *self.numeric]


def feature_set(count: int = 20) -> FeatureSet:
    """``count`` features; 20 is exactly :data:`CATEGORICAL` and :data:`NUMERIC` (same
    events as before). Fewer keep the incident's features; more add 12-value categories
    and lognormal numbers."""
    if count < 4:
        raise ValueError("a benchmark model needs at least 4 features")
    categories = round(count * 2 / 5)
    if count <= len(FEATURES):
        order = _KEPT_FIRST + [f for f in FEATURES if f not in _KEPT_FIRST]
        chosen = set([f for f in order if f in CATEGORICAL][:categories])
        chosen |= set([f for f in order if f not in CATEGORICAL][: count - categories])
        return FeatureSet(
            {k: v for k, v in CATEGORICAL.items() if k in chosen},
            [f for f in NUMERIC if f in chosen],
        )
    extra = {f"k{i:02d}": [f"v{j:02d}" for j in range(12)] for i in range(8, categories)}
    numbers = [f"x{i:02d}" for i in range(count - categories)]
    return FeatureSet({**CATEGORICAL, **extra}, numbers)


@dataclass(frozen=True)
class Chunk:
    frame: pd.DataFrame  # features + label, predicted, score, @timestamp, prediction_id


def _features(
    rng: np.random.Generator, n: int, incident: np.ndarray, features: FeatureSet
) -> pd.DataFrame:
    data: dict[str, np.ndarray] = {}
    for name, values in features.categorical.items():
        weights = 1.0 / np.arange(1, len(values) + 1)
        data[name] = rng.choice(np.array(values, dtype=object), n, p=weights / weights.sum())
    for name in features.numeric:
        i = int(name[1:])
        data[name] = np.round(rng.lognormal(mean=1 + (i % 12) / 6, sigma=0.6, size=n), 3)
    frame = pd.DataFrame(data)
    scam = incident & (rng.random(n) < 0.06)
    frame.loc[scam, "merchant"] = NEW_MERCHANT
    frame.loc[scam, "category"] = "pharmacy"
    frame["x03"] = frame["x03"].where(~(incident & (rng.random(n) < 0.3)), np.nan)
    return frame


def chunks(
    n: int, *, seed: int = 7, size: int = 50_000, incident: bool = True, features: int = 20
) -> Iterator[Chunk]:
    """``n`` predictions over the week before :data:`END`, ``size`` at a time."""
    chosen = feature_set(features)
    start = END - timedelta(days=DAYS)
    span = DAYS * 86_400
    for offset in range(0, n, size):
        m = min(size, n - offset)
        rng = np.random.default_rng([seed, offset])
        seconds = (offset + np.arange(m)) * span / n + rng.uniform(0, span / n, m)
        late = (seconds > span / 2) & incident
        frame = _features(rng, m, late, chosen)
        risk = (frame["category"] == "gaming") * 1.5 + np.log(frame["x00"] + 1) - 2.5
        fraud = rng.random(m) < 1 / (1 + np.exp(-risk))
        scam = (frame["merchant"] == NEW_MERCHANT).to_numpy()
        fraud = np.where(scam, rng.random(m) < 0.7, fraud)
        right = np.where(scam, ~fraud, rng.random(m) < 0.95)
        predicted = np.where(right, fraud, ~fraud)
        score = np.clip(np.where(predicted, 0.7, 0.3) + rng.normal(0, 0.15, m), 0.001, 0.999)
        frame["label"] = np.where(fraud, "fraud", "legit")
        frame["predicted"] = np.where(predicted, "fraud", "legit")
        frame["score"] = np.round(score, 4)
        stamps = pd.to_datetime(start) + pd.to_timedelta(seconds, unit="s")
        frame["@timestamp"] = stamps.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3] + "Z"
        frame["prediction_id"] = [f"b{seed}-{offset + i:09d}" for i in range(m)]
        frame["version"] = np.where(rng.random(m) < 0.2, "v2", "v1")
        frame["latency"] = np.round(rng.lognormal(2.3, 0.3, m), 3)
        yield Chunk(frame)


def training_frame(n: int = 20_000, seed: int = 11, features: int = 20) -> pd.DataFrame:
    """A healthy period to register the baseline profile from."""
    frames = [c.frame for c in chunks(n, seed=seed, size=n, incident=False, features=features)]
    return pd.concat(frames)[[*feature_set(features).names, "label", "predicted", "score"]]


def profile(model: str, rows: int = 20_000, features: int = 20):
    """The baseline profile every benchmark registers or tags against."""
    from mlmon.baseline import build_profile

    return build_profile(
        training_frame(rows, features=features),
        model=model,
        version="v1",
        name="training",
        created_at="2026-11-01T00:00:00.000Z",
        label_column="label",
        prediction_column="predicted",
        score_column="score",
        categorical=list(feature_set(features).categorical),
    )


def raw_events(frame: pd.DataFrame, model: str) -> Iterator[dict]:
    """Schema-v1 events, as a service would log them (actual inline, already joined)."""
    names = [c for c in frame.columns if c not in _NOT_FEATURES]
    feature_rows = frame[names].astype(object).where(frame[names].notna(), None)
    stamps = frame["@timestamp"].tolist()
    for stamp, row, features in zip(
        stamps, frame.itertuples(index=False), feature_rows.to_dict("records"), strict=True
    ):
        yield {
            "@timestamp": stamp,
            "event": {"kind": "prediction", "schema_version": 1},
            "model": {"name": model, "version": row.version},
            "prediction_id": row.prediction_id,
            "features": features,
            "prediction": {"label": row.predicted, "score": row.score},
            "actual": {"label": row.label},
            "latency_ms": {"total": row.latency, "inference": round(row.latency * 0.6, 3)},
        }
