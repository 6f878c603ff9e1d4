"""The policy table covers every route, agrees with which routes are public, and
docs/permissions.md is generated from it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from assay.api.app import create_app
from assay.api.policy import _KINDS, POLICY, PUBLIC

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def operations() -> dict[str, tuple[str, str, bool]]:
    """operation id → (method, path, needs a token)."""
    schema = create_app(start_workers=False).openapi()
    return {
        op["operationId"]: (method.upper(), path, bool(op.get("security")))
        for path, item in schema["paths"].items()
        for method, op in item.items()
    }


_KIND_OF_PARAM = {
    "datastore_id": "datastore",
    "container_id": "container",
    "check_id": "check",
    "anomaly_id": "anomaly",
    "operation_id": "operation",
    "schedule_id": "schedule",
    "partition_id": "partition",
}


def suggestion(operation_id: str, method: str, path: str, protected: bool) -> str:
    """The POLICY line to add for a route without one (a starting point to review)."""
    if not protected:
        return f'"{operation_id}": PUBLIC,'
    params = re.findall(r"\{(\w+)\}", path)
    known = [p for p in params if p in _KIND_OF_PARAM]
    if known:
        kind = _KIND_OF_PARAM[known[0]]
        level = "Reporter" if method in ("GET", "HEAD") else "Editor"
        return f'"{operation_id}": team("{level}", path("{kind}", "{known[0]}")),'
    if method in ("GET", "HEAD"):
        return f'"{operation_id}": SIGNED_IN,  # a listing: the session is team-scoped'
    return f'"{operation_id}": role("Manager"),  # or team("Editor", body("datastore", "datastore_id"))'


def test_every_route_has_a_policy_entry(operations):
    missing = [
        f"  {suggestion(op, method, path, protected)}  # {method} {path}"
        for op, (method, path, protected) in sorted(operations.items())
        if op not in POLICY
    ]
    assert not missing, (
        "routes without an entry in POLICY (assay/api/policy.py): until they get one they answer 403 to all "
        "but Admins. Add these lines (review the permission) and run `python scripts/permissions_table.py`:\n"
        + "\n".join(missing)
    )


def test_no_entry_for_a_route_that_does_not_exist(operations):
    assert sorted(set(POLICY) - set(operations)) == []


def test_public_entries_are_exactly_the_routes_without_a_token(operations):
    wrong = [
        f"{op}: POLICY says {'public' if POLICY[op] is PUBLIC else 'protected'}, "
        f"the route is {'protected' if protected else 'public'}"
        for op, (_m, _p, protected) in operations.items()
        if op in POLICY and (POLICY[op] is PUBLIC) == protected
    ]
    assert wrong == []


def test_every_entry_names_a_known_role_permission_and_kind():
    for op, rule in POLICY.items():
        assert rule.role in ("Member", "Manager", "Admin"), op
        assert rule.permission in (None, "Reporter", "Viewer", "Drafter", "Author", "Editor"), op
        if rule.find:
            assert rule.find.kind in _KINDS and rule.find.source in ("path", "query", "body"), op


def test_permissions_doc_is_up_to_date():
    done = subprocess.run(
        [sys.executable, "scripts/permissions_table.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr + "\n(run: python scripts/permissions_table.py)"
