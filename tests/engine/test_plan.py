"""Plan-level behaviour of ``assay.engine.plan.evaluate`` on real backends: one fused
aggregate query, isolation of checks that cannot compile or that break at run time,
example rows (limit, order, columns), outcome order and ids.
"""

from __future__ import annotations

import ibis
import pytest

from assay.engine import plan
from assay.engine.plan import evaluate
from assay.engine.rules import CheckSpec
from tests.engines import ENGINES, Engine, engine_fixture
from tests.helpers import check, numbered
from tests.helpers import expect as asserted

# -- ONE fused aggregate query -----------------------------------------------------------------


@pytest.fixture
def sqlite_engine(tmp_path):
    """SQLite only: sqlite3's trace callback shows every statement the engine really runs."""
    con = ibis.sqlite.connect(str(tmp_path / "traced.sqlite"))
    yield Engine("sqlite", con)
    con.disconnect()


def _traced(engine):
    """Record every SQL statement the SQLite connection runs from now on."""
    statements: list[str] = []
    engine.con.con.set_trace_callback(statements.append)
    return statements


def test_all_checks_are_asserted_by_one_aggregate_query(sqlite_engine):
    engine = sqlite_engine
    t = engine.load(id=[1, 2, 3], v=[1, 2, 3], s=["a", "b", "c"])
    checks = numbered(
        check("notNull", ["v", "s"]),
        check("notNegative", ["v"]),
        check("between", ["v"], min=0, max=10),
        check("unique", ["id"]),
        check("unique", ["s"], filter="v > 1"),
        check("matchesPattern", ["s"], pattern="^[a-c]$"),
        check("satisfiesExpression", expression="v = id"),
        check("minPartitionSize", min_size=3),
    )
    labels: list[str] = []
    statements = _traced(engine)
    res = evaluate(t, checks, example_limit=10, on_query=labels.append)
    engine.con.con.set_trace_callback(None)
    assert all(o.result == "passed" for o in res.outcomes), res.outcomes
    assert res.records == 3
    assert labels == ["aggregate over 8 checks"]
    assert len(statements) == 1, statements
    assert statements[0].lstrip().upper().startswith("SELECT")
    # ...and that one statement carries the result columns of all eight checks
    assert all(f"__assay_c{i}_" in statements[0] for i in range(8)), statements[0]


def test_failing_checks_read_their_example_rows_in_one_query_or_one_each(sqlite_engine, monkeypatch):
    engine = sqlite_engine
    t = engine.load(id=[1, 2, 3], v=[1, 2, 3], s=["a", "b", "c"])
    checks = numbered(
        check("between", ["v"], min=2, max=3),  # row 1 fails
        check("expectedValues", ["s"], list=["a"]),  # rows 2, 3 fail
        check("notNull", ["v"]),  # passes
        check("minPartitionSize", min_size=4),  # fails, but aggregate: no example query
    )
    statements = _traced(engine)
    res = evaluate(t, checks, example_limit=10)
    assert [o.result for o in res.outcomes] == ["failed", "failed", "passed", "failed"]
    assert len(statements) == 2, statements  # 1 aggregate + 1 query reading both checks' failing rows
    assert [[r["id"] for r in o.examples] for o in res.outcomes] == [[1], [2, 3], [], []]

    # more failing rows (3) than one query may read for several checks: one query each
    monkeypatch.setattr(plan, "MAX_SHARED_EXAMPLE_ROWS", 2)
    statements.clear()
    res = evaluate(t, checks, example_limit=10)
    assert len(statements) == 3, statements  # 1 aggregate + 1 example query per failing row check
    assert all("LIMIT" in s.upper() for s in statements[1:])
    assert [[r["id"] for r in o.examples] for o in res.outcomes] == [[1], [2, 3], [], []]
    monkeypatch.undo()

    # more of their values (3 rows x 3 columns) than one query may hold: one query each
    monkeypatch.setattr(plan, "MAX_SHARED_EXAMPLE_VALUES", 8)
    statements.clear()
    res = evaluate(t, checks, example_limit=10)
    assert len(statements) == 3, statements
    monkeypatch.setattr(plan, "MAX_SHARED_EXAMPLE_VALUES", 9)
    statements.clear()
    res = evaluate(t, checks, example_limit=10)
    assert len(statements) == 2, statements
    assert [[r["id"] for r in o.examples] for o in res.outcomes] == [[1], [2, 3], [], []]
    monkeypatch.undo()

    statements.clear()
    res = evaluate(t, checks, example_limit=0)
    engine.con.con.set_trace_callback(None)
    assert len(statements) == 1, statements
    assert [o.failed for o in res.outcomes[:2]] == [1, 2]
    assert all(o.examples == [] for o in res.outcomes)


