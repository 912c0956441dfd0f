"""The ``chain`` scenario: an upstream model's score is a downstream model's input.

The upstream model is the fraud model on the usual features; the downstream
model (a stacked one) sees ``upstream_score`` (the upstream prediction's
score) with a few raw features, and each downstream prediction carries
``trace.parent_prediction_id`` = the upstream prediction's id. From
``INCIDENT_START`` the upstream service ships a calibration bug (its scores
are lifted by ``SCORE_SHIFT``): its own accuracy falls (many false alarms)
and the downstream model, fed scores it never saw in training, falls too —
a drop downstream whose cause is one level up.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from mlmon.simulate import scenarios as sc
from mlmon.simulate.model import train
from mlmon.simulate.world import draw, label, training_history

SCORE_SHIFT = 0.3
DOWNSTREAM_CATEGORICAL = ("device_type",)
DOWNSTREAM_NUMERIC = ("upstream_score", "amount", "hour")
DOWNSTREAM_FEATURES = (*DOWNSTREAM_CATEGORICAL, *DOWNSTREAM_NUMERIC)


def upstream_name(model: str) -> str:
    """The upstream model's name: ``up-`` and the downstream's. Not a suffix: the index
    pattern of ``fraud`` also matches ``fraud-up``'s indices (and their mapping)."""
    return f"up-{model}"[:64]


def chain_traffic(
    *, events: int, days: float, seed: int, end: datetime, model: str, finish: Any, truth: Any
) -> Any:
    """(downstream Traffic with ``upstream`` set): ``finish``/``truth`` are run.py's helpers."""
    from mlmon.simulate.run import Traffic, _clock, _window

    past = training_history(seed, stream=3)
    shops, rng, history, labels = past.shops, past.rng, past.frame, past.labels
    cut = past.train_rows
    upstream = train(history.iloc[:cut], labels[:cut], seed=seed)
    history["predicted"], history["score"] = upstream.predict(history)
    history["upstream_score"] = history["score"]
    downstream = train(
        history.iloc[:cut],
        labels[:cut],
        seed=seed,
        categorical=DOWNSTREAM_CATEGORICAL,
        numeric=DOWNSTREAM_NUMERIC,
    )
    up_reference = history.iloc[cut:].copy()
    up_reference["is_fraud"] = labels[cut:]
    down_reference = up_reference[[*DOWNSTREAM_FEATURES, "is_fraud"]].copy()
    down_reference["predicted"], down_reference["score"] = downstream.predict(down_reference)

    start, seconds = _window(end, days)
    frame = draw(rng, events, shops)
    offsets = np.sort(rng.uniform(0.0, seconds, events))
    position = offsets / seconds
    actual = label(rng, frame)
    up_name = upstream_name(model)
    up_truth = truth(
        sc.SCENARIOS["chain"], model=up_name, seed=seed, events=events, days=days, end=end
    )
    down_truth = truth(
        sc.SCENARIOS["chain"], model=model, seed=seed, events=events, days=days, end=end
    )

    up = frame.copy()
    up["version"] = "v1"
    up["predicted"], scores = upstream.predict(up)
    broken = position >= sc.INCIDENT_START
    scores = np.where(broken, np.clip(scores + SCORE_SHIFT, 0.0, 1.0), scores)
    up["score"] = np.round(scores, 6)
    up["predicted"] = np.where(up["score"] >= 0.5, "fraud", "legit")
    finish(
        up,
        actual,
        np.random.default_rng([seed, 4]),
        start=start,
        end=end,
        offsets=offsets,
        truth=up_truth,
    )

    down = frame[list(DOWNSTREAM_FEATURES[:1])].copy()
    down["amount"], down["hour"] = frame["amount"], frame["hour"]
    down["upstream_score"] = up["score"].to_numpy()
    down["version"] = "v1"
    down["predicted"], down["score"] = downstream.predict(down)
    finish(
        down,
        actual,
        np.random.default_rng([seed, 5]),
        start=start,
        end=end,
        offsets=offsets,
        truth=down_truth,
    )
    down["parent_prediction_id"] = up["prediction_id"].to_numpy()
    at = _clock(start, seconds)
    incident = {
        "kind": "upstream",
        "feature": "upstream_score",
        "upstream_model": up_name,
        "score_shift": SCORE_SHIFT,
        "start": at(sc.INCIDENT_START),
        "end": at(1.0),
        "events": int(broken.sum()),
    }
    down_truth["injected"].append(incident)
    up_truth["injected"].append({**incident, "kind": "calibration_bug"})
    return Traffic(
        frame=down,
        reference=down_reference,
        truth=down_truth,
        features=DOWNSTREAM_FEATURES,
        upstream=Traffic(
            frame=up,
            reference=up_reference.drop(columns=["merchant_risk", "upstream_score"]),
            truth=up_truth,
        ),
    )


__all__ = ["chain_traffic", "upstream_name"]
