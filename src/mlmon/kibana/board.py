"""Kibana 8.x dashboard saved objects: the grid of Lens panels and the option-list controls.

Panels are by reference (each Lens object stands alone in the library), written the
way Kibana's dashboard extracts them on save and export: ``panelRefName`` is
``panel_<panelIndex>`` and its reference is named ``<panelIndex>:panel_<panelIndex>``.
"""

from __future__ import annotations

import json

from mlmon.kibana.lens import DATA_VIEW_ID, KIBANA_VERSION, SavedObject, saved_object, stable_id
from mlmon.kibana.spec import Dashboard, Panel


def _grid(panels: tuple[Panel, ...]) -> list[dict]:
    """Left to right, wrapping at Kibana's 48 columns."""
    x = y = row_height = 0
    grid = []
    for index, panel in enumerate(panels):
        if x + panel.width > 48:
            x, y, row_height = 0, y + row_height, 0
        grid.append({"x": x, "y": y, "w": panel.width, "h": panel.height, "i": str(index)})
        x += panel.width
        row_height = max(row_height, panel.height)
    return grid


def _controls(dashboard: Dashboard) -> dict:
    panels = {}
    for order, field in enumerate(dashboard.controls):
        control_id = stable_id(dashboard.slug, "control", field)
        panels[control_id] = {
            "order": order,
            "width": "medium",
            "grow": True,
            "type": "optionsListControl",
            "explicitInput": {
                "id": control_id,
                "fieldName": field,
                "title": field.split(".")[-1].capitalize(),
                "searchTechnique": "prefix",
                "selectedOptions": [],
                "enhancements": {},
            },
        }
    return {
        "controlStyle": "oneLine",
        "chainingSystem": "HIERARCHICAL",
        "showApplySelections": False,
        "panelsJSON": json.dumps(panels),
        "ignoreParentSettingsJSON": json.dumps(
            {
                "ignoreFilters": False,
                "ignoreQuery": False,
                "ignoreTimerange": False,
                "ignoreValidations": False,
            }
        ),
    }


def dashboard_object(dashboard: Dashboard) -> SavedObject:
    panels_json = []
    references = []
    for index, (panel, grid) in enumerate(
        zip(dashboard.panels, _grid(dashboard.panels), strict=True)
    ):
        ref = f"panel_{index}"  # Kibana names the reference "<panelIndex>:<panelRefName>"
        panels_json.append(
            {
                "version": KIBANA_VERSION,
                "type": "lens",
                "gridData": grid,
                "panelIndex": str(index),
                "embeddableConfig": {"enhancements": {}},
                "panelRefName": ref,
            }
        )
        references.append(
            {"name": f"{index}:{ref}", "type": "lens", "id": stable_id(dashboard.slug, panel.title)}
        )
    for field in dashboard.controls:
        control_id = stable_id(dashboard.slug, "control", field)
        references.append(
            {
                "name": f"controlGroup_{control_id}:optionsListDataView",
                "type": "index-pattern",
                "id": DATA_VIEW_ID,
            }
        )
    return saved_object(
        "dashboard",
        f"mlmon-{dashboard.slug}",
        {
            "title": dashboard.title,
            "description": dashboard.description,
            "panelsJSON": json.dumps(panels_json),
            "optionsJSON": json.dumps(
                {
                    "useMargins": True,
                    "syncColors": False,
                    "syncCursor": True,
                    "hidePanelTitles": False,
                }
            ),
            "controlGroupInput": _controls(dashboard),
            "timeRestore": True,
            "timeFrom": dashboard.time_from,
            "timeTo": dashboard.time_to,
            # paused: opening a dashboard must not re-run 30 searches a minute per viewer
            "refreshInterval": {"pause": True, "value": 60000},
            "kibanaSavedObjectMeta": {
                "searchSourceJSON": json.dumps(
                    {"query": {"query": "", "language": "lucene"}, "filter": []}
                )
            },
        },
        references,
    )
