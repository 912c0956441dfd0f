"""The plain prediction call's direct path gives the document the schema gives, or its error.

The caller's thread makes a row (validating), the worker the document: both halves here.
"""

from __future__ import annotations

import math
import re
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from mlmon.errors import InvalidEventError
from mlmon.schema.document import normalize_event
from mlmon.sdk._fastpath import PredictionDocs, UtcNow

MODEL = {"name": "fraud", "version": "v1", "environment": "prod"}

names = st.one_of(st.sampled_from(["amount", "merchant", "x_1", "bad name", "a.b", ""]), st.text())
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=2),
)


#: None (the plain call), a mapping of names to anything, or something that is no mapping
attributions = st.one_of(
    st.none(), st.dictionaries(names, values, max_size=4), st.integers(), st.text(max_size=3)
)


def _schema(features, label, score, value, attributions=None):
    raw = {
        "@timestamp": "2026-11-22T10:00:00.123Z",
        "event": {"kind": "prediction", "schema_version": 1},
        "model": MODEL,
        "prediction_id": "p1",
        "features": features,
    }
    outcome = {k: v for k, v in (("label", label), ("score", score), ("value", value))}
    outcome = {k: v for k, v in outcome.items() if v is not None}
    if outcome:
        raw["prediction"] = outcome
    if attributions is not None:
        raw["attributions"] = attributions
    return normalize_event(raw)


def _outcome(call):
    try:
        return call()
    except InvalidEventError:
        return "invalid"


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(names, values, max_size=6), values, values, values, attributions)
def test_the_direct_path_and_normalize_event_agree(features, label, score, value, attributions):
    docs = PredictionDocs(MODEL, clock=lambda: 1795341600.1235)  # 2026-11-22T10:00:00.123Z

    def direct():
        return docs.document(docs.row("p1", features, label, score, value, attributions))

    schema = _outcome(lambda: _schema(features, label, score, value, attributions))
    assert _outcome(direct) == schema
    # Again, now that the valid names are known (the schema skips checking them again).
    assert _outcome(direct) == schema


def test_the_handoffs_slots_become_documents_in_order():
    docs = PredictionDocs(MODEL, clock=lambda: 1795341600.1235)
    general = {"event": {"kind": "actual"}, "prediction_id": "p0"}
    rows = [docs.row(f"p{i}", {"amount": float(i)}, "fraud", None, None) for i in (1, 2)]
    made = docs.documents([*rows[0], general, None, None, None, *rows[1]])
    assert [d["prediction_id"] for d in made] == ["p1", "p0", "p2"]
    assert made[1] is general
    assert made[0]["model"] == MODEL and made[0]["model"] is not made[2]["model"]


def test_utc_now_is_the_schemas_timestamp_form_and_current():
    stamp = UtcNow()()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)
    from datetime import datetime

    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    assert math.isclose(moment, time.time(), abs_tol=2.0)
