"""Counts after re-scans of unchanged data: each anomaly and each check counts once.

The table ``people(id, email)``: (1, 'a@x.io'), (2, 'bad'), (3, NULL), (4, NULL), (5, 'e@x.io').
Checks: ``notNull(id)`` passes; ``notNull(email)`` fails rows 3 and 4; ``matchesPattern(email)``
fails row 2 (a NULL is not asserted by a pattern). So one scan records 3 record anomalies (rows
2, 3, 4) and asserts 1 passing and 2 failing checks. Scanning the same data twice more adds, per
scan, one ``Duplicate`` (archived) row for each of the 3 findings: 3 Active + 6 Duplicate rows,
still 3 distinct anomalies (2 of ``notNull(email)``, 1 of ``matchesPattern``) and 3 checks.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from tests.conftest import _client, make_settings


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rescan")
    path = tmp / "src.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create table people(id integer, email varchar)")
    con.execute("insert into people values (1, 'a@x.io'), (2, 'bad'), (3, null), (4, null), (5, 'e@x.io')")
    con.close()
    for api in _client(make_settings(tmp)):
        ds = api.duckdb_datastore("rescanned", path)
        api.sync(ds["id"])
        cid = api.container_id(ds["id"], "people")
        checks = {
            "id": api.check(cid, "notNull", ["id"])["id"],
            "email": api.check(cid, "notNull", ["email"])["id"],
            "pattern": api.check(cid, "matchesPattern", ["email"], properties={"pattern": "^[^@]+@[^@]+$"})["id"],
        }
        for _ in range(3):
            scan = api.scan(ds["id"])
            assert scan["result"] == "success", scan
        yield api, ds["id"], cid, checks


def test_the_scenario_three_scans_left_3_open_and_6_duplicate_rows(world):
    api, ds, _cid, _checks = world
    assert len(api.anomalies(datastore=ds)) == 3  # the default listing: open ones
    assert len(api.anomalies(datastore=ds, status="Duplicate")) == 6


def test_check_anomaly_count_is_its_open_anomalies(world):
    api, _ds, _cid, checks = world
    expected = {"id": 0, "email": 2, "pattern": 1}
    for name, check_id in checks.items():
        assert api.ok("GET", f"/api/quality-checks/{check_id}")["anomaly_count"] == expected[name]
        assert len(api.anomalies(quality_check=check_id)) == expected[name]  # what the count links to
    listed = api.ok("GET", "/api/quality-checks", params={"container": _cid})["items"]
    assert {c["id"]: c["anomaly_count"] for c in listed} == {checks[k]: v for k, v in expected.items()}


def test_datastore_and_container_metrics_count_distinct_anomalies(world):
    api, ds, cid, _checks = world
    metrics = api.ok("GET", f"/api/datastores/{ds}")["metrics"]
    assert (metrics["anomalies"], metrics["open_anomalies"], metrics["archived_anomalies"]) == (3, 3, 0)
    container = api.ok("GET", f"/api/containers/{cid}")["metrics"]
    assert (container["anomalies"], container["active_anomalies"]) == (3, 3)
    assert (container["passing_checks"], container["failing_checks"]) == (1, 2)


def test_insights_count_distinct_anomalies_and_checks(world):
    api, ds, _cid, _checks = world
    today = dt.datetime.now(dt.UTC).date().isoformat()
    body = api.ok("GET", "/api/insights", params={"datastore": ds})
    assert (body["total_anomalies_identified"], body["total_anomalies_active"]) == (3, 3)
    assert body["week_anomalies_identified"][-1] == {"date": today, "count": 3}
    # three scans today, each asserting the 3 checks: 1 check passing and 2 failing, not 3 and 6
    assert body["week_checks_passing"][-1] == {"date": today, "count": 1}
    assert body["week_checks_failing"][-1] == {"date": today, "count": 2}
    assert api.ok("GET", "/api/metrics", params={"timeframe": 7, "datastore": ds})["total_anomalies_caught"] == 3
    # naming the status still finds the duplicates
    dupes = api.ok("GET", "/api/metrics", params={"timeframe": 7, "datastore": ds, "status": "Duplicate"})
    assert dupes["total_anomalies_caught"] == 6
