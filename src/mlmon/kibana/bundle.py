"""The files in ``kibana/``: generated from :mod:`mlmon.kibana.dashboards`, committed.

``mlmon kibana export`` writes them; a test keeps the committed copies equal
to what the source generates, so a review of the Python is a review of the
dashboards.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from mlmon.errors import UsageError
from mlmon.kibana.board import dashboard_object
from mlmon.kibana.dashboards import FeatureChoice, dashboards, rules
from mlmon.kibana.lens import SavedObject, data_view, lens
from mlmon.kibana.rules import rule_body
from mlmon.kibana.spec import Dashboard

SAVED_OBJECTS = "mlmon-saved-objects.ndjson"
RULES = "mlmon-rules.json"


@dataclass(frozen=True)
class Bundle:
    """The saved objects (NDJSON text) and the alert rules (API bodies)."""

    ndjson: str
    rules: list[dict]

    def write(self, folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        ndjson, rules_file = folder / SAVED_OBJECTS, folder / RULES
        ndjson.write_text(self.ndjson, encoding="utf-8")
        rules_file.write_text(json.dumps(self.rules, indent=2) + "\n", encoding="utf-8")
        return [ndjson, rules_file]


def saved_objects(boards: tuple[Dashboard, ...]) -> list[SavedObject]:
    """Data view first, then each dashboard's Lens objects, then the dashboard."""
    objects = [data_view()]
    for dashboard in boards:
        objects.extend(lens(dashboard, panel) for panel in dashboard.panels)
        objects.append(dashboard_object(dashboard))
    return objects


def to_ndjson(objects: list[SavedObject]) -> str:
    return "".join(json.dumps(obj, sort_keys=True, ensure_ascii=False) + "\n" for obj in objects)


def generate(features: FeatureChoice | None = None) -> Bundle:
    return Bundle(to_ndjson(saved_objects(dashboards(features))), [rule_body(r) for r in rules()])


def load(folder: Path) -> Bundle:
    """Read a ``kibana/`` folder (as committed, or as a user edited it)."""
    ndjson, rules_file = folder / SAVED_OBJECTS, folder / RULES
    if not ndjson.is_file():
        raise UsageError(f"{ndjson} does not exist; run `mlmon kibana export` first")
    try:
        rule_list = json.loads(rules_file.read_text("utf-8")) if rules_file.is_file() else []
    except json.JSONDecodeError as error:
        raise UsageError(f"{rules_file}: line {error.lineno}: not JSON ({error.msg})") from None
    return Bundle(ndjson.read_text("utf-8"), rule_list)


def default_folder() -> Path:
    """``kibana/`` beside ``src/`` in a checkout, else the current directory's."""
    checkout = Path(__file__).resolve().parents[3] / "kibana"
    return checkout if checkout.is_dir() else Path("kibana")
