"""Users, roles, teams and datastore permissions, from outside: a live `assay serve` on a free
port, driven over HTTP (httpx) and with the real qualytics CLI.

One server for the module. Two datastores: ALPHA, held by five teams (one per permission,
Reporter … Editor, each with one Member), and BETA, held by team "B-Editor" whose Member
``mb`` is the attacker of the leak tests: nothing of ALPHA may reach them, by id, listing,
search, export or error message.
"""

from __future__ import annotations

import os
import re
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pytest

from tests.cli.forkserver import run_tool, start_assay, wait_until_serving
from tests.tools import tool_from_pypi

PERMISSIONS = ("Reporter", "Viewer", "Drafter", "Author", "Editor")
PASSWORD = "correct horse battery"
ADMIN_EMAIL, ADMIN_PASSWORD = "root@assay.test", "admin password 1"
#: One TLS context for every client of the module: httpx builds a new one (loading the CA
#: bundle, ~45 ms of CPU) for each client otherwise, and the tests make one per request.
TLS = ssl.create_default_context()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _duckdb(path: Path, table: str) -> None:
    con = duckdb.connect(str(path))
    con.execute(f"create table {table} (id integer, v varchar)")
    con.execute(f"insert into {table} values (1, 'a'), (2, NULL), (3, NULL)")
    con.close()


