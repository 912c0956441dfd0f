"""Generate a scenario's traffic and send it through the SDK (the real ingest path).

``build_traffic`` is pure given its seed: the same arguments give the same
events, ids and timestamps; :mod:`mlmon.simulate.emit` sends them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd

from mlmon.errors import UsageError
from mlmon.schema.event import format_timestamp
from mlmon.simulate import scenarios as sc
from mlmon.simulate.model import FraudModel, train
from mlmon.simulate.world import (
    FEATURES,
    NEW_MERCHANT,
    ZIPS,
    draw,
    label,
    training_history,
)

REGIONS = {
    "CA": "us-west",
    "WA": "us-west",
    "TX": "us-south",
    "FL": "us-south",
    "GA": "us-south",
    "NC": "us-south",
    "NY": "us-east",
    "PA": "us-east",
    "IL": "us-central",
    "OH": "us-central",
}
TRAINING_ROWS = 40_000
DOMAIN_TRAINING_ROWS = 20_000  # churn, credit, ads: smaller worlds, faster to train


@dataclass
class Traffic:
    frame: pd.DataFrame  # one row per prediction, with version, outcome, latency, actual
    reference: pd.DataFrame  # held-out training-period rows with the model's predictions
    truth: dict[str, Any]
    features: tuple[str, ...] = FEATURES  # what the model sees, logged as features
    label_column: str = "is_fraud"  # the actual's column in ``reference``
    upstream: Traffic | None = None  # the model whose output this one consumes (chain)
    task: str = "classification"  # regression: outcomes are numbers (no score)


def _window(end: datetime, days: float) -> tuple[datetime, float]:
    return end - timedelta(days=days), days * 86_400.0


def build_traffic(
    scenario_name: str, *, events: int, days: float, seed: int, end: datetime, model: str = "fraud"
) -> Traffic:
    if scenario_name not in sc.SCENARIOS:
        raise UsageError(
            f"unknown scenario {scenario_name!r}: choose one of {', '.join(sc.SCENARIOS)}"
        )
    if events < 100 or days <= 0:
        raise UsageError("--events must be at least 100 and --days positive")
    scenario = sc.SCENARIOS[scenario_name]
    if scenario.chain:
        from mlmon.simulate.chain import chain_traffic

        return chain_traffic(
            events=events, days=days, seed=seed, end=end, model=model, finish=_finish, truth=_truth
        )
    if scenario.attribution:
        from mlmon.simulate.attribution import attribution_traffic

        return attribution_traffic(
            events=events, days=days, seed=seed, end=end, model=model, finish=_finish, truth=_truth
        )
    if scenario.domain != "fraud":
        return _domain_traffic(scenario, events=events, days=days, seed=seed, end=end, model=model)
    past = training_history(seed, stream=2, rows=TRAINING_ROWS)
    shops, rng, history, history_labels = past.shops, past.rng, past.frame, past.labels
    cut = past.train_rows
    models = {"v1": train(history.iloc[:cut], history_labels[:cut], seed=seed)}
    if scenario.canary:
        models["v2"] = train(history.iloc[:cut], history_labels[:cut], seed=seed, iterations=400)
    reference = history.iloc[cut:].copy()
    reference["is_fraud"] = history_labels[cut:]
    reference["predicted"], reference["score"] = models["v1"].predict(reference)

    start, seconds = _window(end, days)
    frame = draw(rng, events, shops)
    offsets = np.sort(rng.uniform(0.0, seconds, events))
    position = offsets / seconds
    truth = _truth(scenario, model=model, seed=seed, events=events, days=days, end=end)
    at = _clock(start, seconds)

    if scenario.new_merchant:
        hit = (position >= sc.INCIDENT_START) & (rng.random(events) < sc.NEW_MERCHANT_SHARE)
        frame.loc[hit, ["merchant_name", "merchant_category", "state"]] = [
            NEW_MERCHANT,
            "pharmacy",
            "CA",
        ]
        frame.loc[hit, "zip_code"] = rng.choice(ZIPS["CA"], int(hit.sum()))
        frame.loc[hit, "merchant_risk"] = 7.5  # nearly every order there is fraud
        truth["injected"].append(
            {
                "kind": "unseen_category",
                "feature": "merchant_name",
                "value": NEW_MERCHANT,
                "slice": {"merchant_name": NEW_MERCHANT, "state": "CA"},
                "start": at(sc.INCIDENT_START),
                "end": at(1.0),
                "events": int(hit.sum()),
                "volume_share_in_span": round(float(hit[position >= sc.INCIDENT_START].mean()), 4),
            }
        )
    if scenario.gradual_drift:
        frame["amount"] = np.round(frame["amount"] * (1 + (sc.DRIFT_FACTOR - 1) * position), 2)
        truth["injected"].append(
            {
                "kind": "drift",
                "feature": "amount",
                "start": at(0.0),
                "end": at(1.0),
                "factor_at_end": sc.DRIFT_FACTOR,
            }
        )

    actual = label(rng, frame)  # reality, before any upstream bug hides it from the model
    if scenario.label_issue:
        broken = (frame["zip_code"] == sc.LABEL_ISSUE_ZIP).to_numpy() & (position >= 0.5)
        actual = np.where(broken, np.where(rng.random(events) < 0.5, "fraud", "legit"), actual)
        truth["injected"].append(
            {
                "kind": "label",
                "feature": "zip_code",
                "value": sc.LABEL_ISSUE_ZIP,
                "slice": {"zip_code": sc.LABEL_ISSUE_ZIP},
                "start": at(0.5),
                "end": at(1.0),
                "events": int(broken.sum()),
            }
        )
    if scenario.na_spike:
        low, high = sc.NA_SPIKE
        spiked = (position >= low) & (position < high) & (rng.random(events) < sc.NA_SPIKE_RATE)
        frame.loc[spiked, "account_age_days"] = np.nan
        truth["injected"].append(
            {
                "kind": "missing_spike",
                "feature": "account_age_days",
                "rate": sc.NA_SPIKE_RATE,
                "start": at(low),
                "end": at(high),
                "events": int(spiked.sum()),
            }
        )

    version = np.full(events, "v1", dtype=object)
    if scenario.canary:
        version[rng.random(events) < sc.CANARY_SHARE] = "v2"
        truth["injected"].append(
            {
                "kind": "latency",
                "version": "v2",
                "share": sc.CANARY_SHARE,
                "inference_ms_mean": 140.0,
                "baseline_inference_ms_mean": 4.0,
            }
        )
    frame["version"] = version
    frame["predicted"], frame["score"] = "legit", 0.0
    for name, fitted in models.items():
        rows = frame["version"] == name
        if rows.any():
            labels, scores = fitted.predict(frame.loc[rows])
            frame.loc[rows, "predicted"], frame.loc[rows, "score"] = labels, scores
    _finish(frame, actual, rng, start=start, end=end, offsets=offsets, truth=truth)
    if scenario.shadow:
        from mlmon.simulate.shadow import add_shadow

        add_shadow(frame, rng, truth)
    return Traffic(frame=frame, reference=reference.drop(columns=["merchant_risk"]), truth=truth)


def _truth(
    scenario: sc.Scenario, *, model: str, seed: int, events: int, days: float, end: datetime
) -> dict[str, Any]:
    start, _ = _window(end, days)
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "model": model,
        "seed": seed,
        "events": events,
        "days": days,
        "start": format_timestamp(start),
        "end": format_timestamp(end),
        "injected": [],
    }


def _clock(start: datetime, seconds: float) -> Callable[[float], str]:
    """A window fraction as a timestamp, for the truth's spans."""
    return lambda fraction: format_timestamp(start + timedelta(seconds=fraction * seconds))


