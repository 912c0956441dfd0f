"""Send a scenario's traffic through the SDK (the real ingest path), or write its
training file.

``emit`` logs with ``PredictionLogger``, predictions in time order and each
actual some hours later (a few before their prediction, to exercise the join).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlmon.simulate.attribution import ATTRIBUTION_PREFIX
from mlmon.simulate.run import REGIONS, Traffic


@dataclass
class EmitResult:
    predictions: int = 0
    actuals: int = 0
    stats: dict[str, dict[str, int]] = field(default_factory=dict)


def _features(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in names}


def emit(
    traffic: Traffic,
    *,
    sink: str,
    model: str = "fraud",
    stream: Any = None,
    progress: Callable[[int], None] | None = None,
) -> EmitResult:
    """Send every prediction and actual through one PredictionLogger per model version
    (an upstream model's traffic first, under its own name)."""
    from mlmon import PredictionLogger

    if traffic.upstream is not None:
        upstream = emit(
            traffic.upstream, sink=sink, model=traffic.upstream.truth["model"], stream=stream
        )

    versions = sorted(traffic.frame["version"].unique())
    loggers = {
        v: PredictionLogger(
            model=model,
            version=v,
            sink=sink,
            stream=stream,
            deployment="canary" if v != "v1" else "primary",
            environment="production",
            block_when_full=True,
            task=traffic.task,  # a regressor's prediction=/label= numbers become values
        )
        for v in versions
    }
    shadowed = "shadow_predicted" in traffic.frame.columns
    if shadowed:
        from mlmon.simulate.shadow import CANDIDATE, log_shadow, shadow_logger

        shadow = shadow_logger(model=model, sink=sink, stream=stream)
        loggers[f"{CANDIDATE} (shadow)"] = shadow
    chained = "parent_prediction_id" in traffic.frame.columns
    explained = [c for c in traffic.frame.columns if c.startswith(ATTRIBUTION_PREFIX)]
    result = EmitResult()
    fraud = "state" in traffic.frame.columns  # the fraud world's tag; others log none
    try:
        for row in traffic.frame.itertuples(index=False):
            log = loggers[row.version]

            def send_actual(row: Any = row, log: Any = log) -> None:
                log.actual(row.prediction_id, label=row.actual, timestamp=row.actual_timestamp)
                result.actuals += 1

            if row.actual_first:
                send_actual()
            log.prediction(
                features=_features(row, traffic.features),
                prediction=row.predicted,
                score=None if row.score is None else float(row.score),
                attributions={
                    c.removeprefix(ATTRIBUTION_PREFIX): getattr(row, c) for c in explained
                }
                if explained
                else None,
                latency_ms={
                    "total": row.latency_total,
                    "inference": row.latency_inference,
                    "features": {"user_history": row.latency_lookup},
                },
                tags={"region": REGIONS.get(row.state, "other")} if fraud else None,
                prediction_id=row.prediction_id,
                timestamp=row.timestamp,
                trace={"parent_prediction_id": row.parent_prediction_id} if chained else None,
            )
            result.predictions += 1
            if shadowed:
                log_shadow(shadow, row, _features(row, traffic.features), REGIONS)
                result.predictions += 1
            if not row.actual_first:
                send_actual()
            if progress:
                progress(1)
    finally:
        for version, log in loggers.items():
            log.close(timeout=120)
            result.stats[version] = log.stats()
    if traffic.upstream is not None:
        result.predictions += upstream.predictions
        result.actuals += upstream.actuals
        result.stats.update(
            {f"{traffic.upstream.truth['model']} {v}": s for v, s in upstream.stats.items()}
        )
    return result


def write_reference(traffic: Traffic, path: Path) -> Path:
    """The training-period file for ``mlmon baseline register`` (held-out rows, so honest)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix in (".parquet", ".pq"):
        traffic.reference.to_parquet(path, index=False)
    else:
        traffic.reference.to_csv(path, index=False)
    return path


__all__ = ["EmitResult", "emit", "write_reference"]