def test_on_query_reports_one_aggregate_on_every_engine(engine):
    t = engine.load(id=[1, 2], v=[1, -1])
    labels: list[str] = []
    res = evaluate(t, numbered(check("notNegative", ["v"]), check("unique", ["id"])), on_query=labels.append)
    if engine.name == "postgres":  # no temporary table: unique counts in its own query (it passes)
        assert labels == ["aggregate over 2 checks", "count and examples of check 2", "examples of check 1"]
    else:
        assert labels == ["aggregate over 2 checks", "examples of check 1"]
    asserted(res.outcomes[0], "failed", 1, 2)


# -- isolation: checks that cannot compile ------------------------------------------------------


def test_checks_that_cannot_compile_are_unasserted_and_the_rest_still_run(engine):
    t = engine.load(id=[1, 2, 3], v=[1, -2, 3], s=["a", "b", "c"])
    checks = numbered(
        check("notNull", ["nope"]),  # 1: missing field
        check("notNegative", ["v"]),  # 2: row 2 fails
        check("notNull", ["v"], filter="zzz > 1"),  # 3: filter on a missing field
        check("satisfiesExpression", expression="qqq > 1"),  # 4: expression on a missing field
        check("greaterThanField", ["v"], field_name="other_missing"),  # 5: missing other field
        check("noSuchRule", ["v"]),  # 6: unknown rule type
        check("between", ["v"], min=5, max=1),  # 7: invalid properties
        check("satisfiesExpression", expression="v + 1"),  # 8: not a boolean
        check("unique", ["s"]),  # 9: passes
        check("notNull", ["id", "missing_b"]),  # 10: one of two fields missing
        check("minPartitionSize", min_size=3),  # 11: passes
    )
    res = evaluate(t, checks)
    assert res.records == 3
    out = res.outcomes
    assert [o.check_id for o in out] == list(range(1, 12))
    for i in (0, 2, 3, 4, 5, 6, 7, 9):
        assert out[i].result == "unasserted", out[i]
        assert out[i].error, out[i]
        assert out[i].failed == 0 and out[i].examples == []
    assert "nope" in out[0].error
    assert "zzz" in out[2].error
    assert "qqq" in out[3].error
    assert "other_missing" in out[4].error
    assert "noSuchRule" in out[5].error
    assert "min must be less than or equal to max" in out[6].error
    assert "boolean" in out[7].error
    assert out[9].error.endswith(": missing_b")  # names only the field that is missing
    asserted(out[1], "failed", 1, 3)
    assert [r["id"] for r in out[1].examples] == [2]
    asserted(out[8], "passed", 0, 3)
    assert out[10].result == "passed"


def test_only_broken_checks_still_counts_records(engine):
    t = engine.load(id=[1, 2, 3, 4])
    res = evaluate(t, numbered(check("notNull", ["nope"])))
    assert res.records == 4
    assert res.outcomes[0].result == "unasserted"
    assert evaluate(t, []).records == 4
    assert evaluate(t, []).outcomes == []


# -- isolation: checks that break at RUN time (bisecting fallback) --------------------------------

# a = 2 overflows BIGINT at run time. (Compared with a column on purpose: DuckDB's optimizer
# rewrites `a * C > 0` into `a > 0` and never computes the product.)
OVERFLOW = "`a` * 9223372036854775807 > `id`"


def test_run_time_failure_is_isolated_to_its_check(engine):
    if engine.name == "sqlite":
        pytest.skip("SQLite silently turns an integer overflow into a REAL: no run-time error to isolate")
    t = engine.load(id=[1, 2, 3], a=[1, 2, 3], s=["x", None, "x"])
    assert t.a.type().is_int64()
    checks = numbered(
        check("notNull", ["s"]),  # row 2
        check("unique", ["id"]),
        check("satisfiesExpression", expression=OVERFLOW),  # compiles, fails when run
        check("expectedValues", ["s"], list=["y"]),  # rows 1, 3
        check("minPartitionSize", min_size=5),  # 3 < 5
    )
    labels: list[str] = []
    res = evaluate(t, checks, on_query=labels.append)
    assert res.records == 3
    nn, uq, broken, ev, mps = res.outcomes
    assert broken.result == "unasserted"
    assert "out of range" in broken.error.lower(), broken.error
    asserted(nn, "failed", 1, 3)
    assert [r["id"] for r in nn.examples] == [2]
    asserted(uq, "passed", 0, 3)
    asserted(ev, "failed", 2, 3)
    assert [r["id"] for r in ev.examples] == [1, 3]
    assert mps.result == "failed" and mps.error is None
    assert labels[0] == "aggregate over 5 checks"
    assert len([x for x in labels if x.startswith("aggregate")]) > 1  # it did split


