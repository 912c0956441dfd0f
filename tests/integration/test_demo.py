"""`mlmon demo` end to end: simulate, register, send, and trace the incident it injected."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import forget_model, run_mlmon, unique_model

ROOT = Path(__file__).resolve().parents[2]
#: Every Lens panel of the committed saved objects is checked on the demo's data.
PANELS = sum(
    json.loads(line)["type"] == "lens"
    for line in (ROOT / "kibana" / "mlmon-saved-objects.ndjson").read_text().splitlines()
    if line.strip()
)


def test_demo_finds_the_incident_it_injected(es, tmp_path):
    name = unique_model("demo")
    try:
        result = run_mlmon(
            "demo", "--events", "20000", "--out", str(tmp_path), "--model", name, timeout=900
        )
    finally:
        forget_model(es, name)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "20,000 predictions and 20,000 actuals" in out
    assert "0 dropped" in out
    assert "Top cause: quality (merchant_name=scammeds.com)" in out
    assert "account_age_days is missing" in out
    checked = f"{PANELS} panels, {PANELS} with data, 0 problems"
    assert re.search(rf"7\. Kibana dashboards checked .*: {checked}", out)
    assert checked in (ROOT / "README.md").read_text(), "the README's demo output is stale"
    html = (tmp_path / f"{name}-report.html").read_text()
    assert "scammeds.com" in html and "<svg" in html
