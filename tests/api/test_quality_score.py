"""Quality scores, score settings, metrics and insights through the REST API.

One small datastore (one table of 4 rows, 4 checks, one profile, one scan) shared by the
module; every expected number is derived by hand below from the definition in
``docs/quality-score.md``.

The table ``people(id, email)``: (1, 'a@x.io'), (2, 'bad'), (3, NULL), (4, 'd@x.io').
Checks (weight 1 each): ``notNull(id)`` passes, ``between(id, 1..10)`` passes,
``notNull(email)`` fails (row 3), ``matchesPattern(email, '^[^@]+@[^@]+$')`` fails (row 2).
So the scan asserts 2 passing and 2 failing checks and records 2 record anomalies.

Dimensions: completeness = 100 × mean(1.0, 0.75) = 87.5; coverage = 100 × (2/3 + 2/3) / 2
= 66.67 (two checks per field, three expected); conformity (matchesPattern) = 0;
precision (between) = 100; accuracy (both notNull) = 50; the other three unmeasured.
Score = 70 × f(87.5) × f(66.67) × f(0) × f(100) × f(50) with f(d) = 1 + (d − 70) / 578:
70 × 1.03028 × 0.99423 × 0.87889 × 1.05190 × 0.96540 = 63.9968… → 64.0.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from tests.conftest import _client, make_settings


def f(d: float, w: float = 1.0) -> float:
    """A dimension's factor (docs/quality-score.md)."""
    return 1 + w * (d - 70) / 578


SCORE = round(70 * f(87.5) * f(200 / 3) * f(0) * f(100) * f(50), 2)
DIMENSIONS = {
    "completeness": 87.5,
    "coverage": 66.67,
    "conformity": 0.0,
    "consistency": None,
    "precision": 100.0,
    "timeliness": None,
    "volumetrics": None,
    "accuracy": 50.0,
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("score")
    path = tmp / "src.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create table people(id integer, email varchar)")
    con.execute("insert into people values (1, 'a@x.io'), (2, 'bad'), (3, null), (4, 'd@x.io')")
    con.close()
    for api in _client(make_settings(tmp)):
        ds = api.duckdb_datastore("scored", path)
        api.sync(ds["id"])
        cid = api.container_id(ds["id"], "people")
        api.check(cid, "notNull", ["id"])
        api.check(cid, "between", ["id"], properties={"min": 1, "max": 10, "inclusive": True})
        api.check(cid, "notNull", ["email"])
        api.check(cid, "matchesPattern", ["email"], properties={"pattern": "^[^@]+@[^@]+$"})
        profile = api.run({"type": "profile", "datastore_id": ds["id"], "inference_threshold": 0})
        assert profile["result"] == "success", profile
        scan = api.scan(ds["id"])
        assert scan["result"] == "success", scan
        yield api, ds["id"], cid


def test_container_metrics_and_score_are_the_hand_computed_ones(world):
    api, _ds, cid = world
    metrics = api.ok("GET", f"/api/containers/{cid}")["metrics"]
    score = metrics.pop("quality_score")
    assert metrics.pop("last_profiled").endswith("Z") and metrics.pop("last_scanned").endswith("Z")
    assert metrics == {
        "fields": 2,
        "records": 4,
        "completeness": 0.875,
        "active_checks": 4,
        "important_checks": 0,
        "passing_checks": 2,
        "failing_checks": 2,
        "anomalies": 2,
        "active_anomalies": 2,
    }
    assert score.pop("created").endswith("Z")
    assert score == {"total": SCORE, **DIMENSIONS}
    assert SCORE == 64.0
    # the container listing answers the same metrics
    (listed,) = api.ok("GET", "/api/containers", params={"datastore": _ds})["items"]
    assert listed["metrics"]["quality_score"]["total"] == SCORE


