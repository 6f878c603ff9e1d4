"""Schedules: the seed payload verbatim, crontab validation, CRUD, and exactly-once firing
across two schedulers with an injected clock (on SQLite and PostgreSQL metadata)."""

from __future__ import annotations

import datetime as dt

from assay.operations.scheduler import Scheduler

UTC = dt.UTC


def _datastore(api, make_duckdb):
    ds = api.duckdb_datastore("sched", make_duckdb("create table t (id integer)", "insert into t values (1), (NULL)"))
    api.sync(ds["id"])
    api.check(api.container_id(ds["id"], "t"), "notNull", ["id"])
    return ds


def test_seed_schedule_payload_verbatim_and_crud(api, make_duckdb):
    ds = _datastore(api, make_duckdb)
    lake = api.enrichment_datastore("sched lake", make_duckdb(name="lake.duckdb"))
    api.ok("PATCH", f"/api/datastores/{ds['id']}/enrichment/{lake['id']}")
    seed = {
        "type": "scan",
        "name": "My scheduled Scan operation",
        "datastore_id": str(ds["id"]),
        "container_names": [],
        "remediation": "overwrite",
        "incremental": False,
        "auto_resolve_passed_anomalies": True,
        "max_records_analyzed_per_partition": None,
        "enrichment_source_record_limit": 10,
        "crontab": "00 00 * * *",
    }
    s = api.ok("POST", "/api/operations/schedule", json=seed)
    assert (s["name"], s["type"], s["crontab"], s["remediation"], s["deactivated"]) == (
        "My scheduled Scan operation",
        "scan",
        "00 00 * * *",
        "overwrite",
        False,
    )
    assert s["datastore"]["id"] == ds["id"]
    next_trigger = dt.datetime.fromisoformat(s["next_trigger"].replace("Z", "+00:00"))
    now = dt.datetime.now(UTC)
    assert (next_trigger.hour, next_trigger.minute) == (0, 0) and now < next_trigger <= now + dt.timedelta(days=1)

    page = api.ok("GET", "/api/operations/schedule")
    assert page["total"] == 1 and page["items"][0]["id"] == s["id"]
    updated = api.ok("PUT", f"/api/operations/schedule/{s['id']}", json={**seed, "crontab": "*/10 * * * *"})
    assert updated["crontab"] == "*/10 * * * *"
    assert dt.datetime.fromisoformat(updated["next_trigger"].replace("Z", "+00:00")).minute % 10 == 0
    paused = api.ok("PATCH", f"/api/operations/schedule/{s['id']}/deactivation", json={"deactivated": True})
    assert paused["deactivated"] is True and paused["next_trigger"] is None
    api.ok("DELETE", f"/api/operations/schedule/{s['id']}")
    assert api.client.get(f"/api/operations/schedule/{s['id']}").status_code == 404


def test_bad_crontabs_and_payloads_are_422(api, make_duckdb):
    ds = _datastore(api, make_duckdb)
    for crontab in ("bogus", "* * * *", "0 0 * * * *", "61 * * * *", "", "0 0 31 2 *", "@daily"):
        r = api.client.post(
            "/api/operations/schedule", json={"type": "scan", "datastore_id": ds["id"], "crontab": crontab}
        )
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "crontab"], (crontab, r.text)
    r = api.client.post(
        "/api/operations/schedule",
        json={"type": "scan", "datastore_id": ds["id"], "crontab": "* * * * *", "incremental": "maybe"},
    )
    assert r.status_code == 422 and "incremental" in r.json()["detail"][0]["loc"]
    r = api.client.post(
        "/api/operations/schedule", json={"type": "scan", "datastore_id": 424242, "crontab": "* * * * *"}
    )
    assert r.status_code == 404


def test_two_schedulers_fire_each_slot_exactly_once(api_any_store, make_duckdb):
    api = api_any_store
    ds = _datastore(api, make_duckdb)
    s = api.ok(
        "POST",
        "/api/operations/schedule",
        json={"type": "scan", "name": "every minute", "datastore_id": ds["id"], "crontab": "* * * * *"},
    )
    app = api.client.app
    database = app.state.database
    from assay.store.models import Schedule

    start = dt.datetime(2031, 1, 1, 12, 0, 30, tzinfo=UTC)
    with database.session() as session:
        session.get(Schedule, s["id"]).next_trigger = dt.datetime(2031, 1, 1, 12, 1, tzinfo=UTC)
    clock = {"now": start}
    queued: list[int] = []
    a = Scheduler(database, queued.append, clock=lambda: clock["now"])
    b = Scheduler(database, queued.append, clock=lambda: clock["now"])
    fired = []
    for minute in range(5):  # 12:00:30, 12:01:30, ..., 12:04:30 — four slots come due
        clock["now"] = start + dt.timedelta(minutes=minute)
        fired += a.tick() + b.tick() + a.tick()
    assert len(fired) == 4 and len(set(fired)) == 4
    # Downtime: nothing ticks from 12:04:30 to 13:00:30; the missed schedule runs once, not 56 times.
    clock["now"] = start + dt.timedelta(hours=1)
    late = a.tick() + b.tick()
    assert len(late) == 1
    assert api.ok("GET", f"/api/operations/schedule/{s['id']}")["next_trigger"] == "2031-01-01T13:01:00Z"
    for op_id in fired + late:
        app.state.runner.submit(op_id)
    ops = [api.wait(op_id) for op_id in fired + late]
    assert all(op["result"] == "success" and op["triggered_by"] == f"schedule {s['id']}" for op in ops)
    assert ops[0]["schedule"]["id"] == s["id"] and ops[0]["schedule"]["name"] == "every minute"
    assert all(op["status"]["anomalies_identified"] == 1 for op in ops)
    # A paused schedule never fires.
    api.ok("PATCH", f"/api/operations/schedule/{s['id']}/deactivation", json={"deactivated": True})
    clock["now"] = start + dt.timedelta(hours=2)
    assert a.tick() == [] and b.tick() == []
