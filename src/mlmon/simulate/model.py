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


def _sklearn():
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.preprocessing import OrdinalEncoder
    except ImportError:
        raise UsageError("mlmon simulate needs scikit-learn: pip install 'mlmon[sim]'") from None
    return HistGradientBoostingClassifier, OrdinalEncoder


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
    classes: tuple[str, str] = ("fraud", "legit"),
) -> TabularModel:
    booster, ordinal = _sklearn()
    categorical = tuple(categorical)
    numeric = tuple(numeric) if numeric is not None else TabularModel.numeric
    encoder = ordinal(handle_unknown="use_encoded_value", unknown_value=np.nan)
    encoder.fit(frame[list(categorical)].astype(object))
    mask = [True] * len(categorical) + [False] * len(numeric)
    classifier = booster(
        max_iter=iterations, learning_rate=0.08, categorical_features=mask, random_state=seed
    )
    classifier.fit(_matrix(frame, encoder, categorical, numeric), labels == classes[0])
    return TabularModel(encoder, classifier, categorical, numeric, classes)