def test_datastore_metrics_and_score(world):
    api, ds, _cid = world
    metrics = api.ok("GET", f"/api/datastores/{ds}")["metrics"]
    score = metrics.pop("quality_score")
    assert metrics == {
        "containers": 1,
        "partitions": 1,  # a table without an incremental identifier is one partition
        "records": 4,
        "quality_checks": 4,
        "anomalies": 2,
        "new_anomalies": 2,
        "open_anomalies": 2,
        "archived_anomalies": 0,
        "confidence_score": SCORE,
    }
    score.pop("created")
    # one scanned container: the datastore's score and dimensions are its own
    assert score == {"total": SCORE, **DIMENSIONS}


def test_score_settings_default_update_and_effect(world):
    api, ds, cid = world
    defaults = {"decay_period_days": 180, **{f"{d}_weight": None for d in DIMENSIONS}}
    assert api.ok("GET", f"/api/datastores/{ds}/score-settings") == defaults
    # conformity off: its factor leaves the product → 70 × f(87.5) × f(66.67) × f(100) × f(50) = 72.82
    body = api.ok("PUT", f"/api/datastores/{ds}/score-settings", json={"conformity_weight": 0})
    assert body == {**defaults, "conformity_weight": 0}
    assert api.ok("GET", f"/api/containers/{cid}")["metrics"]["quality_score"]["total"] == 72.82
    # accuracy doubled on top: f = 1 + 2 × (50 − 70) / 578 → 70.21
    api.ok("PUT", f"/api/datastores/{ds}/score-settings", json={"accuracy_weight": 2.0})
    total = api.ok("GET", f"/api/containers/{cid}")["metrics"]["quality_score"]["total"]
    assert total == round(70 * f(87.5) * f(200 / 3) * f(100) * f(50, 2), 2) == 70.21
    # back to the defaults (null = 1.0); a partial update leaves the decay period alone
    body = api.ok(
        "PUT", f"/api/datastores/{ds}/score-settings", json={"conformity_weight": None, "accuracy_weight": None}
    )
    assert body == defaults
    assert api.ok("GET", f"/api/containers/{cid}")["metrics"]["quality_score"]["total"] == SCORE


@pytest.mark.parametrize(
    ("body", "loc", "words"),
    [
        ({"decay_period_days": 3}, ["body", "decay_period_days"], "greater than or equal to 7"),
        ({"decay_period_days": None}, ["body", "decay_period_days"], "number of days"),
        ({"coverage_weight": 2.5}, ["body", "coverage_weight"], "less than or equal to 2"),
        ({"speed_weight": 1}, ["body", "speed_weight"], "Extra inputs"),
    ],
)
def test_bad_score_settings_are_422_naming_the_field(world, body, loc, words):
    api, ds, _cid = world
    r = api.put(f"/api/datastores/{ds}/score-settings", json=body)
    assert r.status_code == 422, r.text
    (item,) = r.json()["detail"]
    assert item["loc"] == loc and words in item["msg"], item
    assert api.ok("GET", f"/api/datastores/{ds}/score-settings")["decay_period_days"] == 180
    assert api.get("/api/datastores/999/score-settings").status_code == 404


def test_quality_scores_over_time(world):
    api, ds, cid = world
    today = dt.datetime.now(dt.UTC).date()
    yesterday = today - dt.timedelta(days=1)
    days = api.ok(
        "GET",
        f"/api/datastores/{ds}/quality-scores",
        params={"start_date": yesterday.isoformat(), "end_date": today.isoformat()},
    )
    assert [d["date"] for d in days] == [yesterday.isoformat(), today.isoformat()]
    # nothing was scanned by the end of yesterday: no datastore score yet
    assert days[0]["total"] is None and days[0]["accuracy"] is None
    assert days[1]["total"] == SCORE
    per_container = api.ok(
        "GET",
        f"/api/datastores/{ds}/quality-scores",
        params={"start_date": today.isoformat(), "end_date": today.isoformat(), "container": cid},
    )
    assert [(d["total"], d["coverage"]) for d in per_container] == [(SCORE, 66.67)]
    reversed_ = api.get(
        f"/api/datastores/{ds}/quality-scores",
        params={"start_date": today.isoformat(), "end_date": yesterday.isoformat()},
    )
    assert reversed_.status_code == 422 and reversed_.json()["detail"][0]["loc"] == ["query", "end_date"]


