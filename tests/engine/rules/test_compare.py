"""The comparison rule types, evaluated by the scan engine (``assay.engine.plan.evaluate``)
on real backends: DuckDB, SQLite, PostgreSQL (the shared ``engine`` fixture) and MariaDB.

anyNotNull, notEmpty, positive, greaterThan, lessThan, minValue, maxValue, equalTo,
lessThanField, equalToField, betweenTimes, afterDateTime, beforeDateTime, isType,
predictedBy. Every expected count is worked out from the data in the comments.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from assay.engine.rules import CheckSpec, RuleDefinitionError, get_rule
from tests import helpers
from tests.engines import ENGINES, engine_fixture, nan_array
from tests.helpers import check

NAN = float("nan")
UTC = dt.UTC


# -- engines: the shared three plus MariaDB ---------------------------------------------------

engine = engine_fixture(*ENGINES)


# -- helpers --------------------------------------------------------------------------------


def run(t, *checks: CheckSpec):
    """The outcomes of ``checks`` (numbered 1, 2, …), with up to 20 example rows each."""
    return helpers.run(t, *checks, example_limit=20).outcomes


def expect(outcome, failed: int, asserted: int, ids: list[int]):
    """A row check that fails ``failed`` of ``asserted`` rows (passes when 0), examples ``ids``."""
    helpers.expect(outcome, "failed" if failed else "passed", failed, asserted, ids)


def ts(*args) -> dt.datetime:
    return dt.datetime(*args)


def tz(*args, offset_hours: int = 0) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.timezone(dt.timedelta(hours=offset_hours)))


# -- anyNotNull -------------------------------------------------------------------------------


def test_any_not_null(engine):
    t = engine.load(
        id=[1, 2, 3, 4, 5],
        a=nan_array([1.0, None, None, NAN, None]),
        b=["x", "y", None, None, None],
    )
    ab, b = run(t, check("anyNotNull", ["a", "b"]), check("anyNotNull", ["b"]))
    # rows 3 and 5 have both NULL; row 4's NaN is a value (NULL where the engine has no NaN)
    expect(ab, 2, 5, [3, 5]) if engine.has_nan else expect(ab, 3, 5, [3, 4, 5])
    expect(b, 3, 5, [3, 4, 5])
    assert ab.rule.record_message(ab.examples[0]) == "The `a`, `b` values are all missing (NULL)"
    assert b.rule.record_message(b.examples[0]) == "The `b` value is missing (NULL)"
    assert b.message == "In `b`, 60.000% of 5 filtered records (3) have every one of these fields NULL"


# -- notEmpty ---------------------------------------------------------------------------------


def test_not_empty(engine):
    t = engine.load(id=[1, 2, 3, 4, 5, 6], s=["a", "", " ", None, "  x", ""], n=[1, 2, 3, 4, 5, 6])
    s, n = run(t, check("notEmpty", ["s"]), check("notEmpty", ["n"]))
    expect(s, 2, 6, [2, 6])  # only '' fails; ' ' is not empty (MariaDB's '' = ' ' plays no part)
    assert s.rule.record_message(s.examples[0]) == "The `s` value of '' is empty"
    assert s.message == "In `s`, 33.333% of 6 filtered records (2) are empty"
    assert n.result == "unasserted" and "notEmpty needs a string field, n is int64" in n.error


# -- positive ---------------------------------------------------------------------------------


def test_positive(engine):
    t = engine.load(
        id=[1, 2, 3, 4, 5, 6, 7],
        f=nan_array([1.0, 0.0, -0.0, -2.5, None, NAN, 1e-9]),
        i=[1, 0, -1, None, 5, 7, 2],
    )
    f, i = run(t, check("positive", ["f"]), check("positive", ["i"]))
    expect(f, 3, 7, [2, 3, 4])  # 0.0, -0.0 and -2.5; NaN passes (or is NULL); NULL skipped
    expect(i, 2, 7, [2, 3])
    assert i.rule.record_message({"i": 0}) == "The `i` value of 0 is not positive"


# -- greaterThan / lessThan / minValue / maxValue --------------------------------------------


def test_value_bounds(engine):
    #                  1   2  3   4   5    6
    t = engine.load(id=[1, 2, 3, 4, 5, 6], v=[-1, 0, 5, 10, 11, None])
    out = run(
        t,
        check("greaterThan", ["v"], value=5),  # -1, 0, 5
        check("greaterThan", ["v"], value=5, inclusive=True),  # -1, 0
        check("greaterThan", ["v"], value=4.5),  # -1, 0
        check("lessThan", ["v"], value=5),  # 5, 10, 11
        check("lessThan", ["v"], value=5, inclusive=True),  # 10, 11
        check("minValue", ["v"], value=5),  # -1, 0 (the bound passes)
        check("maxValue", ["v"], value=5),  # 10, 11
        check("maxValue", ["v"], value=11),  # none
    )
    expect(out[0], 3, 6, [1, 2, 3])
    expect(out[1], 2, 6, [1, 2])
    expect(out[2], 2, 6, [1, 2])
    expect(out[3], 3, 6, [3, 4, 5])
    expect(out[4], 2, 6, [4, 5])
    expect(out[5], 2, 6, [1, 2])
    expect(out[6], 2, 6, [4, 5])
    expect(out[7], 0, 6, [])
    assert out[0].rule.record_message({"v": 5}) == "The `v` value of 5 is not greater than 5"
    assert out[1].message == "In `v`, 33.333% of 6 filtered records (2) are not greater than or equal to 5"
    assert out[2].rule.record_message({"v": 0}) == "The `v` value of 0 is not greater than 4.5"
    assert out[4].rule.record_message({"v": 10}) == "The `v` value of 10 is not less than or equal to 5"
    assert out[5].rule.record_message({"v": -1}) == "The `v` value of -1 is less than 5"
    assert out[6].message == "In `v`, 33.333% of 6 filtered records (2) are greater than 5"


def test_value_bounds_nan_and_filter(engine):
    t = engine.load(id=[1, 2, 3, 4, 5], f=nan_array([1.0, NAN, None, 7.0, 9.5]), g=[1, 1, 1, 1, 0])
    gt, lt, mn, mx, lt_filtered = run(
        t,
        check("greaterThan", ["f"], value=5),  # 1.0; NaN is greater than every number
        check("lessThan", ["f"], value=5),  # 7.0, 9.5 and NaN
        check("minValue", ["f"], value=5),  # 1.0
        check("maxValue", ["f"], value=5),  # 7.0, 9.5 and NaN
        check("lessThan", ["f"], filter="g = 1", value=5),  # rows 1-4: 7.0 and NaN
    )
    expect(gt, 1, 5, [1])
    expect(mn, 1, 5, [1])
    if engine.has_nan:
        expect(lt, 3, 5, [2, 4, 5])
        expect(mx, 3, 5, [2, 4, 5])
        expect(lt_filtered, 2, 4, [2, 4])
    else:  # the NaN was stored as NULL, which is skipped
        expect(lt, 2, 5, [4, 5])
        expect(mx, 2, 5, [4, 5])
        expect(lt_filtered, 1, 4, [4])


# -- equalTo ----------------------------------------------------------------------------------


def test_equal_to(engine):
    t = engine.load(
        id=[1, 2, 3, 4, 5],
        a=[1, 1, 2, None, 1],
        b=nan_array([1.0, None, 1.0, None, NAN]),
        s=["x", "x", "X", "x ", None],
        flag=[True, False, None, True, True],
    )
    ab, s, flag, bad = run(
        t,
        check("equalTo", ["a", "b"], value=1),  # row 3 (a=2), row 5 (b=NaN; NULL on SQLite/MariaDB)
        check("equalTo", ["s"], value="x"),  # 'X' (case) and 'x ' (trailing space) differ
        check("equalTo", ["flag"], value=True),  # row 2
        check("equalTo", ["a"], value="one"),  # a non-numeric string for a number field ("1" is the number 1)
    )
    expect(ab, 2, 5, [3, 5]) if engine.has_nan else expect(ab, 1, 5, [3])
    expect(s, 2, 5, [3, 4])
    expect(flag, 1, 5, [2])
    assert bad.result == "unasserted" and "equalTo cannot compare field a (int64) with 'one'" in bad.error
    assert ab.rule.record_message({"a": 2, "b": 1.0}) == "The `a`, `b` values of 2, 1.0 are not equal to 1"
    assert s.rule.record_message({"s": "X"}) == "The `s` value of 'X' is not equal to 'x'"
    assert ab.message.endswith("are not equal to 1")


# -- lessThanField / equalToField ---------------------------------------------------------------


def test_field_comparisons_numbers(engine):
    t = engine.load(id=[1, 2, 3, 4, 5], x=[1, 5, 3, None, 2], y=[2, 5, 1, 4, None])
    out = run(
        t,
        check("lessThanField", ["x"], field_name="y"),  # 5<5 and 3<1 fail; NULL rows skipped
        check("lessThanField", ["x"], field_name="y", inclusive=True),  # 3<=1 fails
        check("equalToField", ["x"], field_name="y"),  # 1≠2, 3≠1
        check("equalToField", ["x"], field_name="y", tolerance=1),  # |3-1| = 2 > 1
        check("equalToField", ["x"], field_name="y", tolerance=2),  # all within 2
    )
    expect(out[0], 2, 5, [2, 3])
    expect(out[1], 1, 5, [3])
    expect(out[2], 2, 5, [1, 3])
    expect(out[3], 1, 5, [3])
    expect(out[4], 0, 5, [])
    assert out[0].rule.record_message({"x": 5}) == "The `x` value of 5 is not less than `y`"
    assert out[1].message == "In `x`, 20.000% of 5 filtered records (1) are not less than or equal to `y`"
    assert out[3].rule.record_message({"x": 3}) == "The `x` value of 3 is not within 1 of `y`"


def test_field_comparisons_nan(engine):
    t = engine.load(
        id=[1, 2, 3, 4],
        fx=nan_array([NAN, NAN, 1.0, 1.0]),
        fy=nan_array([NAN, 1.0, NAN, 1.5]),
    )
    eq, eq_tol, lt = run(
        t,
        check("equalToField", ["fx"], field_name="fy"),  # NaN = NaN; rows 2, 3, 4 differ
        check("equalToField", ["fx"], field_name="fy", tolerance=0.5),  # row 4 is within 0.5
        check("lessThanField", ["fx"], field_name="fy"),  # NaN < NaN and NaN < 1 are false
    )
    if engine.has_nan:
        expect(eq, 3, 4, [2, 3, 4])
        expect(eq_tol, 2, 4, [2, 3])
        expect(lt, 2, 4, [1, 2])
    else:  # NaN stored as NULL: rows 1-3 are skipped
        expect(eq, 1, 4, [4])
        expect(eq_tol, 0, 4, [])
        expect(lt, 0, 4, [])


def test_field_comparisons_timestamps_in_utc(engine):
    t = engine.load(
        id=[1, 2, 3, 4],
        naive=pa.array([ts(2024, 1, 1, 12), ts(2024, 1, 1, 12), ts(2024, 1, 1, 13), None], pa.timestamp("us")),
        aware=pa.array(
            [tz(2024, 1, 1, 12), tz(2024, 1, 1, 14, offset_hours=2), tz(2024, 1, 1, 12, 30), tz(2024, 1, 1, 1)],
            pa.timestamp("us", tz="UTC"),
        ),
        s=["a", "b", "c", "d"],
    )
    eq, lt, lte, tol = run(
        t,
        check("equalToField", ["naive"], field_name="aware"),  # 12:00 = 14:00+02:00; 13:00 ≠ 12:30
        check("lessThanField", ["aware"], field_name="naive"),  # rows 1, 2 are equal instants
        check("lessThanField", ["aware"], field_name="naive", inclusive=True),
        check("equalToField", ["s"], field_name="s", tolerance=1),  # tolerance needs numbers
    )
    expect(eq, 1, 4, [3])
    expect(lt, 2, 4, [1, 2])
    expect(lte, 0, 4, [])
    assert tol.result == "unasserted" and "equalToField with a tolerance needs numeric fields" in tol.error


# -- betweenTimes / afterDateTime / beforeDateTime ---------------------------------------------


def _times_table(engine):
    return engine.load(
        id=[1, 2, 3, 4, 5, 6],
        naive=pa.array(
            [
                ts(2024, 1, 1),
                ts(2024, 1, 1, 12),
                ts(2024, 1, 1, 12, 0, 1),
                ts(2024, 1, 2),
                ts(2024, 1, 3, 0, 0, 1),
                None,
            ],
            pa.timestamp("us"),
        ),
        # the same instants, written with assorted offsets
        aware=pa.array(
            [
                tz(2024, 1, 1, 2, offset_hours=2),
                tz(2024, 1, 1, 12),
                tz(2024, 1, 1, 7, 0, 1, offset_hours=-5),
                tz(2024, 1, 2),
                tz(2024, 1, 3, 0, 0, 1),
                None,
            ],
            pa.timestamp("us", tz="UTC"),
        ),
        day=pa.array(
            [dt.date(2023, 12, 31), dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 3), None, None]
        ),
    )


def test_after_and_before_date_time(engine):
    t = _times_table(engine)
    noon = "2024-01-01T14:00:00+02:00"  # 12:00 UTC
    out = run(
        t,
        check("afterDateTime", ["naive"], datetime=noon),  # rows 1, 2 (12:00 itself is not after)
        check("afterDateTime", ["aware"], datetime=noon),  # same instants
        check("afterDateTime", ["aware"], datetime="2024-01-01T12:00:00"),  # naive property = UTC
        check("afterDateTime", ["day"], datetime=noon),  # midnights of 12-31 and 01-01 are not after
        check("beforeDateTime", ["naive"], datetime="2024-01-02T00:00:00Z"),  # rows 4 (equal), 5
        check("beforeDateTime", ["aware"], _datetime="2024-01-02"),  # bare date = its midnight UTC
        check("beforeDateTime", ["day"], datetime="2024-01-02T00:00:00Z"),  # 01-02, 01-03
        check("beforeDateTime", ["day"], datetime="2024-01-02T06:00:00Z"),  # 01-03 only
    )
    expect(out[0], 2, 6, [1, 2])
    expect(out[1], 2, 6, [1, 2])
    expect(out[2], 2, 6, [1, 2])
    expect(out[3], 2, 6, [1, 2])
    expect(out[4], 2, 6, [4, 5])
    expect(out[5], 2, 6, [4, 5])
    expect(out[6], 2, 6, [3, 4])
    expect(out[7], 1, 6, [4])
    assert out[0].rule.record_message({"naive": ts(2024, 1, 1)}) == (
        "The `naive` value of 2024-01-01T00:00:00 is not after 2024-01-01T12:00:00Z"
    )
    assert out[4].message == "In `naive`, 33.333% of 6 filtered records (2) are not before 2024-01-02T00:00:00Z"


def test_between_times(engine):
    t = _times_table(engine)
    out = run(
        t,
        check("betweenTimes", ["naive"], min_time="2024-01-01T12:00:00Z", max_time="2024-01-02T00:00:00Z"),
        check("betweenTimes", ["aware"], min_time="2024-01-01T13:00:00+01:00", max_time="2024-01-01T19:00:00-05:00"),
        check("betweenTimes", ["day"], min_time="2024-01-01T12:00:00Z", max_time="2024-01-03T00:00:00Z"),
        check("betweenTimes", ["day"], min_time="2024-01-01", max_time="2024-01-02T23:59:59"),
        check("betweenTimes", ["naive"], filter="id > 2", min_time="2024-01-01T12:00:00Z", max_time="2024-01-02"),
    )
    # both bounds inclusive: 00:00 and 01-03 00:00:01 fall outside [12:00, 01-02 00:00]
    expect(out[0], 2, 6, [1, 5])
    expect(out[1], 2, 6, [1, 5])  # the same bounds written with offsets
    # a date is its midnight: 12-31 and 01-01 are before 01-01 12:00; 01-03 00:00 is inside
    expect(out[2], 2, 6, [1, 2])
    expect(out[3], 2, 6, [1, 4])  # [01-01 00:00, 01-02 23:59:59]: 12-31 and 01-03 fail
    expect(out[4], 1, 4, [5])
    assert out[0].rule.record_message({"naive": ts(2024, 1, 1)}) == (
        "The `naive` value of 2024-01-01T00:00:00 is not between 2024-01-01T12:00:00Z and 2024-01-02T00:00:00Z"
    )


def test_time_rules_on_a_non_temporal_field(engine):
    t = engine.load(id=[1], n=[5])
    (out,) = run(t, check("afterDateTime", ["n"], datetime="2024-01-01"))
    assert out.result == "unasserted" and "afterDateTime needs a date or timestamp field, n is int64" in out.error


# -- isType -----------------------------------------------------------------------------------

TEXTS = [
    "12",  # 1   Integral, Fractional
    "-7",  # 2   Integral, Fractional
    "+007",  # 3   Integral, Fractional
    "1.5",  # 4   Fractional
    ".5",  # 5   Fractional
    "-1e-3",  # 6   Fractional
    "NaN",  # 7   Fractional
    "true",  # 8   Boolean
    "No",  # 9   Boolean
    "1",  # 10  Integral, Fractional, Boolean
    "2024-02-29",  # 11  Date, Timestamp
    "2024-02-30",  # 12  nothing (no such day)
    "2024-13-01",  # 13  nothing
    "2024-01-31T23:59:59Z",  # 14  Timestamp
    "2024-01-31 23:59:59.123+02:00",  # 15  Timestamp
    "2024-01-31T24:00",  # 16  nothing (hour 24)
    " 12",  # 17  nothing (surrounding space)
    "12\n",  # 18  nothing (line break)
    "abc",  # 19  nothing
    "",  # 20  nothing
    None,  # 21  skipped
]


def test_is_type_on_text(engine):
    ids = list(range(1, len(TEXTS) + 1))
    t = engine.load(id=ids, s=TEXTS)
    out = run(
        t,
        *(
            check("isType", ["s"], field_type=k)
            for k in ("Integral", "Fractional", "Boolean", "Date", "Timestamp", "String")
        ),
    )
    parses = {
        "Integral": [1, 2, 3, 10],
        "Fractional": [1, 2, 3, 4, 5, 6, 7, 10],
        "Boolean": [8, 9, 10],
        "Date": [11],
        "Timestamp": [11, 14, 15],
        "String": ids[:-1],
    }
    for outcome, (_kind, good) in zip(out, parses.items(), strict=False):
        failing = [i for i in ids[:-1] if i not in good]
        expect(outcome, len(failing), 21, failing)
    assert out[0].rule.record_message({"s": "abc"}) == "The `s` value of 'abc' does not parse as Integral"
    assert out[3].message == "In `s`, 90.476% of 21 filtered records (19) do not parse as Date"


def test_is_type_on_typed_fields(engine):
    t = engine.load(id=[1, 2, 3], i=[1, None, 3], f=[1.5, 2.0, None], d=pa.array([dt.date(2024, 1, 1), None, None]))
    out = run(
        t,
        check("isType", ["i"], field_type="Integral"),
        check("isType", ["i"], field_type="Fractional"),
        check("isType", ["i"], field_type="Date"),  # both non-NULL values fail
        check("isType", ["f"], field_type="Integral"),  # judged by type: a float field is not Integral
        check("isType", ["d"], field_type="Timestamp"),
        check("isType", ["d"], field_type="Boolean"),
    )
    expect(out[0], 0, 3, [])
    expect(out[1], 0, 3, [])
    expect(out[2], 2, 3, [1, 3])
    expect(out[3], 2, 3, [1, 2])
    expect(out[4], 0, 3, [])
    expect(out[5], 1, 3, [1])


# -- predictedBy ------------------------------------------------------------------------------


def test_predicted_by(engine):
    t = engine.load(
        id=[1, 2, 3, 4, 5, 6, 7],
        y=[10, 12, 7, None, 20, 5, 0],
        a=[5, 6, 3, 1, None, 2, 3],
        f=nan_array([10.0, NAN, 6.5, 1.0, 2.0, 4.0, 6.0]),
    )
    out = run(
        t,
        check("predictedBy", ["y"], expression="a * 2", tolerance=1),  # |0 - 6| = 6; rows 3, 6 exactly 1
        check("predictedBy", ["y"], expression="a * 2"),  # tolerance 0: rows 3, 6, 7
        check(
            "predictedBy", ["f"], expression="a * 2", tolerance=0.5
        ),  # NaN (row 2) and |1 - 2| (row 4) fail; row 5 skipped
        check("predictedBy", ["y"], filter="a > 2", expression="`a` * 2 + 0.5", tolerance=0.5),  # rows 1, 2, 3, 7
        check("predictedBy", ["y"], expression="a > 2"),  # not numeric
    )
    expect(out[0], 1, 7, [7])
    expect(out[1], 3, 7, [3, 6, 7])
    # f: 10 vs 10 ok, NaN fails, 6.5 vs 6 ok, 1 vs 2 fails, row 5 skipped, 4 vs 4 ok, 6 vs 6 ok
    expect(out[2], 2, 7, [2, 4]) if engine.has_nan else expect(out[2], 1, 7, [4])
    expect(out[3], 1, 4, [7])  # 10 vs 10.5, 12 vs 12.5, 7 vs 6.5 are within 0.5; 0 vs 6.5 is not
    assert out[4].result == "unasserted" and "the prediction must be numeric" in out[4].error
    assert out[0].rule.record_message({"y": 0}) == "The `y` value of 0 is not within 1 of its prediction a * 2"
    assert out[1].message == "In `y`, 42.857% of 7 filtered records (3) are not within 0 of their prediction a * 2"


# -- an empty container ----------------------------------------------------------------------


def test_empty_container_passes(engine):
    t = engine.load(id=pa.array([], pa.int64()), v=pa.array([], pa.float64()), s=pa.array([], pa.string()))
    out = run(
        t,
        check("positive", ["v"]),
        check("anyNotNull", ["v", "s"]),
        check("notEmpty", ["s"]),
        check("isType", ["s"], field_type="Date"),
        check("predictedBy", ["v"], expression="id * 2"),
    )
    for o in out:
        expect(o, 0, 0, [])


# -- bad properties: one case per rule -------------------------------------------------------


@pytest.mark.parametrize(
    "rule, fields, properties, loc, text",
    [
        ("anyNotNull", [], {}, ("fields",), "takes one or more fields"),
        ("notEmpty", ["s"], {"is_element_context": "maybe"}, ("properties", "is_element_context"), "valid boolean"),
        ("positive", ["a", "b"], {}, ("fields",), "takes exactly one field, got 2"),
        ("greaterThan", ["v"], {"value": "ten"}, ("properties", "value"), "must be a number"),
        ("lessThan", ["v"], {"value": True}, ("properties", "value"), "must be a number, not a boolean"),
        ("minValue", ["v"], {"value": float("inf")}, ("properties", "value"), "must be a finite number"),
        ("maxValue", ["v"], {}, ("properties", "value"), "Field required"),
        (  # trial: accepted, then unasserted on every scan ('<=' between a column and the int)
            "maxValue",
            ["v"],
            {"value": 123456789012345678901234567890},
            ("properties", "value"),
            "must be a 64-bit integer (from -9223372036854775808 to 9223372036854775807); "
            "write a larger bound as a decimal, e.g. 1.5e30",
        ),
        ("equalTo", ["v"], {"value": None}, ("properties", "value"), "must be a number, a string or a boolean"),
        ("lessThanField", ["v"], {"field": "w"}, ("properties", "field_name"), "Field required"),
        (
            "equalToField",
            ["v"],
            {"field_name": "w", "tolerance": -1},
            ("properties", "tolerance"),
            "greater than or equal to 0",
        ),
        (
            "betweenTimes",
            ["t"],
            {"min_time": "2024-02-01", "max_time": "2024-01-01"},
            ("properties",),
            "min_time must not be later than max_time",
        ),
        ("afterDateTime", ["t"], {"datetime": 1700000000}, ("properties", "datetime"), "ISO 8601"),
        ("beforeDateTime", ["t"], {"datetime": "2024-13-01"}, ("properties", "datetime"), "month value is outside"),
        ("isType", ["s"], {"field_type": "Integer"}, ("properties", "field_type"), "'Integral'"),
        ("predictedBy", ["v"], {"expression": "a +", "tolerance": 1}, ("properties", "expression"), "cannot parse"),
    ],
)
def test_bad_properties_raise_rule_definition_error(rule, fields, properties, loc, text):
    with pytest.raises(RuleDefinitionError) as info:
        get_rule(rule).validate(fields, properties)
    assert info.value.loc == loc
    assert text in info.value.message


def test_property_normalisation():
    after = get_rule("afterDateTime").validate(["t"], {"datetime": "2024-01-01T14:30:00+02:00"})
    assert after.datetime == dt.datetime(2024, 1, 1, 12, 30)  # converted to (naive) UTC
    between = get_rule("betweenTimes").validate(["t"], {"min_time": "2024-01-01", "max_time": "2024-01-01T00:00:00Z"})
    assert (between.min_time, between.max_time) == (dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 1))
    bound = get_rule("greaterThan").validate(["v"], {"value": 9007199254740993})
    assert bound.value == 9007199254740993 and not bound.inclusive  # an int stays exact
    assert get_rule("equalToField").validate(["v"], {"field_name": "w"}).tolerance == 0
    assert get_rule("predictedBy").validate(["v"], {"expression": "a * 2"}).tolerance == 0
    assert get_rule("dataType") is get_rule("isType")  # the older name
