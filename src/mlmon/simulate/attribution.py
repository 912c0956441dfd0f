"""The ``attribution-shift`` scenario: a model that logs real per-prediction contributions.

The fraud model here is LightGBM (well kept, and its ``predict(pred_contrib=True)``
gives each prediction's exact additive contributions per feature, TreeSHAP, in
log-odds): every prediction is logged with them, and the training file carries
them as ``attr_<feature>`` columns for ``baseline register --attribution-prefix
attr_``. From ``INCIDENT_START`` a sign-up promotion brings a wave of brand-new
accounts (``NEW_ACCOUNT_SHARE`` of the traffic, ``account_age_days`` under
``NEW_ACCOUNT_MAX_DAYS``): the model leans on account age far more than in
training (its mean |contribution| rises), more requests land near the threshold,
and accuracy falls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from mlmon.errors import UsageError
from mlmon.simulate import scenarios as sc
from mlmon.simulate.model import _matrix
from mlmon.simulate.world import CATEGORICAL, FEATURES, draw, label, training_history

#: Training-file columns of the contributions: ``attr_<feature>``.
ATTRIBUTION_PREFIX = "attr_"
NEW_ACCOUNT_SHARE = 0.35
NEW_ACCOUNT_MAX_DAYS = 14
NUMERIC = tuple(f for f in FEATURES if f not in CATEGORICAL)


def _lightgbm():
    try:
        import lightgbm
    except ImportError:
        raise UsageError(
            "the attribution-shift scenario needs LightGBM: pip install 'mlmon[sim]'"
        ) from None
    return lightgbm


@dataclass
class AttributingModel:
    """A LightGBM fraud classifier that explains each prediction (TreeSHAP contributions)."""

    encoder: Any
    booster: Any
    labels: tuple[str, str] = ("fraud", "legit")

    def predict(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        scores = self.booster.predict_proba(self._matrix(frame))[:, 1]
        return np.where(scores >= 0.5, *self.labels), scores

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Each row's contribution per feature (the bias column dropped), 6 decimals."""
        raw = self.booster.predict(self._matrix(frame), pred_contrib=True)[:, :-1]
        columns = [f"{ATTRIBUTION_PREFIX}{name}" for name in (*CATEGORICAL, *NUMERIC)]
        return pd.DataFrame(np.round(raw, 6), columns=columns, index=frame.index)

    def _matrix(self, frame: pd.DataFrame) -> pd.DataFrame:
        matrix = _matrix(frame, self.encoder, CATEGORICAL, NUMERIC)
        return pd.DataFrame(matrix, columns=[*CATEGORICAL, *NUMERIC])


def train_attributing(frame: pd.DataFrame, labels: np.ndarray, *, seed: int) -> AttributingModel:
    from sklearn.preprocessing import OrdinalEncoder

    lightgbm = _lightgbm()
    encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan)
    encoder.fit(frame[list(CATEGORICAL)].astype(object))
    booster = lightgbm.LGBMClassifier(
        n_estimators=150,
        learning_rate=0.08,
        num_leaves=31,
        random_state=seed,
        n_jobs=1,
        deterministic=True,
        force_col_wise=True,
        verbose=-1,
    )
    model = AttributingModel(encoder, booster)
    booster.fit(model._matrix(frame), labels == "fraud", categorical_feature=list(CATEGORICAL))
    return model


def attribution_traffic(
    *, events: int, days: float, seed: int, end: datetime, model: str, finish: Any, truth: Any
) -> Any:
    """The scenario's Traffic; ``finish``/``truth`` are run.py's helpers (as chain's)."""
    from mlmon.simulate.run import Traffic, _clock, _window

    past = training_history(seed, stream=6)
    shops, rng, history, history_labels = past.shops, past.rng, past.frame, past.labels
    cut = past.train_rows
    fitted = train_attributing(history.iloc[:cut], history_labels[:cut], seed=seed)
    reference = history.iloc[cut:].copy()
    reference["is_fraud"] = history_labels[cut:]
    reference["predicted"], reference["score"] = fitted.predict(reference)
    reference = pd.concat([reference, fitted.contributions(reference)], axis=1)

    start, seconds = _window(end, days)
    frame = draw(rng, events, shops)
    offsets = np.sort(rng.uniform(0.0, seconds, events))
    position = offsets / seconds
    scenario = sc.SCENARIOS["attribution-shift"]
    told = truth(scenario, model=model, seed=seed, events=events, days=days, end=end)
    newcomers = (position >= sc.INCIDENT_START) & (rng.random(events) < NEW_ACCOUNT_SHARE)
    frame.loc[newcomers, "account_age_days"] = rng.integers(
        0, NEW_ACCOUNT_MAX_DAYS + 1, int(newcomers.sum())
    ).astype(float)
    actual = label(rng, frame)
    frame["version"] = "v1"
    frame["predicted"], frame["score"] = fitted.predict(frame)
    frame = pd.concat([frame, fitted.contributions(frame)], axis=1)
    finish(frame, actual, rng, start=start, end=end, offsets=offsets, truth=told)
    at = _clock(start, seconds)
    told["injected"].insert(
        0,
        {
            "kind": "attribution_shift",
            "feature": "account_age_days",
            "cause": f"new accounts (0-{NEW_ACCOUNT_MAX_DAYS} days) on a share of the traffic",
            "share": NEW_ACCOUNT_SHARE,
            "start": at(sc.INCIDENT_START),
            "end": at(1.0),
            "events": int(newcomers.sum()),
        },
    )
    return Traffic(
        frame=frame.drop(columns=["merchant_risk"]),
        reference=reference.drop(columns=["merchant_risk"]),
        truth=told,
    )


__all__ = ["ATTRIBUTION_PREFIX", "AttributingModel", "attribution_traffic", "train_attributing"]