def _domain_traffic(
    scenario: sc.Scenario, *, events: int, days: float, seed: int, end: datetime, model: str
) -> Traffic:
    """A churn, credit or ads scenario: the same steps as fraud, another world and incident."""
    from mlmon.simulate.incidents import INCIDENTS

    domain, incident = INCIDENTS[scenario.name]
    rng = np.random.default_rng([seed, 2])
    history = domain.draw(rng, DOMAIN_TRAINING_ROWS)
    history_labels = domain.label(rng, history)
    cut = int(DOMAIN_TRAINING_ROWS * 0.75)
    fitted = train(
        history.iloc[:cut],
        history_labels[:cut],
        seed=seed,
        categorical=domain.categorical,
        numeric=domain.numeric,
        classes=domain.classes,
    )
    reference = history.iloc[cut:].copy()
    reference[domain.label_column] = history_labels[cut:]
    task = getattr(domain, "task", "classification")
    reference["predicted"], score = fitted.predict(reference)
    if score is not None:
        reference["score"] = score

    start, seconds = _window(end, days)
    frame = domain.draw(rng, events)
    offsets = np.sort(rng.uniform(0.0, seconds, events))
    truth = _truth(scenario, model=model, seed=seed, events=events, days=days, end=end)
    truth.update(domain=domain.name, label_column=domain.label_column, classes=domain.classes)
    actual, injected = incident(domain, frame, rng, offsets / seconds, _clock(start, seconds))
    truth["injected"] += injected
    frame["version"] = "v1"
    frame["predicted"], frame["score"] = fitted.predict(frame)
    _finish(frame, actual, rng, start=start, end=end, offsets=offsets, truth=truth)
    return Traffic(
        frame=frame,
        reference=reference,
        truth=truth,
        features=domain.features,
        label_column=domain.label_column,
        task=task,
    )


def _finish(
    frame: pd.DataFrame,
    actual: np.ndarray,
    rng: np.random.Generator,
    *,
    start: datetime,
    end: datetime,
    offsets: np.ndarray,
    truth: dict[str, Any],
) -> None:
    """Actuals, timestamps, latencies and ids: what every scenario's rows need to be sent."""
    events = len(frame)
    model, name, seed = truth["model"], truth["scenario"], truth["seed"]
    version = frame["version"].to_numpy()
    frame["actual"] = actual
    frame["timestamp"] = [start + timedelta(seconds=float(s)) for s in offsets]
    delay = rng.exponential(6 * 3600.0, events)
    frame["actual_timestamp"] = [
        min(t + timedelta(seconds=float(d)), end)
        for t, d in zip(frame["timestamp"], delay, strict=True)
    ]
    frame["actual_first"] = rng.random(events) < sc.EARLY_ACTUALS
    inference = np.where(version == "v2", rng.normal(140, 25, events), rng.normal(4, 1, events))
    lookup = rng.gamma(2.0, 3.0, events)
    frame["latency_inference"] = np.round(np.clip(inference, 0.5, None), 3)
    frame["latency_lookup"] = np.round(lookup, 3)
    frame["latency_total"] = np.round(frame["latency_inference"] + lookup + 1.0, 3)
    frame["prediction_id"] = [f"{model}-{name}-{seed}-{i:08d}" for i in range(events)]
    truth["injected"].append(
        {
            "kind": "late_actuals",
            "mean_delay_hours": 6.0,
            "sent_before_prediction_share": sc.EARLY_ACTUALS,
        }
    )


def default_end() -> datetime:
    """Now, to the hour, so back-dated windows end at a round time."""
    return datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)


__all__ = ["FraudModel", "Traffic", "build_traffic", "default_end"]
