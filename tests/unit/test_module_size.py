"""No module grows past what one sitting can read: a module over 400 lines is split by
responsibility (as sources/es_query.py from sources/elasticsearch.py, kibana/structure.py
from kibana/validate.py) before it lands."""

from __future__ import annotations

from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "mlmon"
LIMIT = 400


def test_no_module_is_over_400_lines():
    sizes = {str(p.relative_to(SRC)): len(p.read_text().splitlines()) for p in SRC.rglob("*.py")}
    assert len(sizes) > 100
    assert {name: n for name, n in sizes.items() if n > LIMIT} == {}
