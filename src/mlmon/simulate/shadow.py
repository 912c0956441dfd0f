"""The ``shadow`` scenario's candidate: v2 sees every request v1 serves, unserved.

The candidate is v1's answer with two injected changes, so the truth is
known exactly: on ``merchant_category=electronics`` it fixes most of v1's
mistakes (better), on ``state=TX`` outside electronics it gets some of v1's
right answers wrong (worse), elsewhere it answers as v1 does; and it is
slower (inference ~34 ms against ~4 ms). The truth records the realized
paired counts (McNemar's cells), which ``mlmon compare`` must find again.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

CANDIDATE = "v2"
BETTER = {"merchant_category": "electronics"}
WORSE = {"state": "TX"}
FIX_RATE = 0.7  # of v1's mistakes on the better segment
BREAK_RATE = 0.15  # of v1's right answers on the worse segment
INFERENCE_MS = (34.0, 4.0)  # mean, sd


def _flip(labels: np.ndarray, classes: tuple[str, str]) -> np.ndarray:
    return np.where(labels == classes[0], classes[1], classes[0])


def add_shadow(frame: pd.DataFrame, rng: np.random.Generator, truth: dict[str, Any]) -> None:
    """Columns ``shadow_predicted``, ``shadow_score``, ``shadow_latency_*`` and the truth."""
    live = frame["predicted"].to_numpy(dtype=object)
    actual = frame["actual"].to_numpy(dtype=object)
    live_right = live == actual
    better = (frame["merchant_category"] == BETTER["merchant_category"]).to_numpy()
    worse = (frame["state"] == WORSE["state"]).to_numpy() & ~better
    draws = rng.random(len(frame))
    change = (better & ~live_right & (draws < FIX_RATE)) | (
        worse & live_right & (draws < BREAK_RATE)
    )
    classes = ("fraud", "legit")
    shadow = np.where(change, _flip(live, classes), live)
    score = frame["score"].to_numpy(dtype=float)
    frame["shadow_predicted"] = shadow
    frame["shadow_score"] = np.round(np.where(change, 1.0 - score, score), 6)
    inference = np.clip(rng.normal(*INFERENCE_MS, len(frame)), 0.5, None)
    frame["shadow_latency_inference"] = np.round(inference, 3)
    frame["shadow_latency_total"] = np.round(
        inference + frame["latency_lookup"].to_numpy() + 1.0, 3
    )
    shadow_right = shadow == actual
    n = len(frame)

    def cells(mask: np.ndarray) -> dict[str, Any]:
        b = int((mask & shadow_right & ~live_right).sum())
        c = int((mask & ~shadow_right & live_right).sum())
        rows = int(mask.sum())
        return {
            "requests": rows,
            "candidate_correct": int((mask & shadow_right).sum()),
            "against_correct": int((mask & live_right).sum()),
            "candidate_only": b,
            "against_only": c,
            "accuracy_difference": round((b - c) / rows, 6) if rows else 0.0,
        }

    truth["injected"].append(
        {
            "kind": "shadow",
            "candidate": CANDIDATE,
            "against": "v1",
            "better_slice": BETTER,
            "worse_slice": WORSE,
            "paired": cells(np.ones(n, dtype=bool)),
            "better": cells(better),
            "worse": cells((frame["state"] == WORSE["state"]).to_numpy()),
            "agreement": round(float((shadow == live).mean()), 6),
            "inference_ms_mean": INFERENCE_MS[0],
        }
    )


def shadow_logger(*, model: str, sink: str, stream: Any) -> Any:
    """The candidate's logger: ``deployment="shadow"``, waiting for room like the others."""
    from mlmon import PredictionLogger

    return PredictionLogger(
        model=model,
        version=CANDIDATE,
        sink=sink,
        stream=stream,
        deployment="shadow",
        environment="production",
        block_when_full=True,
    )


def log_shadow(log: Any, row: Any, features: dict[str, Any], regions: dict[str, str]) -> None:
    """The shadow of the row's live prediction: same features, its own answer and latency."""
    log.prediction(
        features=features,
        prediction=row.shadow_predicted,
        score=float(row.shadow_score),
        latency_ms={
            "total": row.shadow_latency_total,
            "inference": row.shadow_latency_inference,
            "features": {"user_history": row.latency_lookup},
        },
        tags={"region": regions.get(row.state, "other")},
        prediction_id=f"{row.prediction_id}-shadow",
        shadow_of=row.prediction_id,
        timestamp=row.timestamp,
    )


__all__ = ["CANDIDATE", "add_shadow", "log_shadow", "shadow_logger"]