def test_two_run_time_failures_and_all_broken(engine):
    if engine.name == "sqlite":
        pytest.skip("SQLite silently turns an integer overflow into a REAL: no run-time error to isolate")
    t = engine.load(id=[1, 2, 3], a=[1, 2, 3])
    checks = numbered(
        check("satisfiesExpression", expression=OVERFLOW),
        check("notNegative", ["a"]),
        check("between", ["a"], min=1, max=2),  # row 3
        check("satisfiesExpression", expression=OVERFLOW, filter="id >= 2"),
    )
    out = evaluate(t, checks).outcomes
    assert [o.result for o in out] == ["unasserted", "passed", "failed", "unasserted"]
    asserted(out[2], "failed", 1, 3)
    # every check broken: the row count is still reported
    res = evaluate(t, numbered(check("satisfiesExpression", expression=OVERFLOW)))
    assert res.records == 3 and res.outcomes[0].result == "unasserted"


def test_invalid_regex_in_an_expression_is_isolated_on_every_engine(engine):
    # RLIKE patterns are Assay's regex flavour (engine/regex.py): an invalid one is refused
    # when the check compiles, on that check only.
    t = engine.load(id=[1, 2], s=["a", "b"], v=[1, -1])
    out = evaluate(
        t,
        numbered(
            check("notNegative", ["v"]),
            check("satisfiesExpression", expression="s RLIKE '(unclosed'"),
            check("notNull", ["s"]),
        ),
    ).outcomes
    asserted(out[0], "failed", 1, 2)
    assert out[1].result == "unasserted" and out[1].error.startswith("RLIKE pattern:"), out[1].error
    asserted(out[2], "passed", 0, 2)


# -- example rows ---------------------------------------------------------------------------------


def test_example_rows_are_bounded_and_deterministically_ordered(engine):
    # inserted out of order; examples come back ordered by the leading columns (id first)
    t = engine.load(id=[5, 3, 1, 4, 2, 6], v=[-5, -3, -1, -4, -2, 6], s=["e", "c", "a", "d", "b", "f"])
    (o,) = evaluate(t, numbered(check("notNegative", ["v"])), example_limit=2).outcomes
    asserted(o, "failed", 5, 6)
    assert o.examples == [{"id": 1, "v": -1, "s": "a"}, {"id": 2, "v": -2, "s": "b"}]
    (o,) = evaluate(t, numbered(check("notNegative", ["v"])), example_limit=10).outcomes
    assert [r["id"] for r in o.examples] == [1, 2, 3, 4, 5]
    (o,) = evaluate(t, numbered(check("notNegative", ["v"])), example_limit=0).outcomes
    asserted(o, "failed", 5, 6)
    assert o.examples == []


every_engine = engine_fixture(*ENGINES, fixture_name="every_engine")


