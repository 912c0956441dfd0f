"""The core imports nothing heavy: each module in a fresh interpreter, its module set checked.

Schema, profile values, tagging, the prepare path and the SDK need only the
standard library (and orjson, fluent-logger for the sinks); the analysis
modules that compute statistics may load numpy and scipy, nothing more.
pandas and pyarrow belong to baseline building, the file source and the
CLI; the Elasticsearch client to es/ and to the sinks and lookups that use it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlmon.baseline import build_profile

HEAVY = frozenset(
    {"pandas", "numpy", "pyarrow", "scipy", "elasticsearch", "elastic_transport", "rich"}
)
#: Why the SDK does not use structlog.wrap_logger: importing structlog loads rich and asyncio.
SDK_HEAVY = HEAVY | {"structlog", "asyncio"}
MATH = frozenset({"numpy", "scipy"})


def loaded_after(code: str, watched: frozenset[str] = SDK_HEAVY) -> set[str]:
    """Which of ``watched`` a fresh interpreter has in sys.modules after running ``code``."""
    report = f"import json, sys\nprint(json.dumps(sorted(set(sys.modules) & {set(watched)!r})))"
    probe = f"{code}\n{report}"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


CORE = {
    "mlmon": frozenset(),
    "mlmon.errors": frozenset(),
    "mlmon.schema": frozenset(),
    "mlmon.schema.event": frozenset(),
    "mlmon.schema.document": frozenset(),
    "mlmon.baseline": frozenset(),
    "mlmon.baseline.profile": frozenset(),
    "mlmon._tagging": frozenset(),
    "mlmon._prepare": frozenset(),
    "mlmon.sdk": frozenset(),
    "mlmon.sdk.processors": frozenset(),
    "mlmon.testing": frozenset(),
    "mlmon.es.settings": frozenset(),
    "mlmon.analysis.dimensions": frozenset(),
    "mlmon.analysis.window": frozenset(),
    "mlmon.analysis.stats": MATH,
    "mlmon.analysis.calibration": MATH,
    "mlmon.analysis.cbpe": MATH,
    "mlmon.analysis.metrics": MATH,
    "mlmon.analysis.source": MATH,
    "mlmon.analysis.drift": MATH,
    "mlmon.analysis.quality": MATH,
    "mlmon.analysis.slices": MATH,
    "mlmon.analysis.slice_score": MATH,
    "mlmon.analysis.sampled": MATH,
    "mlmon.analysis.rootcause": MATH,
    "mlmon.analysis.trace": MATH,
    "mlmon.analysis.overall": MATH,
}


@pytest.mark.parametrize("module", sorted(CORE))
def test_core_module_imports_nothing_heavy(module):
    assert loaded_after(f"import {module}") <= CORE[module]


@pytest.mark.parametrize(
    "sink", ["stdout", "fluentd://127.0.0.1:9"], ids=["stdout-sink", "fluentd-sink"]
)
def test_a_logger_with_a_stdout_or_fluentd_sink_loads_nothing_heavy(sink):
    code = (
        "import mlmon\n"
        f"log = mlmon.PredictionLogger('fraud', 'v1', sink={sink!r})\n"
        "log.close(timeout=0.5)"
    )
    assert loaded_after(code) == set()


@pytest.mark.parametrize(
    ("sink", "own", "other"),
    [
        ("stdout", {"orjson"}, {"ormsgpack", "msgpack", "socket"}),
        ("fluentd://127.0.0.1:9", {"ormsgpack", "socket"}, {"orjson"}),
    ],
    ids=["stdout-sink", "fluentd-sink"],
)
def test_a_logger_loads_its_own_sink_only(sink, own, other):
    """``import mlmon`` names the logger lazily; making one imports its sink's module only."""
    watched = frozenset(own | other | {"mlmon.sdk._logger"})
    assert loaded_after("import mlmon", watched) == set()
    code = f"import mlmon\nmlmon.PredictionLogger('fraud', 'v1', sink={sink!r}).close(timeout=0.5)"
    assert loaded_after(code, watched) == own | {"mlmon.sdk._logger"}


def test_profile_rules_load_and_tag_without_pandas(tmp_path: Path):
    """A profile file is read, compiled and applied with the standard library only."""
    import pandas as pd

    profile = build_profile(
        pd.DataFrame({"merchant": ["a", "b"] * 5, "amount": [1.0, 9.0] * 5}),
        model="fraud",
        version="v1",
        name="training",
        created_at="2026-01-01T00:00:00.000Z",
    )
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(profile.to_dict()))
    code = (
        "import io, json, mlmon\n"
        "out = io.StringIO()\n"
        f"log = mlmon.PredictionLogger('fraud', 'v1', sink='stdout', stream=out, "
        f"profile={str(path)!r})\n"
        "log.prediction(features={'merchant': 'zz', 'amount': 5.0}, prediction='x')\n"
        "log.close()\n"
        "quality = json.loads(out.getvalue())['quality']\n"
        "assert quality['unseen'] == ['merchant'], quality\n"
        "assert quality['profile'] == 'fraud:v1:training:r1', quality"
    )
    assert loaded_after(code) == set()


def test_a_trace_loads_scipy_special_not_scipy_stats():
    """scipy.stats costs a trace process more than a second to import (its tail
    probabilities come from scipy.special: tests/unit/test_stats.py checks the bits), and
    pandas most of another on the Elasticsearch path, which needs no frame."""
    watched = frozenset({"scipy.special", "scipy.stats", "pandas", "pyarrow.parquet"})
    loaded = loaded_after(
        "import mlmon._trace_request, mlmon.analysis.trace, mlmon.sources.elasticsearch\n"
        "import mlmon.sources.chain, mlmon.baseline.store, mlmon.report.render, mlmon.cli",
        watched,
    )
    assert loaded == {"scipy.special"}


def test_the_builders_do_load_pandas():
    """The check can fail: the edge modules are seen loading what they need."""
    assert {"pandas", "numpy"} <= loaded_after("import mlmon.baseline.build")
    assert {"pandas", "pyarrow"} <= loaded_after("from mlmon.baseline import read_table")
    assert "elasticsearch" in loaded_after("import mlmon.baseline.store")
