"""Every registered rule type, evaluated by the scan engine (``assay.engine.plan.evaluate``)
against real Ibis backends: DuckDB (in memory), SQLite (a temp file) and PostgreSQL.

Each test builds a small table whose failing rows are known by construction; the
expected counts in the assertions are worked out from that data (see the comments).
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from assay.engine.rules import get_rule
from tests.engines import nan_array
from tests.helpers import QUALYTICS_RULE_TYPES, check, expect, rule_names, run

NAN = float("nan")


def test_the_catalogue_holds_every_rule_type_of_the_api():
    # The rule types of the Qualytics API that issue 3 lists, by their API names; each
    # also has a case in the parity matrix (test_parity.py), which fails for a rule without one.
    assert rule_names() == QUALYTICS_RULE_TYPES
    assert get_rule("isReplicaOf") is get_rule("dataDiff")  # the older name answers as dataDiff


# -- notNull -------------------------------------------------------------------------------


def test_not_null_single_and_multi_field(engine):
    t = engine.load(
        id=[1, 2, 3, 4, 5, 6],
        a=[1, None, 3, None, 5, 6],
        b=["x", "y", None, None, "z", "w"],
    )
    res = run(
        t, check("notNull", ["a"]), check("notNull", ["b"]), check("notNull", ["a", "b"]), check("notNull", ["id"])
    )
    assert res.records == 6
    a, b, ab, idc = res.outcomes
    expect(a, "failed", 2, 6, [2, 4])  # a is NULL in rows 2 and 4
    expect(b, "failed", 2, 6, [3, 4])  # b is NULL in rows 3 and 4
    expect(ab, "failed", 3, 6, [2, 3, 4])  # any of a, b NULL: rows 2, 3, 4 (row 4 counted once)
    expect(idc, "passed", 0, 6, [])
    # example rows are the full source rows
    assert ab.examples == [
        {"id": 2, "a": None, "b": "y"},
        {"id": 3, "a": 3, "b": None},
        {"id": 4, "a": None, "b": None},
    ]
    assert ab.rule.record_message(ab.examples[2]) == "The `a`, `b` value is missing (NULL)"
    assert ab.rule.record_message(ab.examples[0]) == "The `a` value is missing (NULL)"


# -- notNegative ---------------------------------------------------------------------------


def test_not_negative(engine):
    t = engine.load(
        id=[1, 2, 3, 4, 5, 6],
        f=[0.0, -1.0, 5.0, None, -0.5, 2.0],
        i=[0, -3, None, 7, 1, -1],
    )
    f, i = run(t, check("notNegative", ["f"]), check("notNegative", ["i"])).outcomes
    expect(f, "failed", 2, 6, [2, 5])  # -1.0 and -0.5; 0.0 is not negative, NULL skipped
    expect(i, "failed", 2, 6, [2, 6])  # -3 and -1
    assert f.message == "In `f`, 33.333% of 6 filtered records (2) are negative"


# -- between ---------------------------------------------------------------------------------


def test_between_bounds(engine):
    # rows:      1   2  3   4   5    6
    t = engine.load(id=[1, 2, 3, 4, 5, 6], v=[-1, 0, 5, 10, 11, None])
    res = run(
        t,
        check("between", ["v"], min=0, max=10),  # inclusive by default: -1, 11 fail
        check("between", ["v"], min=0, max=10, inclusive=False),  # also 0 and 10 fail
        check("between", ["v"], min=0, max=10, inclusive_min=False),  # -1, 0, 11
        check("between", ["v"], min=0, max=10, inclusive_max=False),  # -1, 10, 11
        check("between", ["v"], min_value=0, max_value=10),  # older spellings, inclusive
        check("between", ["v"], min=0, max=10, inclusive=False, inclusive_min=True),  # explicit wins: -1, 10, 11
        check("between", ["v"], min=0.5, max=9.5),  # fractional bounds on an integer field: -1, 0, 10, 11
        check("between", ["v"], min=-5, max=20),  # all in range
    )
    out = res.outcomes
    expect(out[0], "failed", 2, 6, [1, 5])
    expect(out[1], "failed", 4, 6, [1, 2, 4, 5])
    expect(out[2], "failed", 3, 6, [1, 2, 5])
    expect(out[3], "failed", 3, 6, [1, 4, 5])
    expect(out[4], "failed", 2, 6, [1, 5])
    expect(out[5], "failed", 3, 6, [1, 4, 5])
    expect(out[6], "failed", 4, 6, [1, 2, 4, 5])
    expect(out[7], "passed", 0, 6, [])
    assert out[0].rule.record_message({"v": 11}) == "The `v` value of 11 is not between 0 and 10"


# -- expectedValues ----------------------------------------------------------------------------


def test_expected_values(engine):
    t = engine.load(
        id=[1, 2, 3, 4, 5],
        s=["a", "b", "c", None, "A"],
        n=[1, 2, 3, None, 1],
    )
    s, n, s_all = run(
        t,
        check("expectedValues", ["s"], list=["a", "b"]),  # "c" and "A" (case matters) fail; NULL skipped
        check("expectedValues", ["n"], list=[1, 3]),  # 2 fails
        check("expectedValues", ["s"], list=["a", "b", "c", "A"]),
    ).outcomes
    expect(s, "failed", 2, 5, [3, 5])
    expect(n, "failed", 1, 5, [2])
    expect(s_all, "passed", 0, 5, [])


# -- matchesPattern ------------------------------------------------------------------------------


def test_matches_pattern(engine):
    t = engine.load(
        id=[1, 2, 3, 4, 5],
        code=["AB-123", "ab-123", "AB-12", None, "xAB-123y"],
        n=[100, 5, 12345, None, 999],
    )
    anchored, unanchored, numeric = run(
        t,
        check("matchesPattern", ["code"], pattern="^[A-Z]{2}-[0-9]{3}$"),  # rows 2 (case), 3 (short), 5 (extra)
        check("matchesPattern", ["code"], pattern="[0-9]{3}"),  # search semantics: only "AB-12" lacks 3 digits
        check("matchesPattern", ["n"], pattern="^[0-9]{3}$"),  # numbers as text: 5 and 12345 fail
    ).outcomes
    expect(anchored, "failed", 3, 5, [2, 3, 5])
    expect(unanchored, "failed", 1, 5, [3])
    expect(numeric, "failed", 2, 5, [2, 3])


# -- unique ------------------------------------------------------------------------------------


def test_unique_single_field_ignores_nulls(engine):
    # v: 2 appears twice, 3 three times, NULL twice (ignored), 1 and 4 once
    t = engine.load(id=[1, 2, 3, 4, 5, 6, 7, 8, 9], v=[1, 2, 2, 3, 3, 3, None, None, 4])
    (u,) = run(t, check("unique", ["v"])).outcomes
    expect(u, "failed", 5, 9, [2, 3, 4, 5, 6])
    assert u.rule.record_message(u.examples[0]) == "The `v` value of 2 is not unique"
    # the helper window column never leaks into the example rows
    assert set(u.examples[0]) == {"id", "v"}


def test_unique_composite(engine):
    t = engine.load(
        id=[1, 2, 3, 4, 5],
        a=[1, 2, 3, 4, 5],  # unique
        b=[None, None, None, None, "k"],  # mostly NULL
        c=[1, 1, 1, 2, 2],
        d=["x", "x", "y", None, None],
    )
    ab, b, cd, c = run(
        t,
        check("unique", ["a", "b"]),  # a unique, rows with NULL b ignored: passes
        check("unique", ["b"]),  # one non-NULL value: passes
        check("unique", ["c", "d"]),  # (1,'x') twice -> rows 1, 2; (2,NULL) twice ignored
        check("unique", ["c"]),  # 1 three times, 2 twice: all five rows
    ).outcomes
    expect(ab, "passed", 0, 5, [])
    expect(b, "passed", 0, 5, [])
    expect(cd, "failed", 2, 5, [1, 2])
    expect(c, "failed", 5, 5, [1, 2, 3, 4, 5])
    assert cd.rule.record_message(cd.examples[0]) == "The `c`, `d` value of 1, 'x' is not unique"


def test_unique_with_filter_counts_only_filtered_rows(engine):
    # filtered rows (flag = 1) are 1, 2, 3 with v = 1, 1, 2 -> rows 1 and 2 are duplicates.
    # Row 4 repeats row 3's v but is filtered out, so row 3 is unique among the rows read.
    t = engine.load(id=[1, 2, 3, 4, 5], v=[1, 1, 2, 2, 3], flag=[1, 1, 1, 0, 0])
    (u,) = run(t, check("unique", ["v"], filter="flag = 1")).outcomes
    expect(u, "failed", 2, 3, [1, 2])


# -- minLength / maxLength ---------------------------------------------------------------------


def test_min_and_max_length(engine):
    # lengths:       0    1     3       5 (7 bytes)  NULL  6
    t = engine.load(id=[1, 2, 3, 4, 5, 6], s=["", "a", "abc", "ñandú", None, "abcdef"])
    min3, max5, max4, min0 = run(
        t,
        check("minLength", ["s"], value=3),  # "" and "a"
        check("maxLength", ["s"], value=5),  # "abcdef"; "ñandú" is 5 characters
        check("maxLength", ["s"], value=4),  # "ñandú" and "abcdef"
        check("minLength", ["s"], value=0),
    ).outcomes
    expect(min3, "failed", 2, 6, [1, 2])
    expect(max5, "failed", 1, 6, [6])
    expect(max4, "failed", 2, 6, [4, 6])
    expect(min0, "passed", 0, 6, [])
    assert max5.examples == [{"id": 6, "s": "abcdef"}]


# -- notFuture ---------------------------------------------------------------------------------


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def test_not_future_date(engine):
    today = _utc_now().date()
    t = engine.load(
        id=[1, 2, 3, 4, 5],
        # today is not in the future; today + 2 days and year 2999 are
        d=pa.array([dt.date(2000, 1, 1), today, None, today + dt.timedelta(days=2), dt.date(2999, 12, 31)]),
    )
    (nf,) = run(t, check("notFuture", ["d"])).outcomes
    expect(nf, "failed", 2, 5, [4, 5])
    assert nf.examples[1]["d"] == dt.date(2999, 12, 31)


def test_not_future_timestamp(engine):
    now = _utc_now()
    # "2 seconds ago" is earlier TODAY (except in the first 2 s after midnight UTC): it must
    # pass. NULL is skipped. An hour from now and year 2999 are in the future.
    values = [
        dt.datetime(2000, 1, 1),
        now - dt.timedelta(seconds=2),
        None,
        now + dt.timedelta(hours=1),
        dt.datetime(2999, 1, 1, 12, 0, 0),
    ]
    t = engine.load(id=[1, 2, 3, 4, 5], ts=pa.array(values, type=pa.timestamp("us")))
    (nf,) = run(t, check("notFuture", ["ts"])).outcomes
    expect(nf, "failed", 2, 5, [4, 5])
    assert nf.examples[1]["ts"] == dt.datetime(2999, 1, 1, 12, 0, 0)


def test_not_future_timestamp_with_time_zone(engine):
    now = _utc_now().replace(tzinfo=dt.UTC)
    values = [now - dt.timedelta(days=400), now - dt.timedelta(seconds=2), None, now + dt.timedelta(hours=1)]
    t = engine.load(id=[1, 2, 3, 4], ts=pa.array(values, type=pa.timestamp("us", tz="UTC")))
    (nf,) = run(t, check("notFuture", ["ts"])).outcomes
    expect(nf, "failed", 1, 4, [4])


def test_not_future_sqlite_text_timestamps_in_any_iso_layout(tmp_path):
    """SQLite keeps timestamps as text; writers differ ('YYYY-MM-DD HH:MM:SS' from Python's
    sqlite3 or SQLAlchemy, 'YYYY-MM-DDTHH:MM:SS' from Ibis, a 'Z' or offset suffix from
    others). notFuture must compare times, not strings ('T' sorts after ' ')."""
    import ibis

    now = _utc_now()
    past, future = now - dt.timedelta(seconds=2), now + dt.timedelta(hours=1)
    con = ibis.sqlite.connect(str(tmp_path / "layouts.sqlite"))
    try:
        con.con.execute('CREATE TABLE "events" ("id" INTEGER, "ts" TIMESTAMP)')
        rows = [
            (1, past.isoformat(" ")),  # '2026-01-01 10:00:00'
            (2, past.isoformat()),  # '2026-01-01T10:00:00'
            (3, past.isoformat() + "Z"),
            (4, (past + dt.timedelta(hours=2)).isoformat() + "+02:00"),  # the same instant, UTC+2
            (5, future.isoformat(" ")),
            (6, future.isoformat()),
            (7, future.isoformat() + "Z"),
        ]
        con.con.executemany('INSERT INTO "events" VALUES (?, ?)', rows)
        con.con.commit()
        (nf,) = run(con.table("events"), check("notFuture", ["ts"]), example_limit=0).outcomes
        expect(nf, "failed", 3, 7)  # rows 5, 6, 7
    finally:
        con.disconnect()


# -- greaterThanField ----------------------------------------------------------------------------


def test_greater_than_field(engine):
    # rows:    1  2  3     4     5  6
    t = engine.load(
        id=[1, 2, 3, 4, 5, 6],
        a=[5, 5, 4, None, 7, 1],
        b=[3, 5, 6, 1, None, 1],
    )
    strict, inclusive = run(
        t,
        check("greaterThanField", ["a"], field_name="b"),  # 5>5, 4>6, 1>1 fail; NULL either side skipped
        check("greaterThanField", ["a"], field_name="b", inclusive=True),  # only 4>=6 fails
    ).outcomes
    expect(strict, "failed", 3, 6, [2, 3, 6])
    expect(inclusive, "failed", 1, 6, [3])
    assert strict.rule.record_message({"a": 5}) == "The `a` value of 5 is not greater than `b`"


def test_greater_than_field_dates(engine):
    t = engine.load(
        id=[1, 2, 3],
        start=pa.array([dt.date(2024, 1, 1), dt.date(2024, 3, 1), dt.date(2024, 5, 1)]),
        end=pa.array([dt.date(2024, 2, 1), dt.date(2024, 2, 1), None]),
    )
    (g,) = run(t, check("greaterThanField", ["end"], field_name="start")).outcomes
    expect(g, "failed", 1, 3, [2])  # row 2 ends before it starts; row 3 has no end


# -- satisfiesExpression -----------------------------------------------------------------------


def test_satisfies_expression(engine):
    # rows:    1        2      3         4     5
    t = engine.load(
        id=[1, 2, 3, 4, 5],
        a=[1, 2, 3, None, 5],
        b=[1, 5, 2, 4, None],
        s=["apple", "  ", "banana", None, "avocado"],
    )
    res = run(
        t,
        check("satisfiesExpression", expression="a >= b"),  # row 2 FALSE; rows 4, 5 NULL (skipped)
        check("satisfiesExpression", expression="a + b > 4"),  # row 1: 2 > 4 FALSE
        check("satisfiesExpression", expression="a IS NOT NULL AND b IS NOT NULL"),  # rows 4, 5 FALSE
        check("satisfiesExpression", expression="CASE WHEN a > 2 THEN b < 2 ELSE TRUE END"),  # row 3; row 5 NULL
        check("satisfiesExpression", expression="s LIKE 'a%'"),  # rows 2, 3
        check("satisfiesExpression", expression="upper(s) = 'BANANA' OR s RLIKE '^a'"),  # row 2
        check(
            "satisfiesExpression", expression="coalesce(a, 0) + coalesce(b, 0) BETWEEN 2 AND 7"
        ),  # sums 2, 7, 5, 4, 5
        check("satisfiesExpression", expression="length(trim(s)) > 0"),  # row 2 ("  " trims to "")
        check("satisfiesExpression", expression="a IN (1, 3, 5)"),  # row 2; row 4 NULL
    )
    out = res.outcomes
    expect(out[0], "failed", 1, 5, [2])
    expect(out[1], "failed", 1, 5, [1])
    expect(out[2], "failed", 2, 5, [4, 5])
    expect(out[3], "failed", 1, 5, [3])
    expect(out[4], "failed", 2, 5, [2, 3])
    expect(out[5], "failed", 1, 5, [2])
    # coalesced sums: 2, 7, 5, 4, 5 — all within [2, 7]
    expect(out[6], "passed", 0, 5, [])
    expect(out[7], "failed", 1, 5, [2])
    expect(out[8], "failed", 1, 5, [2])
    assert out[0].rule.record_message({}) == "The record does not satisfy the expression: a >= b"


# -- minPartitionSize ----------------------------------------------------------------------------


def test_min_partition_size(engine):
    t = engine.load(id=[1, 2, 3, 4, 5], a=[1, 2, 3, 4, 5])
    res = run(
        t,
        check("minPartitionSize", min_size=5),
        check("minPartitionSize", min_size=6),
        check("minPartitionSize", filter="a > 2", min_size=3),  # 3 rows after the filter
        check("minPartitionSize", filter="a > 2", min_size=4),
        check("minPartitionSize", value=6),  # alias of min_size
    )
    ok, short, f_ok, f_short, alias = res.outcomes
    assert res.records == 5
    for o in res.outcomes:
        assert o.kind == "aggregate" and o.error is None
    assert (ok.result, ok.failed, ok.message) == ("passed", 0, None)
    assert (short.result, short.failed, short.asserted) == ("failed", 5, 5)
    assert short.message == "The partition holds 5 records, fewer than the minimum of 6"
    assert short.examples == []  # aggregate checks fetch no example rows
    assert f_ok.result == "passed"
    assert f_short.result == "failed"
    assert f_short.message == "The partition holds 3 records, fewer than the minimum of 4"
    assert alias.result == "failed" and alias.message == short.message


# -- NULL / NaN handling -----------------------------------------------------------------------


def test_value_rules_skip_nulls(engine):
    # a column that is entirely NULL breaks no value rule; only notNull flags it
    t = engine.load(
        id=[1, 2, 3],
        n=pa.array([None, None, None], type=pa.int64()),
        s=pa.array([None, None, None], type=pa.string()),
        d=pa.array([None, None, None], type=pa.date32()),
    )
    res = run(
        t,
        check("notNegative", ["n"]),
        check("between", ["n"], min=1, max=2),
        check("expectedValues", ["s"], list=["x"]),
        check("matchesPattern", ["s"], pattern="^x$"),
        check("minLength", ["s"], value=3),
        check("maxLength", ["s"], value=0),
        check("unique", ["n"]),
        check("notFuture", ["d"]),
        check("greaterThanField", ["n"], field_name="id"),
        check("satisfiesExpression", expression="n > 100"),
        check("notNull", ["n"]),
    )
    for o in res.outcomes[:-1]:
        expect(o, "passed", 0, 3, [])
    expect(res.outcomes[-1], "failed", 3, 3, [1, 2, 3])


def test_nan_is_a_value_not_null(engine):
    if not engine.has_nan:
        pytest.skip("SQLite has no NaN: a NaN REAL is stored as NULL, so NaN semantics cannot be tested there")
    t = engine.load(id=[1, 2, 3, 4, 5], x=nan_array([NAN, 1.0, None, -1.0, 20.0]))
    res = run(
        t,
        check("notNull", ["x"]),  # only the NULL (row 3)
        check("notNegative", ["x"]),  # NaN is not < 0: only -1.0 (row 4)
        check("between", ["x"], min=0, max=10),  # NaN is not in [0, 10] (sorts above all numbers): 1, 4, 5
        check("unique", ["x"]),  # one NaN, distinct numbers
        check("expectedValues", ["x"], list=[1.0]),  # 1, 4, 5
    )
    nn, neg, btw, uniq, ev = res.outcomes
    expect(nn, "failed", 1, 5, [3])
    expect(neg, "failed", 1, 5, [4])
    expect(btw, "failed", 3, 5, [1, 4, 5])
    expect(uniq, "passed", 0, 5, [])
    expect(ev, "failed", 3, 5, [1, 4, 5])
    # the example row really carries NaN, not None
    x = btw.examples[0]["x"]
    assert isinstance(x, float) and x != x


# -- empty table ---------------------------------------------------------------------------------


def test_empty_table(engine):
    t = engine.load(
        id=pa.array([], type=pa.int64()),
        v=pa.array([], type=pa.float64()),
        s=pa.array([], type=pa.string()),
        d=pa.array([], type=pa.date32()),
        ts=pa.array([], type=pa.timestamp("us")),
    )
    checks = [
        check("notNull", ["v", "s"]),
        check("notNegative", ["v"]),
        check("between", ["v"], min=0, max=1),
        check("expectedValues", ["s"], list=["a"]),
        check("matchesPattern", ["s"], pattern="^a$"),
        check("unique", ["id"]),
        check("unique", ["id", "s"]),
        check("minLength", ["s"], value=1),
        check("maxLength", ["s"], value=1),
        check("notFuture", ["d"]),
        check("notFuture", ["ts"]),
        check("greaterThanField", ["v"], field_name="id"),
        check("satisfiesExpression", expression="v > 0"),
        check("notNegative", ["v"], filter="id > 0"),
        check("notNegative", ["v"], coverage=0.5),
        check("minPartitionSize", min_size=0),
    ]
    res = run(t, *checks)
    assert res.records == 0
    for o in res.outcomes:
        expect(o, "passed", 0, 0, [])
    # ...except that a minimum partition size above 0 is not met by an empty read
    (mps,) = run(t, check("minPartitionSize", min_size=1)).outcomes
    assert mps.result == "failed"
    assert mps.message == "The partition holds 0 records, fewer than the minimum of 1"


# -- filter ----------------------------------------------------------------------------------


def test_filter_restricts_rows(engine):
    t = engine.load(
        id=[1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        v=[-1, -2, 3, -4, 5, None, 7, -8, 9, 10],
        g=["x", "x", "y", "y", None, "y", "x", "y", None, "x"],
    )
    gt5, by_g, null_filter, none_match = run(
        t,
        check("notNegative", ["v"], filter="id > 5"),  # rows 6..10 read; row 8 (-8) fails
        check("notNegative", ["v"], filter="g = 'x'"),  # rows 1, 2, 7, 10; 1 and 2 fail
        check("notNull", ["v"], filter="g IS NULL"),  # rows 5, 9: no NULL v there
        check("notNegative", ["v"], filter="id > 100"),  # no row read
    ).outcomes
    expect(gt5, "failed", 1, 5, [8])
    expect(by_g, "failed", 2, 4, [1, 2])
    expect(null_filter, "passed", 0, 2, [])
    expect(none_match, "passed", 0, 0, [])
    # shape message counts the filtered rows only
    assert by_g.message == "In `v`, 50.000% of 4 filtered records (2) are negative"


def test_filter_on_null_operand_does_not_read_the_row(engine):
    # filter `g <> 'x'` is NULL for rows with NULL g: those rows are not read
    t = engine.load(id=[1, 2, 3, 4], v=[-1, -2, -3, 4], g=["x", None, "y", "y"])
    (o,) = run(t, check("notNegative", ["v"], filter="g <> 'x'")).outcomes
    expect(o, "failed", 1, 2, [3])


# -- coverage --------------------------------------------------------------------------------


def test_coverage(engine):
    ids = list(range(1, 11))
    t = engine.load(
        id=ids,
        one=[-1] + list(range(2, 11)),  # 1 negative of 10 (10%)
        two=[-1, -2] + list(range(3, 11)),  # 2 negatives of 10 (20%)
    )
    res = run(
        t,
        check("notNegative", ["one"], coverage=0.9),  # 10% <= 1 - 0.9: passes (boundary)
        check("notNegative", ["one"], coverage=0.95),  # 10% > 5%: fails
        check("notNegative", ["two"], coverage=0.8),  # 20% <= 20%: passes (boundary)
        check("notNegative", ["two"], coverage=0.85),  # 20% > 15%
        check("notNegative", ["two"], coverage=0.5),  # 20% <= 50%
        check("notNegative", ["two"], coverage=1.0),
        check("notNegative", ["two"]),
        check("notNegative", ["two"], coverage=0.6, filter="id <= 5"),  # 2 of 5 = 40% <= 40%: passes
        check("notNegative", ["two"], coverage=0.7, filter="id <= 5"),  # 40% > 30%
    )
    out = res.outcomes
    # a check passing thanks to its coverage still reports how many rows failed
    expect(out[0], "passed", 1, 10)
    expect(out[1], "failed", 1, 10, [1])
    expect(out[2], "passed", 2, 10)
    expect(out[3], "failed", 2, 10, [1, 2])
    expect(out[4], "passed", 2, 10)
    expect(out[5], "failed", 2, 10, [1, 2])
    expect(out[6], "failed", 2, 10, [1, 2])
    expect(out[7], "passed", 2, 5)
    expect(out[8], "failed", 2, 5, [1, 2])
    for o in (out[0], out[2], out[4], out[7]):
        assert o.examples == [] and o.message is None


# -- awkward column names --------------------------------------------------------------------


def test_reserved_and_spaced_column_names(engine):
    t = engine.load(
        **{
            "id": [1, 2, 3, 4],
            "order": [1, 2, 3, -4],
            "select": ["a", "b", None, "d"],
            "order id": [10, 20, 30, 40],
        }
    )
    res = run(
        t,
        check("notNegative", ["order"]),  # row 4
        check("notNull", ["select"]),  # row 3
        check("unique", ["order id"]),
        check("unique", ["order", "select"]),
        check("between", ["order id"], filter="`order id` > 10", min=15, max=35),  # rows 2..4 read; 40 fails
        check("satisfiesExpression", expression="`order` < `order id` AND `select` <> 'b'"),  # row 2; row 3 NULL
        check("greaterThanField", ["order id"], field_name="order"),
        check("notNegative", ["order"], filter="`select` IS NOT NULL"),  # rows 1, 2, 4 read; row 4 fails
        check("expectedValues", ["select"], filter="`order id` >= 20", list=["b"]),  # rows 2, 3, 4 read; "d" fails
        check("expectedValues", ["select"], filter="`order` >= 2", list=["b"]),  # rows 2, 3 read ("b", NULL)
        # rows 1 and 4 read (row 3: NULL OR FALSE is NULL); "10" and "40" match
        check("matchesPattern", ["order id"], pattern="^[0-9]0$", filter="`select` = 'a' OR `order id` = 40"),
    )
    out = res.outcomes
    expect(out[0], "failed", 1, 4, [4])
    expect(out[1], "failed", 1, 4, [3])
    expect(out[2], "passed", 0, 4, [])
    expect(out[3], "passed", 0, 4, [])
    expect(out[4], "failed", 1, 3, [4])
    expect(out[5], "failed", 1, 4, [2])
    expect(out[6], "passed", 0, 4, [])
    expect(out[7], "failed", 1, 3, [4])
    expect(out[8], "failed", 1, 3, [4])
    expect(out[9], "passed", 0, 2, [])
    expect(out[10], "passed", 0, 2, [])
    assert out[1].examples == [{"id": 3, "order": 3, "select": None, "order id": 30}]
