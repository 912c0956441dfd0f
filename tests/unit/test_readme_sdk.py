"""The README's SDK snippets run, as written, and do what the text around them says.

The quickstart's complete example runs on the real node (test_readme_quickstart.py).
The later snippets are fragments of a service: each runs here in a fresh interpreter
after a prelude that defines the names the service would have (its features, a
model's outputs, a LightGBM booster), with the sink swapped for stdout so the events
can be read back. A snippet renamed or an argument dropped in the SDK fails here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
SNIPPETS = re.findall(r"```python\n(.*?)```", README, flags=re.S)

#: The names a service has before the snippet starts, per snippet (found by its first
#: words, so the README can move them around).
PRELUDES = {
    "contributions = booster.predict": """
import lightgbm, numpy as np
from mlmon import PredictionLogger
log = PredictionLogger(model="fraud", version="v1", sink="elasticsearch")
feature_names = ["amount", "account_age_days"]
train = np.random.default_rng(1).random((200, 2))
booster = lightgbm.LGBMClassifier(n_estimators=5, min_child_samples=5, verbose=-1).fit(
    train, train[:, 0] > 0.5)
X = np.array([[0.7, 0.2]])
row = dict(zip(feature_names, X[0].tolist()))
label, score = True, 0.8
""",
    "live = PredictionLogger": """
from mlmon import PredictionLogger
features = {"merchant_name": "m1", "amount": 12.5}
label, score, label2, score2, truth = True, 0.9, False, 0.3, True
""",
    "risk = PredictionLogger": """
from mlmon import PredictionLogger
raw = {"amount": 120.0, "country": "FR"}
label, score, decision, p = "high", 0.81, "review", 0.64
""",
    "from mlmon import PredictionLogger\nfrom mlmon.sdk import Redact": "",
}

#: After the snippet: events the text says it handles, then every logger closed (flushed).
EPILOGUES = {
    "from mlmon import PredictionLogger\nfrom mlmon.sdk import Redact": (
        'log.prediction(features={"customer_id": "c-17", "email": "a@example.com",'
        ' "amount": 3.0}, prediction=True)\n'
    ),
}
CLOSE_ALL = """
for _value in list(globals().values()):
    if isinstance(_value, PredictionLogger):
        _value.close()
"""


def snippet(start: str) -> str:
    (found,) = [s for s in SNIPPETS if s.startswith(start)]
    return found


def run_snippet(start: str) -> list[dict]:
    """The snippet after its prelude, sinks swapped for stdout: the events it emitted."""
    code = snippet(start)
    code = re.sub(r'sink="[^"]+"', 'sink="stdout"', code)
    prelude = re.sub(r'sink="[^"]+"', 'sink="stdout"', PRELUDES[start])
    program = f"{prelude}\n{code}\n{EPILOGUES.get(start, '')}{CLOSE_ALL}"
    env = {**os.environ, "MLMON_HASH_KEY": "a-test-key"}
    ran = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env=env, check=False
    )
    assert ran.returncode == 0, ran.stderr
    return [json.loads(line) for line in ran.stdout.splitlines() if line.startswith("{")]


def test_every_python_snippet_in_the_readme_is_run_by_a_test():
    starts = [*PRELUDES, "from mlmon import PredictionLogger\n\nlog = PredictionLogger("]
    for text in SNIPPETS:
        assert any(text.startswith(s) for s in starts), f"no test runs:\n{text}"


def test_attributions_snippet_logs_the_boosters_contributions():
    (event,) = run_snippet("contributions = booster.predict")
    assert set(event["attributions"]) == {"amount", "account_age_days"}
    assert event["attributions"]["amount"] != 0.0  # the booster split on amount
    assert event["attributions_abs"]["amount"] == abs(event["attributions"]["amount"])


def test_shadow_snippet_joins_one_actual_to_the_live_prediction_and_its_shadow():
    events = run_snippet("live = PredictionLogger")
    live, *_ = [e for e in events if e["model"]["version"] == "v1" and "prediction" in e]
    (shadow,) = [e for e in events if e["model"]["version"] == "v2"]
    (actual,) = [e for e in events if e["event"]["kind"] == "actual"]
    assert shadow["model"]["deployment"] == "shadow"
    assert shadow["trace"]["shadow_of"] == live["prediction_id"] == actual["prediction_id"]
    assert shadow["latency_ms"]["total"] == 41.0


def test_chain_snippet_names_the_upstream_prediction():
    events = run_snippet("risk = PredictionLogger")
    (risk,) = [e for e in events if e["model"]["name"] == "risk"]
    (review,) = [e for e in events if e["model"]["name"] == "review"]
    assert review["trace"]["parent_prediction_id"] == risk["prediction_id"]


@pytest.mark.parametrize("field", ["customer_id", "email"])
def test_redact_snippet_keeps_the_fields_it_names_out_of_the_event(field):
    (event,) = run_snippet("from mlmon import PredictionLogger\nfrom mlmon.sdk import Redact")
    raw = {"customer_id": "c-17", "email": "a@example.com"}[field]
    assert raw not in json.dumps(event)
    assert event["features"]["amount"] == 3.0
    if field == "email":
        assert event["features"]["email"]  # hashed, still there to group by
    else:
        assert "customer_id" not in event["features"]
