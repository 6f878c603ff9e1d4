"""Scan variables: ``check_variables`` of a scan fill ``{{ name }}`` in check filters and
expressions (as Qualytics substitutes them); such a check is accepted at creation
(validated with a sample value), and a scan without the variable leaves it unasserted."""

from __future__ import annotations

import duckdb


def test_check_variables_fill_filters_and_expressions(api, tmp_path):
    path = tmp_path / "v.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE orders (id INTEGER, amount DOUBLE, day DATE)")
    con.execute(
        "INSERT INTO orders VALUES (1, -1, DATE '2024-01-01'), (2, -2, DATE '2024-01-02'), "
        "(3, 5, DATE '2024-01-03'), (4, 1, DATE '2024-01-04')"
    )
    con.close()
    ds = api.duckdb_datastore("vars", path)
    api.sync(ds["id"])
    cid = api.container_id(ds["id"], "orders")
    check = api.check(
        cid,
        "satisfiesExpression",
        ["amount"],
        properties={"expression": "amount >= {{ floor }}"},
        filter="day >= '{{ start }}'",
    )
    assert (check["filter"], check["properties"]) == ("day >= '{{ start }}'", {"expression": "amount >= {{ floor }}"})
    bad = api.post(
        "/api/quality-checks",
        json={"container_id": cid, "rule": "notNull", "fields": ["id"], "filter": "amount > {{ x }} AND"},
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "filter"]

    # rows from 2024-01-02 with an amount under 2: ids 2 (-2) and 4 (1)
    op = api.scan(ds["id"], check_variables={"floor": 2, "start": "2024-01-02"})
    [result] = op["container_scans"][0]["quality_checks"]
    assert (op["result"], result["result"], op["status"]["anomalies_identified"]) == ("success", "failed", 2)
    assert len(api.anomalies(container=cid)) == 2

    op = api.scan(ds["id"], check_variables={"floor": 2})
    [result] = op["container_scans"][0]["quality_checks"]
    assert result["result"] == "unasserted"
    assert "scan variable 'start' has no value" in result["error"], result

    # The check dry run substitutes check_variables as the scan does (issue 16): the same
    # two rows (ids 2 and 4) fail of the 3 the filter keeps (ids 2, 3, 4).
    dry = api.ok(
        "POST",
        f"/api/quality-checks/{check['id']}/dry-run",
        json={"check_variables": {"floor": 2, "start": "2024-01-02"}},
    )
    assert (dry["result"], dry["asserted_records"], dry["anomalous_records"]) == ("failed", 3, 2), dry
    assert sorted(row["id"] for row in dry["examples"]) == [2, 4]
    # floor 0 and every day: only the two negative amounts (ids 1, 2) of 4 rows
    unsaved = {
        "container_id": cid,
        "rule": "satisfiesExpression",
        "fields": ["amount"],
        "properties": {"expression": "amount >= {{ floor }}"},
        "filter": "day >= '{{ start }}'",
        "check_variables": {"floor": 0, "start": "2024-01-01"},
    }
    dry = api.ok("POST", "/api/quality-checks/dry-run", json=unsaved)
    assert (dry["result"], dry["asserted_records"], dry["anomalous_records"]) == ("failed", 4, 2), dry
    assert sorted(row["id"] for row in dry["examples"]) == [1, 2]
    # a missing variable leaves the dry run unasserted, naming it, as in a scan
    dry = api.ok("POST", "/api/quality-checks/dry-run", json={**unsaved, "check_variables": {"floor": 0}})
    assert dry["result"] == "unasserted" and "scan variable 'start' has no value" in dry["error"], dry