class World:
    """The server, its users' tokens and the ids of what ALPHA and BETA hold."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "ASSAY_DATA_DIR": str(tmp / "assay"),
            "ASSAY_WORKERS": "1",
            "ASSAY_ADMIN_EMAIL": ADMIN_EMAIL,
            "ASSAY_ADMIN_PASSWORD": ADMIN_PASSWORD,
        }
        self.env.pop("ASSAY_DATABASE_URL", None)
        self.proc = start_assay(["serve", "--port", str(self.port)], env=self.env, log=tmp / "server.log")
        wait_until_serving(self.url, self.proc, tmp / "server.log")
        self.admin = self.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD)
        self.tokens: dict[str, str] = {}

    def client(self, token: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=f"{self.url}/api", headers=headers, timeout=60, verify=TLS)

    def sign_in(self, email: str, password: str) -> str:
        r = httpx.post(
            f"{self.url}/api/auth/sign-in", json={"email": email, "password": password}, timeout=30, verify=TLS
        )
        assert r.status_code == 200, r.text
        return r.json()["token"]

    def as_(self, who: str) -> httpx.Client:
        return self.client(self.admin if who == "Admin" else self.tokens[who])

    def ok(self, method: str, path: str, who: str = "Admin", **kw):
        with self.as_(who) as c:
            r = c.request(method, path, **kw)
        assert r.status_code < 300, f"{who}: {method} {path} -> {r.status_code} {r.text}"
        return None if r.status_code == 204 else r.json()

    def wait(self, op_id: int) -> dict:
        for _ in range(600):
            op = self.ok("GET", f"/operations/{op_id}")
            if op["end_time"]:
                return op
            time.sleep(0.05)
        raise AssertionError(f"operation {op_id} did not end")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("teams")
    _duckdb(tmp / "alpha.duckdb", "alpha_table")
    _duckdb(tmp / "beta.duckdb", "beta_table")
    w = World(tmp)
    teams = {}
    for p in PERMISSIONS:
        teams[p] = w.ok("POST", "/teams", json={"name": f"A-{p}", "permission": p})["id"]
    teams["B"] = w.ok("POST", "/teams", json={"name": "B-Editor", "permission": "Editor"})["id"]
    for who, team_ids, role in [
        *((p, [teams[p]], "Member") for p in PERMISSIONS),
        ("mb", [teams["B"]], "Member"),
        ("Manager", [], "Manager"),
    ]:
        email = f"{who.lower()}@assay.test"
        w.ok(
            "POST",
            "/users",
            json={"name": who, "email": email, "password": PASSWORD, "team_ids": team_ids, "role": role},
        )
        w.tokens[who] = w.sign_in(email, PASSWORD)
    ds = {}
    for name, table, held_by in [
        ("alpha_store", "alpha", [f"A-{p}" for p in PERMISSIONS]),
        ("beta_store", "beta", ["B-Editor"]),
    ]:
        body = {
            "name": name,
            "connection": {"type": "duckdb"},
            "database": str(tmp / f"{table}.duckdb"),
            "teams": held_by,
        }
        ds[table] = w.ok("POST", "/datastores", json=body)["id"]
    w.A, w.B = ds["alpha"], ds["beta"]
    for d in (w.A, w.B):
        assert (
            w.wait(w.ok("POST", "/operations/run", json={"type": "sync", "datastore_id": d})["id"])["result"]
            == "success"
        )
    w.cA = w.ok("GET", "/containers/listing", params={"datastore": w.A})[0]["id"]
    w.cB = w.ok("GET", "/containers/listing", params={"datastore": w.B})[0]["id"]
    w.checkA = w.ok("POST", "/quality-checks", json={"container_id": w.cA, "rule": "notNull", "fields": ["v"]})["id"]
    w.checkB = w.ok("POST", "/quality-checks", json={"container_id": w.cB, "rule": "notNull", "fields": ["v"]})["id"]
    w.opA = w.ok("POST", "/operations/run", json={"type": "scan", "datastore_id": w.A})["id"]
    w.opB = w.ok("POST", "/operations/run", json={"type": "scan", "datastore_id": w.B})["id"]
    assert w.wait(w.opA)["result"] == "success" and w.wait(w.opB)["result"] == "success"
    w.anomA = w.ok("GET", "/anomalies", params={"datastore": w.A})["items"][0]["id"]
    w.anomB = w.ok("GET", "/anomalies", params={"datastore": w.B})["items"][0]["id"]
    w.schedA = w.ok(
        "POST", "/operations/schedule", json={"type": "sync", "datastore_id": w.A, "crontab": "0 0 * * *", "name": "a"}
    )["id"]
    w.scanA = w.ok("GET", "/container-scans", params={"operation": w.opA})["items"][0]["id"]
    w.partA = w.ok("GET", "/partitions", params={"datastore": w.A})["items"][0]["id"]
    yield w
    w.stop()


def status(w: World, who: str, method: str, path: str, **kw) -> int:
    with w.as_(who) as c:
        return c.request(method, path, **kw).status_code


# -- the permission matrix: role × team permission × route family ---------------------------

WHO = (*PERMISSIONS, "Manager", "mb", "Admin")


def families(w: World) -> dict[str, tuple[str, str, dict, dict[str, int]]]:
    """route family → (method, path, request kwargs, expected status per user)."""

    def by_level(least: str, below: int = 403, outsider: int = 404, manager: int = 404) -> dict[str, int]:
        rank = PERMISSIONS.index(least)
        out = {p: (200 if i >= rank else below) for i, p in enumerate(PERMISSIONS)}
        return {**out, "Manager": manager, "mb": outsider, "Admin": 200}

    def by_role(least: str) -> dict[str, int]:
        ok = {"Member": WHO, "Manager": ("Manager", "Admin"), "Admin": ("Admin",)}[least]
        return {who: 200 if who in ok else 403 for who in WHO}

    return {
        "view datastore": ("GET", f"/datastores/{w.A}", {}, by_level("Reporter", manager=200)),
        "view container": ("GET", f"/containers/{w.cA}", {}, by_level("Reporter")),
        "view check": ("GET", f"/quality-checks/{w.checkA}", {}, by_level("Reporter")),
        "view anomaly": ("GET", f"/anomalies/{w.anomA}", {}, by_level("Reporter")),
        "view operation": ("GET", f"/operations/{w.opA}", {}, by_level("Reporter")),
        "view schedule": ("GET", f"/operations/schedule/{w.schedA}", {}, by_level("Reporter")),
        "view source records": ("GET", f"/anomalies/{w.anomA}/source-record", {}, by_level("Viewer")),
        "create draft check": (
            "POST",
            "/quality-checks",
            {"json": {"container_id": w.cA, "rule": "notNull", "fields": ["id"], "status": "Draft"}},
            by_level("Drafter"),
        ),
        "create active check": (
            "POST",
            "/quality-checks",
            {"json": {"container_id": w.cA, "rule": "notNull", "fields": ["id"]}},
            by_level("Author"),
        ),
        "edit active check": (
            "PUT",
            f"/quality-checks/{w.checkA}",
            {"json": {"description": "edited"}},
            by_level("Author"),
        ),
        "triage anomaly": ("PUT", f"/anomalies/{w.anomA}", {"json": {"status": "Acknowledged"}}, by_level("Editor")),
        "run operation": (
            "POST",
            "/operations/run",
            {"json": {"type": "sync", "datastore_id": w.A}},
            by_level("Editor", manager=403),  # a Manager sees every datastore's row, not its content
        ),
        "schedule operation": (
            "PUT",
            f"/operations/schedule/{w.schedA}",
            {"json": {"type": "sync", "datastore_id": w.A, "crontab": "0 1 * * *"}},
            by_level("Editor"),
        ),
        "edit datastore": (
            "PUT",
            f"/datastores/{w.A}",
            {"json": {"description": "d"}},
            by_level("Editor", manager=403),
        ),
        "create datastore": ("POST", "/datastores/connection", {"json": {"name": "x"}}, {}),  # filled below
        "manage tags": ("POST", "/global-tags", {"json": {"name": "t-{who}"}}, by_role("Manager")),
        "list users": ("GET", "/users", {}, by_role("Manager")),
        "manage users": ("PUT", "/users/1", {"json": {"name": "Admin"}}, by_role("Admin")),
        "manage teams": ("PUT", f"/teams/{1}", {"json": {"description": "every user"}}, by_role("Admin")),
        "own tokens": ("GET", "/user-tokens", {}, by_role("Member")),
    }


def test_permission_matrix(world):
    w = world
    got, want = {}, {}
    for family, (method, path, kw, expected) in families(w).items():
        if family == "create datastore":
            continue
        for who in WHO:
            if family == "manage tags":
                kw = {"json": {"name": f"tag-{who}"}}
            got[(family, who)] = status(w, who, method, path, **kw)
            want[(family, who)] = expected[who]
    wrong = {k: (got[k], want[k]) for k in got if got[k] != want[k]}
    assert wrong == {}, "(family, user): (got, expected)"
    # creating a datastore needs the Manager role (its connection is tested: a draft check)
    draft = {"name": "gamma", "connection": {"type": "duckdb"}, "database": str(w.tmp / "alpha.duckdb")}
    assert {who: status(w, who, "POST", "/datastores/connection", json=draft) for who in WHO} == {
        **dict.fromkeys(PERMISSIONS, 403),
        "mb": 403,
        "Manager": 200,
        "Admin": 200,
    }


def test_me_tells_the_ui_each_datastore_permission(world):
    w = world
    for p in PERMISSIONS:
        me = w.ok("GET", "/users/me", p)
        assert (me["role"], me["is_admin"], me["permissions"]) == (
            "Member",
            False,
            [{"datastore_id": w.A, "permission": p}],
        )
        assert [t["name"] for t in me["teams"]] == ["Public", f"A-{p}"]
    assert w.ok("GET", "/users/me", "mb")["permissions"] == [{"datastore_id": w.B, "permission": "Editor"}]
    assert w.ok("GET", "/users/me", "Manager")["permissions"] == []
    admin = w.ok("GET", "/users/me")
    assert admin["is_admin"] and {p["datastore_id"] for p in admin["permissions"]} >= {w.A, w.B}
    assert "password" not in str(admin) and "argon2" not in str(admin)


# -- what team B's Member sees of team A's datastore: nothing -------------------------------


def test_listings_hide_another_teams_rows(world):
    w = world

    def names(path, who="mb", **params):
        return w.ok("GET", path, who, params=params)

    assert [d["name"] for d in names("/datastores")["items"]] == ["beta_store"]
    assert [d["name"] for d in names("/datastores", search="alpha")["items"]] == []
    assert [c["id"] for c in names("/containers")["items"]] == [w.cB]
    assert [c["id"] for c in names("/containers", datastore=w.A)["items"]] == []
    _not_found_like_a_missing_id(
        w, "GET", f"/containers/listing?datastore={w.A}", "/containers/listing?datastore=999999"
    )
    assert [c["id"] for c in names("/quality-checks")["items"]] == [w.checkB]
    assert names("/quality-checks", datastore=w.A)["total"] == 0
    assert {a["datastore"]["id"] for a in names("/anomalies")["items"]} == {w.B}
    assert names("/anomalies", datastore=w.A)["total"] == 0
    assert {o["datastore_id"] for o in names("/operations")["items"]} == {w.B}
    assert names("/operations/schedule")["items"] == []
    assert names("/partitions", datastore=w.A)["items"] == []
    assert names("/container-scans", operation=w.opA)["items"] == []
    # every datastore has a connection named after it: a Member sees only their datastores'
    assert [c["name"] for c in names("/connections")["items"]] == ["beta_store"]
    assert [c["name"] for c in names("/connections/listing")] == ["beta_store"]
    # a Member of an ALPHA team sees ALPHA only; the Manager sees both datastores' rows, no content
    assert [d["name"] for d in names("/datastores", "Reporter")["items"]] == ["alpha_store"]
    assert {d["name"] for d in names("/datastores", "Manager")["items"]} >= {"alpha_store", "beta_store"}
    assert names("/containers", "Manager")["items"] == [] and names("/anomalies", "Manager")["total"] == 0


def _not_found_like_a_missing_id(w: World, method: str, path: str, missing: str, **kw) -> None:
    with w.as_("mb") as c:
        hidden = c.request(method, path, **kw)
        absent = c.request(method, missing, **kw)
    assert hidden.status_code == absent.status_code == 404, (path, hidden.text, absent.text)
    assert re.sub(r"\d+", "N", hidden.json()["detail"]) == re.sub(r"\d+", "N", absent.json()["detail"])
    assert "alpha" not in hidden.text


def test_another_teams_ids_answer_404_like_missing_ids(world):
    w = world
    m = 999_999
    for method, path, missing in [
        ("GET", f"/datastores/{w.A}", f"/datastores/{m}"),
        ("PUT", f"/datastores/{w.A}", f"/datastores/{m}"),
        ("GET", f"/containers/{w.cA}", f"/containers/{m}"),
        ("GET", f"/containers/{w.cA}/fields", f"/containers/{m}/fields"),
        ("GET", f"/containers/{w.cA}/profile", f"/containers/{m}/profile"),
        ("GET", f"/quality-checks/{w.checkA}", f"/quality-checks/{m}"),
        ("DELETE", f"/quality-checks/{w.checkA}", f"/quality-checks/{m}"),
        ("GET", f"/anomalies/{w.anomA}", f"/anomalies/{m}"),
        ("GET", f"/anomalies/{w.anomA}/source-record", f"/anomalies/{m}/source-record"),
        ("DELETE", f"/anomalies/{w.anomA}", f"/anomalies/{m}"),
        ("GET", f"/operations/{w.opA}", f"/operations/{m}"),
        ("PUT", f"/operations/rerun/{w.opA}", f"/operations/rerun/{m}"),
        ("GET", f"/operations/schedule/{w.schedA}", f"/operations/schedule/{m}"),
        ("DELETE", f"/operations/schedule/{w.schedA}", f"/operations/schedule/{m}"),
        ("GET", f"/container-scans/{w.scanA}", f"/container-scans/{m}"),
        ("GET", f"/partitions/{w.partA}", f"/partitions/{m}"),
    ]:
        kw = {"json": {"description": "x"}} if method == "PUT" else {}
        _not_found_like_a_missing_id(w, method, path, missing, **kw)
    # ids in bodies and queries: runs, checks, schedules, bulk triage and exports
    for method, path, kw_hidden, kw_absent in [
        (
            "POST",
            "/operations/run",
            {"json": {"type": "scan", "datastore_id": w.A}},
            {"json": {"type": "scan", "datastore_id": m}},
        ),
        (
            "POST",
            "/quality-checks",
            {"json": {"container_id": w.cA, "rule": "notNull", "fields": ["v"], "status": "Draft"}},
            {"json": {"container_id": m, "rule": "notNull", "fields": ["v"], "status": "Draft"}},
        ),
        (
            "POST",
            "/operations/schedule",
            {"json": {"type": "sync", "datastore_id": w.A, "crontab": "0 0 * * *"}},
            {"json": {"type": "sync", "datastore_id": m, "crontab": "0 0 * * *"}},
        ),
        (
            "PATCH",
            "/anomalies",
            {"json": [{"id": w.anomA, "status": "Acknowledged"}]},
            {"json": [{"id": m, "status": "Acknowledged"}]},
        ),
        ("DELETE", "/anomalies", {"json": [{"id": w.anomA, "archive": True}]}, {"json": [{"id": m, "archive": True}]}),
        ("DELETE", "/quality-checks", {"json": [{"id": w.checkA}]}, {"json": [{"id": m}]}),
        ("PATCH", "/containers", {"json": [{"id": w.cA, "tags": []}]}, {"json": [{"id": m, "tags": []}]}),
        ("POST", "/export/anomalies", {"params": {"datastore": w.A}}, {"params": {"datastore": m}}),
        ("POST", "/export/checks", {"params": {"datastore": w.A}}, {"params": {"datastore": m}}),
    ]:
        with w.as_("mb") as c:
            hidden, absent = c.request(method, path, **kw_hidden), c.request(method, path, **kw_absent)
        assert hidden.status_code == absent.status_code == 404, (path, hidden.text, absent.text)
        assert re.sub(r"\d+", "N", hidden.text) == re.sub(r"\d+", "N", absent.text)
    # nothing of ALPHA changed: its check, anomaly and schedule are as they were
    assert w.ok("GET", f"/quality-checks/{w.checkA}")["deleted_at"] is None
    assert w.ok("GET", f"/operations/schedule/{w.schedA}")["crontab"] in ("0 0 * * *", "0 1 * * *")


def test_sweep_every_route_as_team_b(world):
    """Every route of the OpenAPI document, called by team B's Member with ALPHA's ids in every
    path parameter, query parameter and body field the policy reads: no answer is a 2xx that
    carries ALPHA, and none is a 5xx."""
    w = world
    schema = httpx.get(f"{w.url}/api/openapi.json", timeout=60).json()  # built on first request: seconds under load
    ids = {
        "datastore_id": w.A,
        "container_id": w.cA,
        "check_id": w.checkA,
        "anomaly_id": w.anomA,
        "operation_id": w.opA,
        "schedule_id": w.schedA,
        "scan_id": w.scanA,
        "partition_id": w.partA,
    }
    query = {
        "datastore": w.A,
        "container": w.cA,
        "operation": w.opA,
        "quality_check": w.checkA,
        "enrich_datastore_id": w.A,
    }
    body = {
        "datastore_id": w.A,
        "container_id": w.cA,
        "id": w.anomA,
        "container": {"datastore_id": w.A},
        "status": "Draft",
    }
    reached = []
    with w.as_("mb") as c:
        for path, item in schema["paths"].items():
            for method, op in item.items():
                if not op.get("security") or op["operationId"] in ("delete_token", "revoke_token", "sign_out"):
                    continue
                url = re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), 1)), path.removeprefix("/api"))
                names = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
                params = {k: v for k, v in query.items() if k in names}
                kw = {"params": params}
                if "requestBody" in op:
                    kw["json"] = [body] if op["operationId"].startswith("bulk_") else body
                r = c.request(method.upper(), url, **kw)
                assert r.status_code < 500, (method, url, r.text)
                if r.status_code < 300 and "alpha" in r.text:
                    reached.append((method.upper(), url, r.status_code, r.text[:200]))
    assert reached == []


# -- tokens, deactivation, brute force -------------------------------------------------------


def test_revoked_session_token_and_deactivated_user_answer_401(world):
    w = world
    email = "temp@assay.test"
    user = w.ok("POST", "/users", json={"name": "Temp", "email": email, "password": PASSWORD})
    token = w.sign_in(email, PASSWORD)
    with w.client(token) as c:
        assert c.get("/users/me").status_code == 200
        mine = c.get("/user-tokens").json()["items"]
        assert [t["name"].startswith("session-") for t in mine] == [True]
        assert c.put(f"/user-tokens/{mine[0]['id']}/revoke").status_code == 200
        r = c.get("/users/me")
        assert (r.status_code, r.json()["detail"]) == (401, "token revoked")
    token = w.sign_in(email, PASSWORD)
    assert w.ok("DELETE", f"/users/{user['id']}") is None
    with w.client(token) as c:
        r = c.get("/users/me")
        assert (r.status_code, r.json()["detail"]) == (401, "user deactivated")
    r = httpx.post(f"{w.url}/api/auth/sign-in", json={"email": email, "password": PASSWORD})
    assert (r.status_code, r.json()["detail"]) == (401, "wrong email or password")
    w.ok("PUT", f"/users/{user['id']}", json={"deactivated": False})
    # reactivated: the token that existed at deactivation stays dead (revoked then) ...
    with w.client(token) as c:
        r = c.get("/users/me")
        assert (r.status_code, r.json()["detail"]) == (401, "token revoked")
    # ... a new sign-in works, and both old session tokens stay listed, revoked (the audit)
    with w.client(w.sign_in(email, PASSWORD)) as c:
        assert c.get("/users/me").status_code == 200
        mine = sorted(c.get("/user-tokens").json()["items"], key=lambda t: t["id"])
        assert [t["revoked"] for t in mine] == [True, True, False]


def test_reactivation_revives_no_token_of_a_service_user(world):
    w = world
    svc = w.ok("POST", "/users", json={"name": "nightly-etl", "email": "etl2@assay.test", "user_type": "Service"})
    token = w.ok("POST", "/user-tokens/service", json={"user_id": svc["id"], "name": "etl"})["token"]
    w.ok("PUT", f"/users/{svc['id']}", json={"deactivated": True})  # the PUT way of deactivating
    with w.client(token) as c:
        assert c.get("/users/me").status_code == 401
    w.ok("PUT", f"/users/{svc['id']}", json={"deactivated": False})
    with w.client(token) as c:
        r = c.get("/users/me")
        assert (r.status_code, r.json()["detail"]) == (401, "token revoked")
    fresh = w.ok("POST", "/user-tokens/service", json={"user_id": svc["id"], "name": "etl"})["token"]
    with w.client(fresh) as c:  # the name is free again: the old token is revoked
        assert c.get("/users/me").json()["email"] == "etl2@assay.test"
    listed = [t for t in w.ok("GET", "/user-tokens/service")["items"] if t["user_id"] == svc["id"]]
    assert sorted((t["name"], t["revoked"]) for t in listed) == [("etl", False), ("etl", True)]  # the audit


def test_service_user_has_service_tokens_and_no_password(world):
    w = world
    svc = w.ok("POST", "/users", json={"name": "pipeline", "email": "pipeline@assay.test", "user_type": "Service"})
    assert svc["user_type"] == "Service"
    token = w.ok("POST", "/user-tokens/service", json={"user_id": svc["id"], "name": "ci"})["token"]
    with w.client(token) as c:
        assert c.get("/users/me").json()["email"] == "pipeline@assay.test"
        assert c.get("/datastores").json()["items"] == []  # in no team: sees nothing
    listed = w.ok("GET", "/user-tokens/service")["items"]  # every service user's: keep this one's
    assert [t["name"] for t in listed if t["user_id"] == svc["id"]] == ["ci"]
    assert status(w, "Editor", "POST", "/user-tokens/service", json={"user_id": svc["id"], "name": "x"}) == 403


def test_password_brute_force_is_throttled(world):
    w = world
    w.ok("POST", "/users", json={"name": "Victim", "email": "victim@assay.test", "password": PASSWORD})
    codes = []
    for _ in range(6):
        r = httpx.post(f"{w.url}/api/auth/sign-in", json={"email": "victim@assay.test", "password": "guess"})
        codes.append(r.status_code)
    assert codes == [401] * 5 + [429]
    assert 0 < int(r.headers["Retry-After"]) <= 300
    # the right password does not get through while throttled
    r = httpx.post(f"{w.url}/api/auth/sign-in", json={"email": "victim@assay.test", "password": PASSWORD})
    assert r.status_code == 429
    log = (w.tmp / "server.log").read_text()
    assert PASSWORD not in log and "guess" not in log and ADMIN_PASSWORD not in log


def test_audit_created_by_last_editor_and_anomaly_status_changes(world):
    w = world
    check = w.ok("POST", "/quality-checks", "Author", json={"container_id": w.cA, "rule": "notNull", "fields": ["id"]})
    assert check["created_by"]["name"] == check["last_editor"]["name"] == "Author"
    w.ok("PUT", f"/quality-checks/{check['id']}", "Editor", json={"description": "by the editor"})
    got = w.ok("GET", f"/quality-checks/{check['id']}")
    assert (got["created_by"]["name"], got["last_editor"]["name"]) == ("Author", "Editor")
    anomaly = w.ok("GET", "/anomalies", params={"datastore": w.A})["items"][-1]
    w.ok("PUT", f"/anomalies/{anomaly['id']}", "Editor", json={"status": "Active"})
    w.ok("PUT", f"/anomalies/{anomaly['id']}", "Editor", json={"status": "Acknowledged"})
    after = w.ok("GET", f"/anomalies/{anomaly['id']}")
    assert after["last_editor"]["name"] == "Editor"
    last = after["status_changes"][-1]
    assert (last["previous"], last["status"], last["user"]["name"]) == ("Active", "Acknowledged", "Editor")


def test_a_reporter_sees_anomalies_without_their_source_records(world):
    w = world
    full = w.ok("GET", f"/anomalies/{w.anomA}", "Viewer")
    assert full["source_records"] != []  # the failing rows of a notNull(v) check
    for path in (f"/anomalies/{w.anomA}", f"/container-scans/{w.scanA}/anomalies", "/anomalies"):
        got = w.ok("GET", path, "Reporter", params={"datastore": w.A} if path == "/anomalies" else None)
        items = got["items"] if isinstance(got, dict) and "items" in got else [got]
        assert items and all(a["source_records"] == [] for a in items), path
    assert status(w, "Reporter", "GET", f"/anomalies/{w.anomA}/source-record") == 403


def test_a_drafter_can_neither_take_over_an_active_check_nor_activate_a_draft(world):
    w = world
    active = w.ok("POST", "/quality-checks", json={"container_id": w.cA, "rule": "notNull", "fields": ["id"]})
    hijack = {"status": "Draft", "description": "drafter hijack"}
    assert status(w, "Drafter", "PUT", f"/quality-checks/{active['id']}", json=hijack) == 403
    assert w.ok("GET", f"/quality-checks/{active['id']}")["status"] == "Active"
    draft = w.ok(
        "POST",
        "/quality-checks",
        "Drafter",
        json={"container_id": w.cA, "rule": "notNull", "fields": ["id"], "status": "Draft"},
    )
    # their own draft stays editable without re-sending its status, but not activatable
    assert w.ok("PUT", f"/quality-checks/{draft['id']}", "Drafter", json={"description": "ok"})["description"] == "ok"
    assert status(w, "Drafter", "PUT", f"/quality-checks/{draft['id']}", json={"status": "Active"}) == 403


def test_an_admin_revokes_another_users_service_token(world):
    w = world
    svc = w.ok("POST", "/users", json={"name": "leaky", "email": "leaky@assay.test", "user_type": "Service"})
    made = w.ok("POST", "/user-tokens/service", json={"user_id": svc["id"], "name": "leaked"})
    with w.client(made["token"]) as c:
        assert c.get("/users/me").status_code == 200
    assert w.ok("PUT", f"/user-tokens/{made['id']}/revoke")["revoked"] is True
    with w.client(made["token"]) as c:
        assert c.get("/users/me").status_code == 401
    # a Member still cannot touch another user's token: the same 404 as a missing one
    assert status(w, "Editor", "PUT", f"/user-tokens/{made['id']}/restore") == 404


def test_in_app_notifications_reach_only_users_who_may_see_the_datastore(world):
    w = world
    rule = {"name": "every op", "trigger_type": "Operation", "tokenized_message": "op on {{ datastore_name }}"}
    w.ok("POST", "/notification-rules", json={**rule, "receivers": [], "tags": []})
    op = w.ok("POST", "/operations/run", json={"type": "sync", "datastore_id": w.B})["id"]
    assert w.wait(op)["result"] == "success"

    def messages(who: str) -> list[str]:
        return [n["notification"]["message"] for n in w.ok("GET", "/user-notifications", who)["items"]]

    for _ in range(200):
        if "op on beta_store" in messages("mb"):
            break
        time.sleep(0.1)
    assert messages("mb") == ["op on beta_store"]
    assert "op on beta_store" in messages("Admin")
    assert [m for who in (*PERMISSIONS, "Manager") for m in messages(who)] == []


def test_flows_and_notification_rules_are_read_by_managers_only(world):
    """Flows are server-wide and name datastores of every team: a Member reads none."""
    w = world
    rule = w.ok(
        "POST",
        "/notification-rules",
        json={"name": "beta watch", "trigger_type": "Operation", "receivers": [], "tags": []},
    )
    for path in (
        "/flows",
        "/flows/listing",
        "/flows/executions",
        "/notification-rules",
        f"/notification-rules/{rule['id']}",
    ):
        assert status(w, "Editor", "GET", path) == 403, path
        assert status(w, "Manager", "GET", path) == 200, path


def test_a_new_password_ends_the_sessions_of_the_old_one(world):
    w = world
    me = w.ok("POST", "/users", json={"name": "Mover", "email": "mover@assay.test", "password": PASSWORD})
    old_session = w.sign_in("mover@assay.test", PASSWORD)
    with w.client(old_session) as c:
        personal = c.post("/user-tokens", json={"name": "laptop"}).json()["token"]
    w.ok("PUT", f"/users/{me['id']}", json={"password": "a brand new password"})
    with w.client(old_session) as c:
        assert c.get("/users/me").status_code == 401
    with w.client(personal) as c:  # an API token is not a session: it stays until revoked
        assert c.get("/users/me").status_code == 200
    assert w.sign_in("mover@assay.test", "a brand new password")


def test_sign_out_revokes_the_session_token_and_keeps_api_tokens(world):
    w = world
    w.ok("POST", "/users", json={"name": "Leaver", "email": "leaver@assay.test", "password": PASSWORD})
    session_token = w.sign_in("leaver@assay.test", PASSWORD)
    with w.client(session_token) as c:
        personal = c.post("/user-tokens", json={"name": "script"}).json()
        session_id = next(t["id"] for t in c.get("/user-tokens").json()["items"] if t["name"].startswith("session-"))
        r = c.post("/auth/sign-out")
        assert (r.status_code, r.json()) == (200, {"token_id": session_id, "revoked": True})
        r = c.get("/users/me")
        assert (r.status_code, r.json()["detail"]) == (401, "token revoked")
        assert c.post("/auth/sign-out").status_code == 401
    with w.client(personal["token"]) as c:  # signing out with an API token leaves it valid
        r = c.post("/auth/sign-out")
        assert (r.status_code, r.json()) == (200, {"token_id": personal["id"], "revoked": False})
        assert c.get("/users/me").json()["email"] == "leaver@assay.test"
    assert httpx.post(f"{w.url}/api/auth/sign-out").status_code == 401


# -- the real qualytics CLI: users, teams, auth ---------------------------------------------


def test_qualytics_cli_users_teams_and_auth(world, tmp_path):
    w = world
    exe = tool_from_pypi("qualytics-cli")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUALYTICS_")}
    env.update(
        HOME=str(tmp_path), QUALYTICS_CONFIG_HOME=str(tmp_path / ".q"), QUALYTICS_NO_BANNER="1", CI="1", COLUMNS="10000"
    )

    def q(*args, extra=None):
        r = run_tool(exe, args, env={**env, **(extra or {})}, cwd=tmp_path, timeout=120)
        return r.returncode, r.stdout + r.stderr

    # auth login through the browser handshake: the "browser" signs in with email and password
    browser = tmp_path / "browser.py"
    browser.write_text(
        "import sys, httpx\n"
        "from urllib.parse import urlsplit, parse_qs\n"
        "url = sys.argv[1]\n"
        "page = httpx.get(url)\n"
        "assert 'name=\"password\"' in page.text, page.text\n"
        "qs = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}\n"
        f"form = {{**qs, 'email': {ADMIN_EMAIL!r}, 'password': {ADMIN_PASSWORD!r}, 'decision': 'approve'}}\n"
        "r = httpx.post(url.split('?')[0], data=form)\n"
        "httpx.get(r.headers['location'])\n"
    )
    code, out = q(
        "auth", "login", "--url", w.url, "--timeout", "30", extra={"BROWSER": f"{sys.executable} {browser} %s"}
    )
    assert "Authentication successful!" in out, out
    code, out = q("auth", "status")
    assert code == 0 and "Logged in" in out, out
    code, out = q("doctor")
    assert code == 0 and "All checks passed!" in out, out
    code, out = q("users", "list")
    assert code == 0 and "editor@assay.test" in out and "root@assay.test" in out, out
    editor_id = w.ok("GET", "/users", params={"size": 100})["items"]
    editor_id = next(u["id"] for u in editor_id if u["email"] == "editor@assay.test")
    code, out = q("users", "get", "--id", str(editor_id))
    assert code == 0 and "A-Editor" in out, out
    code, out = q("teams", "list")
    assert code == 0 and all(f"A-{p}" in out for p in PERMISSIONS) and "B-Editor" in out, out
    team_id = next(t["id"] for t in w.ok("GET", "/teams", params={"size": 100})["items"] if t["name"] == "B-Editor")
    code, out = q("teams", "get", "--id", str(team_id))
    assert code == 0 and "B-Editor" in out and "beta_store" in out, out


# -- favourites are per user -----------------------------------------------------------------


def test_favourites_are_per_user_and_not_a_change_of_the_object(world):
    w = world
    before = w.ok("GET", "/activity")["total"]
    targets = (f"/datastores/{w.A}", f"/containers/{w.cA}", f"/quality-checks/{w.checkA}")
    for path in targets:  # a Reporter may star what they can read: their star only
        assert w.ok("PATCH", f"{path}/favorite", who="Reporter", json={"favorite": True})["favorite"] is True
        assert w.ok("GET", path, who="Reporter")["favorite"] is True
        assert w.ok("GET", path, who="Editor")["favorite"] is False
        assert w.ok("GET", path)["favorite"] is False  # nor the Admin's
    # the Editor's star and un-star leave the Reporter's alone
    w.ok("PATCH", f"/datastores/{w.A}/favorite", who="Editor", json={"favorite": True})
    assert w.ok("PATCH", f"/datastores/{w.A}/favorite", who="Editor", json={"favorite": False})["favorite"] is False
    assert w.ok("GET", f"/datastores/{w.A}", who="Reporter")["favorite"] is True
    starred = {d["id"]: d["favorite"] for d in w.ok("GET", "/datastores", who="Reporter")["items"]}
    assert starred == {w.A: True}
    # PUT of a check with ``favorite`` (Author) sets the caller's own star too
    w.ok("PUT", f"/quality-checks/{w.checkA}", who="Author", json={"favorite": True})
    assert w.ok("GET", f"/quality-checks/{w.checkA}", who="Author")["favorite"] is True
    assert w.ok("GET", f"/quality-checks/{w.checkA}", who="Editor")["favorite"] is False
    # no star is an activity entry: only the PUT's update of the check is
    entries = w.ok("GET", "/activity")["items"]
    new = entries[: w.ok("GET", "/activity")["total"] - before]
    assert [(a["verb"], a["object_type"], a["object_id"]) for a in new] == [("update", "quality_check", w.checkA)]
    # an outsider can't star what they can't see
    assert status(w, "mb", "PATCH", f"/datastores/{w.A}/favorite", json={"favorite": True}) == 404


# -- least privilege on a fresh install ------------------------------------------------------


def test_fresh_install_public_team_holds_reporter_and_teams_are_explicit(world):
    w = world
    public = next(t for t in w.ok("GET", "/teams")["items"] if t["is_public"])
    assert (public["name"], public["permission"]) == ("Public", "Reporter")
    path = w.tmp / "alpha.duckdb"
    body = {"name": "everyones", "connection": {"type": "duckdb"}, "database": str(path)}
    everyones = w.ok("POST", "/datastores", json=body)  # no teams sent: the public team
    assert [(t["name"], t["permission"]) for t in everyones["teams"]] == [("Public", "Reporter")]
    nobodys = w.ok("POST", "/datastores", json={**body, "name": "nobodys", "teams": []})
    assert nobodys["teams"] == []
    # a Member in no team besides Public: reads the public datastore, changes nothing on it ...
    w.ok("POST", "/users", json={"name": "New", "email": "new@assay.test", "password": PASSWORD})
    w.tokens["New"] = w.sign_in("new@assay.test", PASSWORD)
    me = w.ok("GET", "/users/me", who="New")
    assert me["permissions"] == [{"datastore_id": everyones["id"], "permission": "Reporter"}]
    assert status(w, "New", "GET", f"/datastores/{everyones['id']}") == 200
    assert status(w, "New", "PUT", f"/datastores/{everyones['id']}", json={"description": "x"}) == 403
    assert status(w, "New", "POST", "/operations/run", json={"type": "scan", "datastore_id": everyones["id"]}) == 403
    # ... and neither sees the datastore held by no team nor those of the teams it is not in
    assert status(w, "New", "GET", f"/datastores/{nobodys['id']}") == 404
    assert status(w, "New", "GET", f"/datastores/{w.A}") == 404
    # a Viewer of ALPHA holds Reporter (from Public) on the new one, not Editor
    viewer = {p["datastore_id"]: p["permission"] for p in w.ok("GET", "/users/me", who="Viewer")["permissions"]}
    assert viewer == {w.A: "Viewer", everyones["id"]: "Reporter"}
    with w.as_("Admin") as c:  # a team that does not exist is a 422 naming it
        r = c.post("/datastores", json={**body, "name": "x", "teams": ["Public", "nope"]})
    assert (r.status_code, r.json()["detail"][0]["loc"]) == (422, ["body", "teams", 1])
