"""The fraud model the simulated service runs: gradient boosting trained on the training split."""

from __future__ import annotations

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
class FraudModel:
    """Unknown categories (a merchant never seen in training) reach the trees as missing."""

    encoder: object
    classifier: object

    def scores(self, frame: pd.DataFrame) -> np.ndarray:
        return self.classifier.predict_proba(_matrix(frame, self.encoder))[:, 1]

    def predict(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        scores = self.scores(frame)
        return np.where(scores >= THRESHOLD, "fraud", "legit"), scores


def _matrix(frame: pd.DataFrame, encoder) -> np.ndarray:
    categorical = encoder.transform(
        frame[list(CATEGORICAL)]
        .astype(object)
        .where(frame[list(CATEGORICAL)].notna(), None)
        .fillna("__missing__")
    )
    numeric = frame[[f for f in FEATURES if f not in CATEGORICAL]].to_numpy(dtype=float)
    return np.hstack([categorical, numeric])


def train(
    frame: pd.DataFrame, labels: np.ndarray, *, seed: int, iterations: int = 150
) -> FraudModel:
    booster, ordinal = _sklearn()
    encoder = ordinal(handle_unknown="use_encoded_value", unknown_value=np.nan)
    encoder.fit(frame[list(CATEGORICAL)].astype(object))
    mask = [True] * len(CATEGORICAL) + [False] * (len(FEATURES) - len(CATEGORICAL))
    classifier = booster(
        max_iter=iterations, learning_rate=0.08, categorical_features=mask, random_state=seed
    )
    classifier.fit(_matrix(frame, encoder), labels == "fraud")
    return FraudModel(encoder, classifier)