def test_insights_count_todays_work(world):
    api, ds, _cid = world
    body = api.ok("GET", "/api/insights", params={"datastore": ds})
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert body["report_date"] == today
    assert len(body["week_records_scanned"]) == 7 and body["week_records_scanned"][-1] == {"date": today, "count": 4}
    assert body["total_records_scanned"] == 4 and body["total_records_profiled"] == 4
    assert body["total_fields_profiled"] == 2
    assert body["total_datastores"] == 1 and body["total_users"] >= 1
    assert (body["total_active_checks"], body["total_authored_checks"], body["total_inferred_checks"]) == (4, 4, 0)
    assert body["total_anomalies_identified"] == 2 and body["total_anomalies_active"] == 2
    assert body["total_anomalies_resolved"] == 0
    # nothing in the week before: no trend
    assert body["trend_records_scanned"] is None
    assert body["week_checks_passing"][-1] == {"date": today, "count": 2}
    assert body["week_checks_failing"][-1] == {"date": today, "count": 2}
    month = api.ok("GET", "/api/insights", params={"datastore": ds, "timeframe": "month"})
    assert len(month["week_anomalies_identified"]) == 30
    bad = api.get("/api/insights", params={"timeframe": "decade"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "timeframe"]


def test_metrics_and_scan_metrics(world):
    api, ds, cid = world
    today = dt.datetime.now(dt.UTC).date().isoformat()
    body = api.ok("GET", "/api/metrics", params={"timeframe": 7, "datastore": ds})
    assert body["total_records_scanned"] == 4 and body["total_anomalies_caught"] == 2
    assert body["records_scanned"][-1] == {"date": today, "count": 4} and len(body["anomalies_caught"]) == 7
    # one anomaly failed matchesPattern, the other notNull
    narrowed = api.ok("GET", "/api/metrics", params={"timeframe": 1, "rule_type": "matchesPattern"})
    assert narrowed["total_anomalies_caught"] == 1
    by_field = api.ok("GET", "/api/metrics", params={"timeframe": 1, "field": "id"})
    assert by_field["total_anomalies_caught"] == 0
    assert api.get("/api/metrics", params={"timeframe": 0}).status_code == 422

    scans = api.ok("GET", "/api/scan-metrics", params={"datastore": ds, "start_date": today, "end_date": today})
    assert scans == {
        "total_partitions_scanned": scans["daily_metrics"][0]["partitions_scanned"],
        "total_records_scanned": 4,
        "total_anomalies_caught": 2,
        "range_metrics": {
            "partitions_scanned": {"min": scans["total_partitions_scanned"], "max": scans["total_partitions_scanned"]},
            "records_scanned": {"min": 4, "max": 4},
            "anomalies_caught": {"min": 2, "max": 2},
        },
        "daily_metrics": [
            {
                "date": today,
                "partitions_scanned": scans["total_partitions_scanned"],
                "records_scanned": 4,
                "anomalies_caught": 2,
            }
        ],
    }
    assert (
        api.get("/api/scan-metrics", params={"datastore": 999, "start_date": today, "end_date": today}).status_code
        == 404
    )


def test_the_one_published_qualytics_score_is_reproduced():
    """The user guide's enrichment API examples show a field whose dimensions are completeness
    74.93…, coverage 66.67, consistency / precision / accuracy 100 (the rest null) with total
    81.70…; Assay's constant 578 is chosen to give the same total to 2 decimals."""
    from assay.insights.score import DIMENSIONS, combine

    dims = dict.fromkeys(DIMENSIONS)
    dims.update(completeness=74.93389459101233, coverage=66.66666666666666, consistency=100.0)
    dims.update(precision=100.0, accuracy=100.0)
    assert round(combine(dims, dict.fromkeys(DIMENSIONS, 1.0)), 2) == 81.70
