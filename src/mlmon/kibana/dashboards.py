"""mlmon's dashboards and alert rules, written to be read and reviewed.

Panels that work for every model use the fields mlmon sets on every event
(``model.*``, ``prediction.*``, ``actual.*``, ``quality.*``, ``latency_ms.*``).
Feature panels need feature names: the defaults are the demo model's, and
``mlmon kibana export --categorical … --numeric … --lookup …`` regenerates
them for yours.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlmon.kibana.spec import (
    Count,
    Dashboard,
    DateHistogram,
    Metric,
    Panel,
    Ranges,
    Ratio,
    Rule,
    Terms,
)

LABELLED = "_exists_:actual.correct"
ACCURACY = Ratio("Accuracy", numerator="actual.correct:true", denominator=LABELLED)
HOURLY = DateHistogram(interval="1h")
DAILY = DateHistogram(interval="1d")
VERSION = Terms("model.version", size=5, alphabetical=True)
# Ten bins of width 0.1; the last is open-ended so a score of exactly 1.0 (the range
# aggregation's ``to`` is exclusive) is counted, as Lens does with an empty "to".
SCORE_BINS = (*((i / 10, (i + 1) / 10) for i in range(9)), (0.9, None))


@dataclass(frozen=True)
class FeatureChoice:
    """Which features get their own panels (the demo model's by default)."""

    categorical: tuple[str, ...] = ("merchant_name", "merchant_category", "state", "device_type")
    numeric: tuple[str, ...] = ("amount", "account_age_days")
    lookups: tuple[str, ...] = ("user_history",)
    watch_unseen: tuple[str, ...] = ("merchant_name",)  # high-cardinality: list unseen values


def model_overview() -> Dashboard:
    return Dashboard(
        slug="model-overview",
        title="mlmon · Model overview",
        description="Is the model serving, what does it predict, and how well, by version "
        "and deployment.",
        panels=(
            Panel("Predictions", "metric", (Count("Predictions"),), width=8, height=8),
            Panel("Accuracy (labelled predictions)", "metric", (ACCURACY,), width=8, height=8),
            Panel(
                "Labelled share",
                "metric",
                (Ratio("Labelled", numerator=LABELLED),),
                description="Share of predictions whose actual has arrived and been joined.",
                width=8,
                height=8,
            ),
            Panel("Predictions per hour by version", "bar_stacked", (Count(),), (HOURLY, VERSION)),
            Panel(
                "Predictions per hour by deployment",
                "bar_stacked",
                (Count(),),
                (HOURLY, Terms("model.deployment", size=5, alphabetical=True)),
            ),
            Panel(
                "Predicted label share over time",
                "bar_percentage_stacked",
                (Count(),),
                (HOURLY, Terms("prediction.label", size=10)),
            ),
            Panel(
                "Score distribution by version",
                "bar_stacked",
                (Count(),),
                (Ranges("prediction.score", SCORE_BINS), VERSION),
            ),
            Panel(
                "Accuracy over time by version",
                "line",
                (ACCURACY,),
                (HOURLY, VERSION),
                description="Where actuals exist; a drop here is what `mlmon trace` explains.",
                width=48,
            ),
            Panel(
                "Shadow and canary: each version and deployment side by side",
                "table",
                (
                    Count("Predictions"),
                    ACCURACY,
                    Metric("percentile", "latency_ms.total", "Total p95 (ms)", percent=95),
                ),
                (VERSION, Terms("model.deployment", size=5, alphabetical=True)),
                description="A shadow sees the live model's requests, so its row is measured "
                "on the same traffic; `mlmon compare` pairs them request by request (McNemar).",
                width=48,
                height=8,
            ),
        ),
    )


def data_quality(features: FeatureChoice) -> Dashboard:
    unseen_values = tuple(
        Panel(
            f"Top unseen values of {name}",
            "table",
            (Count(),),
            (Terms(f"features.{name}", size=10),),
            query=f"quality.unseen:{name}",
            width=16,
        )
        for name in features.watch_unseen
    )
    return Dashboard(
        slug="data-quality",
        title="mlmon · Data quality",
        description="NA spikes, unseen categories and out-of-range values, from the flags "
        "mlmon sets on each event against the model's baseline profile.",
        panels=(
            Panel(
                "Events with a missing value",
                "line",
                (Ratio("Events with a missing value", numerator="quality.missing_count:>0"),),
                (HOURLY, VERSION),
            ),
            Panel(
                "Events with an unseen category",
                "line",
                (Ratio("Events with an unseen category", numerator="quality.unseen_count:>0"),),
                (HOURLY, VERSION),
            ),
            Panel(
                "Missing values per feature",
                "bar_stacked",
                (Count(),),
                (HOURLY, Terms("quality.missing", size=10)),
                query="quality.missing_count:>0",
            ),
            Panel(
                "Unseen categories per feature",
                "bar_stacked",
                (Count(),),
                (HOURLY, Terms("quality.unseen", size=10)),
                query="quality.unseen_count:>0",
            ),
            Panel(
                "Out-of-range values per feature",
                "bar_stacked",
                (Count(),),
                (DAILY, Terms("quality.out_of_range", size=10)),
                query="quality.out_of_range_count:>0",
            ),
            Panel(
                "Quality problems by version",
                "table",
                (
                    Count("Missing", filter="quality.missing_count:>0"),
                    Count("Unseen", filter="quality.unseen_count:>0"),
                    Count("Out of range", filter="quality.out_of_range_count:>0"),
                ),
                (Terms("model.version", size=10, alphabetical=True),),
            ),
            *unseen_values,
        ),
    )


def drift_and_slices(features: FeatureChoice) -> Dashboard:
    shares = tuple(
        Panel(
            f"{name}: share of top values per day",
            "bar_percentage_stacked",
            (Count(),),
            (DAILY, Terms(f"features.{name}", size=8, other_bucket=True)),
        )
        for name in features.categorical
    )
    distributions = tuple(
        Panel(
            f"{name}: p10 / median / p90 per day",
            "line",
            (
                Metric("percentile", f"features.{name}", "p10", percent=10),
                Metric("median", f"features.{name}", "median"),
                Metric("percentile", f"features.{name}", "p90", percent=90),
            ),
            (DAILY,),
        )
        for name in features.numeric
    )
    slices = tuple(
        Panel(
            f"Accuracy by {name}",
            "table",
            (Count("Predictions"), ACCURACY),
            (Terms(f"features.{name}", size=20),),
            query=LABELLED,
            width=16,
        )
        for name in features.categorical
    )
    return Dashboard(
        slug="drift-and-slices",
        title="mlmon · Drift and slices",
        description="How inputs moved (category shares, numeric quantiles per day) and "
        "where accuracy is low; `mlmon trace` ranks the slices.",
        panels=(*shares, *distributions, *slices),
    )


def service(features: FeatureChoice) -> Dashboard:
    def latency_panels(field: str, name: str) -> tuple[Panel, ...]:
        return (
            Panel(
                f"{name} latency p95 by version (ms)",
                "line",
                (Metric("percentile", field, "p95", percent=95),),
                (HOURLY, VERSION),
            ),
        )

    lookups = tuple(
        panel
        for name in features.lookups
        for panel in latency_panels(f"latency_ms.features.{name}", f"Lookup {name}")
    )
    return Dashboard(
        slug="service",
        title="mlmon · Service",
        description="Latency percentiles by version: total, inference and each feature "
        "lookup, so an accuracy gain that costs 500 ms shows.",
        panels=(
            Panel(
                "Latency by version (ms)",
                "table",
                tuple(
                    Metric("percentile", f"latency_ms.{part}", f"{part} p{p}", percent=p)
                    for part in ("total", "inference")
                    for p in (50, 95, 99)
                ),
                (VERSION,),
                width=48,
                height=8,
            ),
            *latency_panels("latency_ms.total", "Total"),
            *latency_panels("latency_ms.inference", "Inference"),
            *lookups,
        ),
    )


def dashboards(features: FeatureChoice | None = None) -> tuple[Dashboard, ...]:
    chosen = features or FeatureChoice()
    return (model_overview(), data_quality(chosen), drift_and_slices(chosen), service(chosen))


def rules() -> tuple[Rule, ...]:
    """Elasticsearch query rules: the average of a per-event count is a rate per prediction."""
    every_prediction = {"query": {"term": {"event.kind": "prediction"}}}
    return (
        Rule(
            slug="na-spike",
            name="mlmon · NA spike",
            description="A model's predictions in the last hour carry on average more than "
            "0.05 missing feature values each (about 1 in 20 with a missing value).",
            query=every_prediction,
            aggregation="avg",
            agg_field="quality.missing_count",
            threshold=0.05,
        ),
        Rule(
            slug="unseen-surge",
            name="mlmon · Unseen-category surge",
            description="A model's predictions in the last hour carry on average more than "
            "0.02 categories each that its baseline profile never saw.",
            query=every_prediction,
            aggregation="avg",
            agg_field="quality.unseen_count",
            threshold=0.02,
        ),
    )
