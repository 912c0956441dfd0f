"""`mlmon demo` end to end: simulate, register, send, and trace the incident it injected."""

from __future__ import annotations

import re

from conftest import forget_model, run_mlmon, unique_model


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
    assert re.search(
        r"7\. Kibana dashboards checked .*: (\d+) panels, \1 with data, 0 problems", out
    )
    html = (tmp_path / f"{name}-report.html").read_text()
    assert "scammeds.com" in html and "<svg" in html