def test_example_rows_read_in_one_query_equal_each_checks_own(every_engine, monkeypatch):
    """Several failing row checks read their example rows with one query (their failing
    rows are few): each gets exactly the rows, in the order, its own query gives."""
    t = every_engine.load(
        id=[6, 2, 5, 1, 4, 3],
        v=[-6, 2, -5, 1, -4, 3],
        s=["f", "b", None, "a", "x", "c"],
        g=["y", "x", "y", "x", "y", "x"],
    )
    checks = numbered(
        check("notNegative", ["v"]),  # ids 4, 5, 6
        check("expectedValues", ["s"], list=["a", "b", "c"]),  # ids 4 ('x') and 6 ('f'); NULL skipped
        check("notNull", ["s"], filter="g = 'y'"),  # id 5
        check("unique", ["g"]),  # every row (two groups of three): a grouped check reads its own
        check("between", ["v"], min=-10, max=10),  # passes
    )
    labels: list[str] = []
    together = evaluate(t, checks, example_limit=2, on_query=labels.append)
    if every_engine.name == "postgres":  # unique's example rows are read with its count
        assert labels == ["aggregate over 5 checks", "count and examples of check 4", "examples of 3 checks"]
    else:
        assert labels == ["aggregate over 5 checks", "examples of 3 checks", "examples of check 4"]
    expected = [[4, 5], [4, 6], [5], [1, 2], []]
    assert [[r["id"] for r in o.examples] for o in together.outcomes] == expected
    assert together.outcomes[2].examples == [{"id": 5, "v": -5, "s": None, "g": "y"}]

    monkeypatch.setattr(plan, "MAX_SHARED_EXAMPLE_ROWS", 0)
    labels.clear()
    alone = evaluate(t, checks, example_limit=2, on_query=labels.append)
    if every_engine.name == "postgres":
        assert labels == ["aggregate over 5 checks", "count and examples of check 4"] + [
            f"examples of check {i}" for i in (1, 2, 3)
        ]
    else:
        assert labels == ["aggregate over 5 checks"] + [f"examples of check {i}" for i in (1, 2, 3, 4)]
    assert [o.examples for o in alone.outcomes] == [o.examples for o in together.outcomes]


def test_a_big_read_on_duckdb_reads_each_checks_example_rows_alone(monkeypatch):
    """DuckDB pushes each check's filter into its scan: past ``SHARED_EXAMPLES_ABOVE_ROWS``
    rows read, a query per failing check costs less than one query for all."""
    con = ibis.duckdb.connect()
    t = Engine("duckdb", con).load(id=[1, 2, 3, 4], v=[-1, 2, -3, 4], s=["a", "x", "b", "y"])
    checks = numbered(check("notNegative", ["v"]), check("expectedValues", ["s"], list=["a", "b"]))
    monkeypatch.setattr(plan, "SHARED_EXAMPLES_ABOVE_ROWS", 3)
    labels: list[str] = []
    res = evaluate(t, checks, on_query=labels.append)
    assert labels == ["aggregate over 2 checks", "examples of check 1", "examples of check 2"]
    assert [[r["id"] for r in o.examples] for o in res.outcomes] == [[1, 3], [2, 4]]
    monkeypatch.setattr(plan, "SHARED_EXAMPLES_ABOVE_ROWS", 4)
    labels.clear()
    res = evaluate(t, checks, on_query=labels.append)
    assert labels == ["aggregate over 2 checks", "examples of 2 checks"]
    assert [[r["id"] for r in o.examples] for o in res.outcomes] == [[1, 3], [2, 4]]
    con.disconnect()


@pytest.mark.parametrize(
    ("ids", "bounded_rows"),
    [
        # ties at the bound: the 2nd smallest id of the failing rows is 2, held by three rows
        ([3, 1, 2, 2, 5, 2, 4, 6], 4),
        # one non-NULL id, so a NULL is among the first two: no bound (it would drop the NULLs)
        ([None, None, None, 5, None, None, None, None], None),
        # NULL ids past the first two: bounded at 2
        ([None, 2, 3, None, 1, 4, 9, 5], 2),
    ],
)
def test_big_duckdb_reads_read_unpushed_example_rows_in_two_steps(monkeypatch, ids, bounded_rows):
    """Past ``BOUNDED_EXAMPLES_ABOVE_ROWS`` rows on DuckDB, a failing check whose predicate
    compares two columns, or ``unique``, first reads the smallest values of the first order
    column among its failing rows, then its rows up to that bound: the same rows, in the
    same order, as the one-step read."""
    con = ibis.duckdb.connect()
    # every row fails both checks: v < w everywhere, and k takes each value twice
    t = Engine("duckdb", con).load(
        id=ids, v=[8, 7, 6, 5, 4, 3, 2, 1], w=[9, 9, 9, 9, 9, 9, 9, 9], k=[1, 2, 3, 4, 4, 3, 2, 1]
    )
    checks = numbered(check("satisfiesExpression", expression="v >= w"), check("unique", ["k"]))
    seen: list[tuple[int, int]] = []
    bound = plan._bounded_by_first_column

    def spy(t, rows, limit):
        out = bound(t, rows, limit)
        seen.append((rows.count().to_pyarrow().as_py(), out.count().to_pyarrow().as_py()))
        return out

    monkeypatch.setattr(plan, "_bounded_by_first_column", spy)
    monkeypatch.setattr(plan, "SHARED_EXAMPLES_ABOVE_ROWS", 0)
    monkeypatch.setattr(plan, "BOUNDED_EXAMPLES_ABOVE_ROWS", 7)
    two_steps = evaluate(t, checks, example_limit=2)
    assert seen == [(8, bounded_rows or 8)] * 2
    monkeypatch.setattr(plan, "BOUNDED_EXAMPLES_ABOVE_ROWS", 8)
    one_step = evaluate(t, checks, example_limit=2)
    assert len(seen) == 2
    assert [o.examples for o in two_steps.outcomes] == [o.examples for o in one_step.outcomes]
    # ids ascending, NULLs last, then v ascending (the examples' order)
    rows = sorted(zip(ids, [8, 7, 6, 5, 4, 3, 2, 1], strict=True), key=lambda r: (r[0] is None, r[0] or 0, r[1]))
    expected = [{"id": i, "v": v, "w": 9, "k": [1, 2, 3, 4, 4, 3, 2, 1][8 - v]} for i, v in rows[:2]]
    assert [o.examples for o in two_steps.outcomes] == [expected, expected]
    con.disconnect()


