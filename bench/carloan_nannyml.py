"""NannyML's side of ``bench.carloan``: export its car-loan data, run its CBPE on it.

Run in the peers venv (NannyML needs pandas < 3), as a child of
``python -m bench.carloan``::

    .venv-peers/bin/python bench/carloan_nannyml.py OUT_DIR

Writes ``reference.csv``, ``analysis.csv`` (targets withheld) and
``analysis_targets.csv`` from ``nannyml.load_synthetic_car_loan_dataset()``
(shipped in the package, nothing downloaded), and ``nannyml.json``: NannyML's
CBPE estimates, sampling errors and bands per chunk of 5,000 rows and per half
of the analysis period. Telemetry is off.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")
warnings.filterwarnings("ignore")

METRICS = ["roc_auc", "accuracy", "precision", "recall", "f1"]
FEATURES = [
    "car_value",
    "salary_range",
    "debt_to_income_ratio",
    "loan_length",
    "repaid_loan_on_prev_car",
    "size_of_downpayment",
    "driver_tenure",
]
DRIFT_METHODS = {"continuous": ["kolmogorov_smirnov", "jensen_shannon"],
                 "categorical": ["chi2", "jensen_shannon"]}  # fmt: skip


def _chunks(reference, analysis, chunk_size: int) -> list[dict]:
    import nannyml as nml

    estimator = nml.CBPE(
        y_pred_proba="y_pred_proba",
        y_pred="y_pred",
        y_true="repaid",
        timestamp_column_name="timestamp",
        metrics=METRICS,
        chunk_size=chunk_size,
        problem_type="classification_binary",
    )
    estimator.fit(reference)
    frame = estimator.estimate(analysis).filter(period="analysis").to_df()
    out = []
    for _, row in frame.iterrows():
        chunk = {
            "start": int(row[("chunk", "start_index")]),
            "end": int(row[("chunk", "end_index")]) + 1,  # NannyML's end index is inclusive
        }
        for metric in METRICS:
            chunk[metric] = {
                "value": float(row[(metric, "value")]),
                "sampling_error": float(row[(metric, "sampling_error")]),
                "lower": float(row[(metric, "lower_confidence_boundary")]),
                "upper": float(row[(metric, "upper_confidence_boundary")]),
            }
        out.append(chunk)
    return out


def _drift(reference, analysis, chunk_size: int) -> list[dict]:
    """NannyML's univariate drift per chunk: the features each method alerts on."""
    import nannyml as nml

    calculator = nml.UnivariateDriftCalculator(
        column_names=FEATURES,
        timestamp_column_name="timestamp",
        continuous_methods=DRIFT_METHODS["continuous"],
        categorical_methods=DRIFT_METHODS["categorical"],
        chunk_size=chunk_size,
    )
    calculator.fit(reference)
    frame = calculator.calculate(analysis).filter(period="analysis").to_df()
    out = []
    for _, row in frame.iterrows():
        chunk = {
            "start": int(row[("chunk", "chunk", "start_index")]),
            "end": int(row[("chunk", "chunk", "end_index")]) + 1,
            "alerts": {},
        }
        for feature in FEATURES:
            for method in {m for ms in DRIFT_METHODS.values() for m in ms}:
                key = (feature, method, "alert")
                if key in row.index and bool(row[key]):
                    chunk["alerts"].setdefault(method, []).append(feature)
        out.append(chunk)
    return out


def main() -> None:
    import nannyml as nml

    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    reference, analysis, targets = nml.load_synthetic_car_loan_dataset()
    reference.to_csv(out / "reference.csv", index=False)
    analysis.to_csv(out / "analysis.csv", index=False)
    targets.to_csv(out / "analysis_targets.csv", index=False)
    start = time.perf_counter()
    result = {
        "nannyml": nml.__version__,
        "chunks": _chunks(reference, analysis, 5_000),
        "halves": _chunks(reference, analysis, len(analysis) // 2),
    }
    result["drift"] = _drift(reference, analysis, 5_000)
    result["seconds"] = time.perf_counter() - start
    (out / "nannyml.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
