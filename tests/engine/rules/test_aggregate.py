"""Aggregate (shape) and time-series rule types, evaluated by the scan engine
(``assay.engine.plan.evaluate``) on DuckDB, SQLite and PostgreSQL, plus one end-to-end
test of a time-series check over three scans through the REST API.

Expected values are worked out from the data each test builds (see the comments).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest
from sqlalchemy import select

from assay.engine.rules import RuleDefinitionError, get_rule
from assay.engine.validation import validate_check
from assay.store.models import CheckMeasurement
from tests.helpers import check, run
from tests.helpers import expect_aggregate as expect

T = dt.datetime
UTC = dt.UTC


# -- requiredValues, distinctCount, sum, maxPartitionSize, fieldCount, expectedSchema -------


def test_shape_rules(engine):
    t = engine.load(
        id=[1, 2, 3, 4, 5, 6],
        s=["a", "b", "a", None, "c", "b"],
        x=[1.5, 2.5, None, 4.0, -1.0, 3.0],
        n=[10, 20, 30, 40, 50, 60],
    )
    res = run(
        t,
        check("requiredValues", ["s"], list=["a", "c"]),
        check("requiredValues", ["s"], list=["a", "d", "e", "a"]),  # d, e never appear; duplicate a counts once
        check("requiredValues", ["s"], filter="id < 5", list=["c"]),  # c only in row 5
        check("distinctCount", ["s"], value=3),  # a, b, c (NULL not counted)
        check("distinctCount", ["s"], value=4, comparison="lt"),
        check("distinctCount", ["s"], value=3, comparison="gt"),
        check("distinctCount", ["s"], filter="id <= 2", value=2),
        check("sum", ["n"], value=210),  # 10+20+…+60
        check("sum", ["x"], value=10),  # 1.5+2.5+4-1+3, NULL skipped
        check("sum", ["x"], value=10.5, tolerance=0.4),  # off by 0.5
        check("sum", ["n"], filter="id > 4", value=110, tolerance=0),  # 50+60
        check("maxPartitionSize", value=6),
        check("maxPartitionSize", max_size=5),
        check("maxPartitionSize", filter="id > 1", max_size=5),
        check("fieldCount", value=4),
        check("fieldCount", value=5, comparison="gte"),
        check("expectedSchema", ["id", "s"], field_types={"id": "Integral", "s": "String"}),
        check("expectedSchema", ["id", "x", "zz"], field_types={"x": "Integral"}, allow_other_fields=False),
    )
    assert res.records == 6
    o = res.outcomes
    expect(o[0], "passed", 6)
    expect(o[1], "failed", 6, "In `s`, 2 of 3 required values do not appear: 'd', 'e'")
    expect(o[2], "failed", 6, "In `s`, 1 of 1 required values do not appear: 'c'")
    expect(o[3], "passed", 6)
    expect(o[4], "passed", 6)
    expect(o[5], "failed", 6, "In `s`, the 3 distinct values are not greater than 3")
    expect(o[6], "passed", 6)
    expect(o[7], "passed", 6)
    expect(o[8], "passed", 6)
    expect(o[9], "failed", 6, "The sum of `x` is 10, not 10.5 within 0.4")
    expect(o[10], "passed", 6)
    expect(o[11], "passed", 6)
    expect(o[12], "failed", 6, "The partition holds 6 records, more than the maximum of 5")
    expect(o[13], "passed", 6)
    expect(o[14], "passed", 6)
    expect(o[15], "failed", 6, "The container has 4 fields, not greater than or equal to 5")
    expect(o[16], "passed", 6)
    expect(
        o[17],
        "failed",
        6,
        "The container does not have the expected schema: "
        "missing `zz`; `x` is Fractional, not Integral; unexpected `s`, `n`",
    )


def test_decimal_38_10_sum_keeps_its_precision(engine):
    if engine.name == "sqlite":
        pytest.skip("SQLite has no DECIMAL type: it stores such values as 8-byte floats")
    values = [
        Decimal("1234567890123456.0000000001"),
        Decimal("0.0000000002"),
        Decimal("9999999999999999.9999999999"),
        None,
    ]
    t = engine.load(a=pa.array(values, type=pa.decimal128(38, 10)))
    exact = "11234567890123456.0000000002"  # needs 27 digits: a double keeps ~16
    res = run(
        t,
        check("sum", ["a"], value=exact),
        check("sum", ["a"], value="11234567890123456.0000000003"),  # equal as doubles, not as decimals
        check("sum", ["a"], value="11234567890123456.0000000003", tolerance="0.0000000001"),
        check("metric", ["a"], max=exact),
    )
    expect(res.outcomes[0], "passed", 4)
    expect(
        res.outcomes[1], "failed", 4, "The sum of `a` is 11234567890123456.0000000002, not 11234567890123456.0000000003"
    )
    expect(res.outcomes[2], "passed", 4)
    expect(res.outcomes[3], "passed", 4)
    assert res.outcomes[3].rule.measurement == exact  # kept as exact text


def test_empty_container(engine):
    t = engine.load(
        id=pa.array([], type=pa.int64()),
        s=pa.array([], type=pa.string()),
        ts=pa.array([], type=pa.timestamp("us")),
    )
    res = run(
        t,
        check("requiredValues", ["s"], list=["a"]),
        check("distinctCount", ["s"], value=0),
        check("sum", ["id"], value=0),
        check("maxPartitionSize", max_size=0),
        check("fieldCount", value=3),
        check("expectedSchema", ["id", "s", "ts"], field_types={"ts": "Timestamp"}, allow_other_fields=False),
        check("timeDistributionSize", ["ts"], interval_name="daily", min_size=1),
        check("volumetric", min=0, max=0),
        check("metric", ["id"], min=0, max=0),
        check("metric", ["id"], aggregate="avg", max=0),
        check("absoluteChangeLimit", ["id"], limit=0, history=[0]),
        check("relativeChangeLimit", ["id"], limit=0, history=[0]),
        check("freshness", ["ts"], max_age=1),
        check("freshness", max_age=1),
    )
    assert res.records == 0
    assert all(o.error is None and o.failed == 0 for o in res.outcomes)
    assert [o.result for o in res.outcomes] == [
        "failed",  # no listed value appears
        *["passed"] * 11,
        "failed",  # no timestamp at all: nothing is fresh
        "passed",  # first scan: baseline
    ]
    assert res.outcomes[0].message == "In `s`, 1 of 1 required values do not appear: 'a'"
    assert res.outcomes[12].message == "No record has a value in `ts`, so the data is not fresh"
    measurements = [getattr(o.rule, "measurement", "-") for o in res.outcomes[7:12]]
    assert measurements == [0, 0, None, 0, 0]  # the avg of no values is not measured


# -- timeDistributionSize ------------------------------------------------------------------


def test_time_distribution_size(engine):
    t = engine.load(
        id=[1, 2, 3, 4, 5, 6],
        # Jan 1: 3 records (05:00, 07:00, 07:30), Jan 2: none, Jan 3: 1, Jan 4: 1; 2024-01-01 is a Monday
        ts=[T(2024, 1, 1, 5), T(2024, 1, 1, 7), T(2024, 1, 1, 7, 30), T(2024, 1, 3, 1), T(2024, 1, 4, 23, 59), None],
        d=[dt.date(2024, 1, 31), dt.date(2024, 3, 1), dt.date(2024, 3, 15), None, None, None],
    )
    span = "from 2024-01-01T05:00:00 to 2024-01-04T23:59:00"
    res = run(
        t,
        check("timeDistributionSize", ["ts"], interval_name="daily", min_size=1, max_size=3),
        check("timeDistributionSize", ["ts"], interval_name="daily", max_size=2),
        check("timeDistributionSize", ["ts"], interval_name="daily", min_size=0, max_size=3),
        check("timeDistributionSize", ["ts"], interval_name="weekly", min_size=5, max_size=5),
        check("timeDistributionSize", ["ts"], interval_name="monthly", min_size=6),
        check("timeDistributionSize", ["ts"], interval_name="hourly", min_size=1, max_size=1),
        check("timeDistributionSize", ["ts"], interval_name="yearly", min_size=1),
        check("timeDistributionSize", ["ts"], filter="id <= 3", interval_name="daily", min_size=1, max_size=3),
        check("timeDistributionSize", ["d"], interval_name="monthly", min_size=1),
        check("timeDistributionSize", ["d"], interval_name="hourly", min_size=1),
    )
    o = res.outcomes
    # daily: 4 intervals Jan 1..4, Jan 2 empty
    expect(
        o[0],
        "failed",
        6,
        f"In `ts`, 1 of 4 daily intervals {span} do not hold between 1 and 3 records "
        "(counts range from 0 to 3; 1 intervals are empty)",
    )
    expect(
        o[1],
        "failed",
        6,
        f"In `ts`, 1 of 4 daily intervals {span} do not hold at most 2 records "
        "(counts range from 0 to 3; 1 intervals are empty)",
    )
    expect(o[2], "passed", 6)
    expect(o[3], "passed", 6)  # one ISO week holding all 5
    expect(
        o[4],
        "failed",
        6,
        f"In `ts`, 1 of 1 monthly intervals {span} do not hold at least 6 records "
        "(counts range from 5 to 5; 0 intervals are empty)",
    )
    # hourly: Jan 1 05:00 .. Jan 4 23:00 is 3*24 + 18 + 1 = 91 hours; 4 hold records (07:00 holds 2), 87 empty
    expect(
        o[5],
        "failed",
        6,
        f"In `ts`, 88 of 91 hourly intervals {span} do not hold between 1 and 1 records "
        "(counts range from 0 to 2; 87 intervals are empty)",
    )
    expect(o[6], "passed", 6)
    expect(o[7], "passed", 6)
    # January, (February empty), March
    expect(
        o[8],
        "failed",
        6,
        "In `d`, 1 of 3 monthly intervals from 2024-01-31 to 2024-03-15 do not hold "
        "at least 1 records (counts range from 0 to 2; 1 intervals are empty)",
    )
    assert (o[9].result, o[9].error) == ("unasserted", "`d` is a Date: hourly intervals need a Timestamp")


# -- time-series rules, with a given history -----------------------------------------------


def test_metric_volumetric_and_change_limits(engine):
    t = engine.load(id=[1, 2, 3, 4], n=[10, 20, 30, 40])  # sum 100, avg 25, min 10, max 40, count 4
    res = run(
        t,
        check("metric", ["n"], min=0, max=100),
        check("metric", ["n"], aggregate="avg", max=20),
        check("metric", ["n"], comparison="absolute_change", min=-5, max=5, history=[50, 90]),
        check("metric", ["n"], aggregate="max", comparison="percentage_change", min=-10, history=[50]),
        check("metric", ["n"], aggregate="count", comparison="percentage_change", max=0),  # no history: baseline
        check("metric", ["n"], filter="id > 2", aggregate="min", comparison="absolute_change", max=0, history=[30]),
        check("volumetric", comparison="absolute_change", min=0, max=0, history=[4]),
        check("volumetric", comparison="percentage_change", max=50, history=[2]),
        check("volumetric", comparison="percentage_change", max=50, history=[0]),
        check("absoluteChangeLimit", ["n"], limit=10, history=[95]),
        check("absoluteChangeLimit", ["n"], limit=4, history=[95]),
        check("relativeChangeLimit", ["n"], limit=0.1, history=[80]),
        check("relativeChangeLimit", ["n"], limit=0.25, history=[80]),
        check("relativeChangeLimit", ["n"], limit=5, history=[0]),
        check("relativeChangeLimit", ["n"], limit=0),  # first scan
    )
    o = res.outcomes
    expect(o[0], "passed", 4)
    expect(o[1], "failed", 4, "The avg of `n` is 25, above the maximum of 20")
    expect(o[2], "failed", 4, "The sum of `n` is 100 (previously 90), a change of 10, not between -5 and 5")
    expect(
        o[3],
        "failed",
        4,
        "The max of `n` is 40 (previously 50), a percentage change of -20.000%, below the minimum of -10%",
    )
    expect(o[4], "passed", 4)
    expect(o[5], "passed", 4)  # min over rows 3, 4 is 30, unchanged
    expect(o[6], "passed", 4)
    expect(
        o[7],
        "failed",
        4,
        "The record count is 4 (previously 2), a percentage change of 100.000%, above the maximum of 50%",
    )
    expect(
        o[8],
        "failed",
        4,
        "The record count is 4 (previously 0), a percentage change of Infinity%, above the maximum of 50%",
    )
    expect(o[9], "passed", 4)
    expect(o[10], "failed", 4, "The sum of `n` changed by 5 (from 95 to 100), more than the limit of 4")
    expect(
        o[11],
        "failed",
        4,
        "The sum of `n` changed by a fraction of 0.250000 (from 80 to 100), more than the limit of 0.1",
    )
    expect(o[12], "passed", 4)
    expect(o[13], "failed", 4, "The sum of `n` changed from 0 to 100, an unbounded relative change (limit 5)")
    expect(o[14], "passed", 4)
    assert [o[i].rule.measurement for i in range(15)] == [
        100,
        25,
        100,
        40,
        4,
        30,
        4,
        4,
        4,
        100,
        100,
        100,
        100,
        100,
        100,
    ]
    assert all(o[i].rule.measured_at.tzinfo is not None for i in range(15))


def test_freshness(engine):
    now = dt.datetime.now(UTC).replace(microsecond=0)
    naive = now.replace(tzinfo=None)  # stored as naive UTC
    t = engine.load(id=[1, 2, 3], ts=[naive - dt.timedelta(hours=5), naive - dt.timedelta(hours=2), None])
    changed = (now - dt.timedelta(days=2)).isoformat()
    res = run(
        t,
        check("freshness", ["ts"], max_age=3, unit="hours"),
        check("freshness", ["ts"], max_age=90, unit="minutes"),
        check("freshness", ["ts"], filter="id = 1", max_age=4, unit="hours"),
        check("freshness", max_age=1, unit="days", history=[{"records": 3, "changed_at": changed}]),
        check("freshness", max_age=3, unit="days", history=[{"records": 3, "changed_at": changed}]),
        check("freshness", max_age=1, unit="days", history=[{"records": 2, "changed_at": changed}]),
    )
    o = res.outcomes
    newest = (now - dt.timedelta(hours=2)).isoformat()
    expect(o[0], "passed", 3)
    assert o[1].result == "failed"
    assert o[1].message.startswith(f"The newest value of `ts` is {newest}, older than 90 minutes at ")
    assert o[2].result == "failed"  # row 1 is 5 hours old
    assert o[0].rule.measurement == newest
    assert o[3].result == "failed"
    assert o[3].message == f"The record count (3) has not changed since {changed}, longer than 1 days"
    expect(o[4], "passed", 3)
    assert o[4].rule.measurement == {"records": 3, "changed_at": changed}
    expect(o[5], "passed", 3)  # the count moved: changed now
    assert o[5].rule.measurement == {"records": 3, "changed_at": o[5].rule.measured_at.isoformat()}


# -- definitions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "fields", "properties", "loc"),
    [
        ("requiredValues", ["s"], {"list": []}, ("properties", "list")),
        ("distinctCount", ["s"], {"value": 3, "comparison": "approx"}, ("properties", "comparison")),
        ("fieldCount", ["s"], {"value": 3}, ("fields",)),
        ("expectedSchema", ["a"], {"field_types": {"b": "String"}}, ("properties", "field_types", "b")),
        ("expectedSchema", ["a"], {"field_types": {"a": "Text"}}, ("properties", "field_types", "a")),
        ("sum", ["n"], {"value": "abc"}, ("properties", "value")),
        ("sum", ["n"], {"value": 1, "tolerance": -1}, ("properties", "tolerance")),
        ("maxPartitionSize", [], {}, ("properties", "max_size")),
        ("timeDistributionSize", ["ts"], {"interval_name": "daily"}, ("properties",)),
        ("timeDistributionSize", ["ts"], {"interval_name": "minutely", "min_size": 1}, ("properties", "interval_name")),
        ("metric", ["n"], {"comparison": "absolute"}, ("properties",)),
        ("metric", ["n"], {"max": 1, "aggregate": "median"}, ("properties", "aggregate")),
        ("volumetric", [], {"min": 5, "max": 1}, ("properties",)),
        ("freshness", ["a", "b"], {"max_age": 1}, ("fields",)),
        ("freshness", [], {"max_age": 0}, ("properties", "max_age")),
        ("freshness", [], {"max_age": 1, "unit": "weeks"}, ("properties", "unit")),
        ("absoluteChangeLimit", ["n"], {}, ("properties", "limit")),
        ("relativeChangeLimit", ["n"], {"limit": -0.1}, ("properties", "limit")),
    ],
)
def test_bad_definitions_name_the_field(rule, fields, properties, loc):
    with pytest.raises(RuleDefinitionError) as err:
        get_rule(rule).validate(fields, properties)
    assert err.value.loc == loc


def test_shape_rules_take_no_filter_or_coverage():
    with pytest.raises(RuleDefinitionError) as err:
        validate_check("fieldCount", [], {"value": 1}, "x > 1", {})
    assert err.value.loc == ("filter",)
    with pytest.raises(RuleDefinitionError) as err:
        validate_check("volumetric", [], {"max": 1}, None, {}, coverage=0.5)
    assert err.value.loc == ("coverage",)
    # freshness takes one Date/Timestamp field, or none
    fields = {"ts": ("Timestamp", "timestamp"), "n": ("Integral", "int64")}
    assert validate_check("freshness", ["ts"], {"max_age": 2}, None, fields) == {"max_age": 2}
    assert validate_check("freshness", [], {"max_age": 2}, None, fields) == {"max_age": 2}
    with pytest.raises(RuleDefinitionError) as err:
        validate_check("freshness", ["n"], {"max_age": 2}, None, fields)
    assert err.value.loc == ("fields", 0)


# -- through the API: three scans of a volumetric check --------------------------------------


def test_volumetric_history_over_three_scans(api, make_duckdb):
    path = make_duckdb("create table orders as select range as id from range(10)")
    ds = api.duckdb_datastore("shop", path)
    api.sync(ds["id"])
    cid = api.container_id(ds["id"], "orders")
    qc = api.check(cid, "volumetric", properties={"comparison": "percentage_change", "min": -10, "max": 10})

    def scan_and_check(expected_passing: bool) -> dict:
        op = api.scan(ds["id"])
        assert op["result"] == "success", op
        detail = api.ok("GET", f"/api/quality-checks/{qc['id']}")
        assert detail["is_passing"] is expected_passing
        return op

    first = scan_and_check(True)  # baseline: 10 records
    con = duckdb.connect(str(path))
    con.execute("insert into orders values (10)")  # 11 records: +10%, on the bound
    con.close()
    second = scan_and_check(True)
    con = duckdb.connect(str(path))
    con.execute("insert into orders select range from range(11, 16)")  # 16 records: +45.45%
    con.close()
    third = scan_and_check(False)

    anomalies = api.anomalies(datastore=ds["id"])
    assert [(a["type"], a["operation_id"], a["anomalous_records_count"]) for a in anomalies] == [
        ("shape", third["id"], 16)
    ]
    assert anomalies[0]["failed_checks"][0]["message"] == (
        "The record count is 16 (previously 11), a percentage change of 45.455%, not between -10% and 10%"
    )

    with api.client.app.state.database.session() as s:
        rows = s.execute(
            select(CheckMeasurement.quality_check_id, CheckMeasurement.operation_id, CheckMeasurement.value).order_by(
                CheckMeasurement.id
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        (qc["id"], first["id"], 10),
        (qc["id"], second["id"], 11),
        (qc["id"], third["id"], 16),
    ]

    # a failed container scan keeps no measurement
    con = duckdb.connect(str(path))
    con.execute("drop table orders")
    con.close()
    op = api.scan(ds["id"])
    assert op["result"] == "failure"
    with api.client.app.state.database.session() as s:
        assert len(s.scalars(select(CheckMeasurement)).all()) == 3
