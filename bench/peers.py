"""Evidently's data-drift report and NannyML's univariate drift on the pulled events.

``python -m bench.peers TOOL FILE`` reads the JSON lines ``bench.pull``
wrote (timed apart as ``read_s``), takes the training period as reference
and runs the tool over the 20 features (``compute_s``). Run as a child
process so its peak memory is its own. Telemetry is off (no network here).
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


def _read(path: Path):
    import orjson
    import pandas as pd

    rows = []
    with path.open("rb") as stream:
        for line in stream:
            doc = orjson.loads(line)
            row = dict(doc["features"])
            row["timestamp"] = doc["@timestamp"]
            rows.append(row)
    frame = pd.DataFrame(rows)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"]).dt.tz_localize(None)
    return frame


def evidently(reference, current, categorical, numeric) -> dict:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(categorical_columns=categorical, numerical_columns=numeric)
    columns = categorical + numeric
    snapshot = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(current[columns], data_definition=definition),
        Dataset.from_pandas(reference[columns], data_definition=definition),
    )
    first = snapshot.dict()["metrics"][0]["value"]
    return {"drifted_columns": first.get("count")}


def nannyml(reference, current, categorical, numeric) -> dict:
    import nannyml as nml

    columns = categorical + numeric
    calculator = nml.UnivariateDriftCalculator(
        column_names=columns,
        timestamp_column_name="timestamp",
        chunk_period="D",
        continuous_methods=["kolmogorov_smirnov", "jensen_shannon"],
        categorical_methods=["chi2", "jensen_shannon"],
    )
    calculator.fit(reference[[*columns, "timestamp"]])
    result = calculator.calculate(current[[*columns, "timestamp"]]).filter(period="analysis")
    return {"chunks": len(result.to_df())}


def main() -> None:
    import pandas as pd

    from bench.synth import CATEGORICAL, NUMERIC, training_frame

    tool, path = sys.argv[1], Path(sys.argv[2])
    start = time.perf_counter()
    current = _read(path)
    read_s = time.perf_counter() - start
    reference = training_frame(20_000)
    reference["timestamp"] = pd.date_range("2026-11-01", periods=len(reference), freq="15s")
    run = {"evidently": evidently, "nannyml": nannyml}[tool]
    start = time.perf_counter()
    detail = run(reference, current, list(CATEGORICAL), list(NUMERIC))
    print(json.dumps({"read_s": read_s, "compute_s": time.perf_counter() - start, **detail}))


if __name__ == "__main__":
    main()
