"""scripts/endpoint_coverage.py: served vs listed Qualytics endpoints, measured from the app."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("endpoint_coverage", ROOT / "scripts" / "endpoint_coverage.py")
assert _spec and _spec.loader
coverage_script = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = coverage_script  # dataclasses look their module up there
_spec.loader.exec_module(coverage_script)

LISTING = """
## All endpoints by area

### Datastores & connections

| method | path | sources | Assay |
|---|---|---|---|
| GET | `/api/datastores/{datastore_id}` | SWG, CLI | ✔ |
| GET | `/api/datastores/{id}/` | SWG | ✔ |
| POST | `/api/datastores/{id}/teleport` | UG | ✘ |

### Operations & schedules

| method | path | sources | Assay |
|---|---|---|---|
| PUT | `/api/operations/abort/{operation_id}` | CLI | ✔ |
| DELETE | `/api/operations/schedule/{id}?force=true` | SWG | ✔ |

### Assay-only (served by Assay, not found in any source)

| method | path | sources | Assay |
|---|---|---|---|
| GET | `/api/partitions` | – | ✔ |
"""


def test_coverage_counts_served_and_missing_endpoints_from_the_real_openapi():
    endpoints = coverage_script.parse_endpoints(LISTING)
    # the trailing-slash duplicate collapses; the Assay-only row is not a Qualytics endpoint
    assert [(e.method, e.path) for e in endpoints] == [
        ("GET", "/api/datastores/{datastore_id}"),
        ("POST", "/api/datastores/{id}/teleport"),
        ("PUT", "/api/operations/abort/{operation_id}"),
        ("DELETE", "/api/operations/schedule/{id}?force=true"),
    ]
    result = coverage_script.coverage(endpoints, coverage_script.served_routes(coverage_script.app_openapi()))
    assert (result["listed"], result["served"]) == (4, 3)
    assert result["missing"] == [
        {"method": "POST", "path": "/api/datastores/{id}/teleport", "area": "Datastores & connections"}
    ]
    assert result["by_area"] == {
        "Datastores & connections": {"served": 1, "listed": 2},
        "Operations & schedules": {"served": 2, "listed": 2},
    }
    assert result["by_source"] == {
        "CLI": {"served": 2, "listed": 2},
        "SWG": {"served": 2, "listed": 2},
        "UG": {"served": 0, "listed": 1},
    }