def test_a_float_string_or_enum_first_column_is_never_a_bound(monkeypatch):
    """Only a first column whose literal compares as the column sorts is a bound: a float
    read back into Python may not be the value the engine compares, and a DuckDB ENUM (a
    string to Ibis) sorts by its position but compares with a string literal as text
    (bounded at 'high', every 'low' row was dropped)."""
    con = ibis.duckdb.connect()
    con.raw_sql("CREATE TYPE level AS ENUM ('low', 'medium', 'high')")
    con.raw_sql(
        "CREATE TABLE e AS SELECT lvl::level AS lvl, a, b FROM (VALUES "
        "('high', 1, 5), ('low', 2, 5), ('medium', 3, 5), ('low', 4, 5), ('high', 5, 5)) v(lvl, a, b)"
    )
    floats = Engine("duckdb", con).load(x=[0.1, 0.3, 0.2, 0.1], a=[1, 2, 3, 4], b=[5, 5, 5, 5])
    monkeypatch.setattr(plan, "SHARED_EXAMPLES_ABOVE_ROWS", 0)
    monkeypatch.setattr(plan, "BOUNDED_EXAMPLES_ABOVE_ROWS", 0)
    checks = numbered(check("satisfiesExpression", expression="a >= b"))
    (o,) = evaluate(con.table("e"), checks, example_limit=2).outcomes
    assert o.examples == [{"lvl": "low", "a": 2, "b": 5}, {"lvl": "low", "a": 4, "b": 5}]
    (o,) = evaluate(floats, checks, example_limit=2).outcomes
    assert o.examples == [{"x": 0.1, "a": 1, "b": 5}, {"x": 0.1, "a": 4, "b": 5}]
    for t in (con.table("e"), floats):
        rows = t.filter(t.a < t.b)
        assert plan._bounded_by_first_column(t, rows, 2) is rows
    con.disconnect()


def test_a_bounded_read_that_fails_falls_back_to_the_one_step_read(monkeypatch):
    """A second step that fails at run time (it used to leave the anomaly without example
    rows: a NUL in a string literal broke the statement) gives way to the one-step read."""
    con = ibis.duckdb.connect()
    t = Engine("duckdb", con).load(id=[3, 1, 2], a=[1, 2, 3], b=[5, 5, 5])
    monkeypatch.setattr(plan, "SHARED_EXAMPLES_ABOVE_ROWS", 0)
    monkeypatch.setattr(plan, "BOUNDED_EXAMPLES_ABOVE_ROWS", 0)
    monkeypatch.setattr(
        plan, "_bounded_by_first_column", lambda t, rows, limit: rows.filter(ibis.literal("x").cast("int64") > 0)
    )
    (o,) = evaluate(t, numbered(check("satisfiesExpression", expression="a >= b")), example_limit=2).outcomes
    assert (o.examples, o.examples_error) == ([{"id": 1, "a": 2, "b": 5}, {"id": 2, "a": 3, "b": 5}], None)
    con.disconnect()


