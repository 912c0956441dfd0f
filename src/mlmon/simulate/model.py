"""The model a simulated service runs: gradient boosting trained on the training split.

One class serves every domain (fraud, churn, credit, ads): it is told which
columns are categories and which are numbers, and which label is positive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlmon.errors import UsageError
from mlmon.simulate.world import CATEGORICAL, FEATURES

THRESHOLD = 0.5


def _sklearn(regression: bool = False):
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
        from sklearn.preprocessing import OrdinalEncoder
    except ImportError:
        raise UsageError("mlmon simulate needs scikit-learn: pip install 'mlmon[sim]'") from None
    booster = HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier
    return booster, OrdinalEncoder


@dataclass
class TabularModel:
    """Unknown categories (a merchant never seen in training) reach the trees as missing."""

    encoder: object
    classifier: object
    categorical: tuple[str, ...] = CATEGORICAL
    numeric: tuple[str, ...] = tuple(f for f in FEATURES if f not in CATEGORICAL)
    labels: tuple[str, str] = ("fraud", "legit")  # (positive, negative)

    def scores(self, frame: pd.DataFrame) -> np.ndarray:
        return self.classifier.predict_proba(self._matrix(frame))[:, 1]

    def predict(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        scores = self.scores(frame)
        return np.where(scores >= THRESHOLD, *self.labels), scores

    def _matrix(self, frame: pd.DataFrame) -> np.ndarray:
        return _matrix(frame, self.encoder, self.categorical, self.numeric)


FraudModel = TabularModel


@dataclass
class TabularRegressor:
    """The regression twin of :class:`TabularModel`: a number per row, no score."""

    encoder: object
    regressor: object
    categorical: tuple[str, ...]
    numeric: tuple[str, ...]

    def predict(self, frame: pd.DataFrame) -> tuple[np.ndarray, None]:
        matrix = _matrix(frame, self.encoder, self.categorical, self.numeric)
        return np.round(self.regressor.predict(matrix), 2), None


def _matrix(
    frame: pd.DataFrame, encoder, categorical: Sequence[str], numeric: Sequence[str]
) -> np.ndarray:
    columns = list(categorical)
    encoded = encoder.transform(
        frame[columns].astype(object).where(frame[columns].notna(), None).fillna("__missing__")
    )
    return np.hstack([encoded, frame[list(numeric)].to_numpy(dtype=float)])


def train(
    frame: pd.DataFrame,
    labels: np.ndarray,
    *,
    seed: int,
    iterations: int = 150,
    categorical: Sequence[str] = CATEGORICAL,
    numeric: Sequence[str] | None = None,
    classes: tuple[str, ...] = ("fraud", "legit"),
) -> TabularModel | TabularRegressor:
    """A classifier for two classes; a regressor (of numeric labels) when ``classes`` is empty."""
    regression = not classes
    booster, ordinal = _sklearn(regression)
    categorical = tuple(categorical)
    numeric = tuple(numeric) if numeric is not None else TabularModel.numeric
    encoder = ordinal(handle_unknown="use_encoded_value", unknown_value=np.nan)
    encoder.fit(frame[list(categorical)].astype(object))
    mask = [True] * len(categorical) + [False] * len(numeric)
    fitted = booster(
        max_iter=iterations, learning_rate=0.08, categorical_features=mask, random_state=seed
    )
    matrix = _matrix(frame, encoder, categorical, numeric)
    if regression:
        fitted.fit(matrix, np.asarray(labels, dtype=float))
        return TabularRegressor(encoder, fitted, categorical, numeric)
    fitted.fit(matrix, labels == classes[0])
    return TabularModel(encoder, fitted, categorical, numeric, (classes[0], classes[1]))