def test_example_rows_respect_the_filter(engine):
    t = engine.load(id=[1, 2, 3, 4], v=[-1, -2, -3, -4], g=["x", "y", "x", "y"])
    (o,) = evaluate(t, numbered(check("notNegative", ["v"], filter="g = 'y'"))).outcomes
    asserted(o, "failed", 2, 2)
    assert o.examples == [{"id": 2, "v": -2, "g": "y"}, {"id": 4, "v": -4, "g": "y"}]


def test_outcomes_keep_input_order_and_ids(engine):
    t = engine.load(id=[1, 2], v=[1, None])
    specs = [
        CheckSpec(101, "notNull", ["v"]),
        CheckSpec(7, "minPartitionSize", [], {"min_size": 1}),
        CheckSpec(55, "notNull", ["missing"]),
        CheckSpec(3, "notNull", ["id"]),
    ]
    out = evaluate(t, specs).outcomes
    assert [(o.check_id, o.rule_type, o.kind, o.result) for o in out] == [
        (101, "notNull", "row", "failed"),
        (7, "minPartitionSize", "aggregate", "passed"),
        (55, "notNull", "row", "unasserted"),
        (3, "notNull", "row", "passed"),
    ]


def test_fused_query_computes_each_check_as_if_alone(engine):
    """Regression: on PostgreSQL, `a / 2` in one check's filter was computed as an INTEGER
    division once other checks used `a` in the same fused query (sqlglot casts the
    dividend in place, and Ibis shares one node per column). `/` is fractional."""
    t = engine.load(id=[1, 2, 3, 4, 5], a=[1, 2, 3, 4, 5])  # a / 2 = 0.5, 1, 1.5, 2, 2.5
    checks = numbered(
        check("notNegative", ["a"], filter="a / 2 > 1"),  # reads a = 3, 4, 5
        check("notNegative", ["a"], filter="a / 2 = 1"),  # reads a = 2
        check("satisfiesExpression", expression="ceil(a / 2) = 1"),  # ceil: 1 1 2 2 3 -> a = 3, 4, 5 fail
        check("satisfiesExpression", expression="floor(a / 3) = 0"),  # floor: 0 0 1 1 1 -> a = 3, 4, 5 fail
        check("satisfiesExpression", expression="a % 2 = 1"),  # a = 2, 4 fail
        check("satisfiesExpression", expression="round(a * 1.4) >= 1"),  # 1.4 .. 7.0: none fails
        check("unique", ["a"], filter="a / 2 >= 1"),  # reads a = 2..5
        check("expectedValues", ["a"], filter="NOT (a / 2 > 1)", list=[1, 2]),  # reads a = 1, 2
        check("satisfiesExpression", expression="CAST(a AS STRING) <> '3'"),  # a = 3 fails
        check("between", ["a"], min=1, max=5),
    )
    out = evaluate(t, checks).outcomes
    expected = [
        ("passed", 0, 3),
        ("passed", 0, 1),
        ("failed", 3, 5),
        ("failed", 3, 5),
        ("failed", 2, 5),
        ("passed", 0, 5),
        ("passed", 0, 4),
        ("passed", 0, 2),
        ("failed", 1, 5),
        ("passed", 0, 5),
    ]
    assert [(o.result, o.failed, o.asserted) for o in out] == expected, [o.error for o in out]
    assert [r["id"] for r in out[2].examples] == [3, 4, 5]
    assert [r["id"] for r in out[4].examples] == [2, 4]
    # and each check evaluated on its own agrees with the fused query
    for spec, fused in zip(checks, out, strict=False):
        (alone,) = evaluate(t, [spec]).outcomes
        assert (alone.result, alone.failed, alone.asserted) == (fused.result, fused.failed, fused.asserted), spec


def test_many_checks_in_one_query(engine):
    # 60 checks fused: every third one fails on exactly one row
    t = engine.load(id=list(range(1, 11)), v=list(range(1, 11)))
    specs = []
    for i in range(60):
        if i % 3 == 0:
            specs.append(CheckSpec(i, "between", ["v"], {"min": 1, "max": 9}))  # v = 10 fails
        else:
            specs.append(CheckSpec(i, "between", ["v"], {"min": 1, "max": 10}))
    res = evaluate(t, specs, example_limit=1)
    assert res.records == 10
    for i, o in enumerate(res.outcomes):
        if i % 3 == 0:
            asserted(o, "failed", 1, 10)
            assert o.examples == [{"id": 10, "v": 10}]
        else:
            asserted(o, "passed", 0, 10)
