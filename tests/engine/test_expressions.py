"""``assay.engine.expressions``: user SQL (a check's ``filter`` / ``expression``, Spark SQL)
→ an Ibis expression. Rejections are unit-tested on an unbound table; accepted
constructs are evaluated on every real backend.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa
import pytest

from assay.engine.expressions import ExpressionError, parse, referenced_columns, to_ibis, to_ibis_predicate

SCHEMA = ibis.table({"id": "int64", "a": "int64", "s": "string", "d": "date", "order id": "int64"}, name="container")


# -- rejected input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "names"),
    [
        ("select 1", ["SELECT"]),
        ("SELECT a FROM container", ["SELECT"]),
        ("a = 1; drop table x", ["single expression", ";"]),
        ("a = 1; a = 2", ["single expression"]),
        ("a in (select 1)", ["subquery"]),
        ("exists (select 1 from container)", ["subquery"]),
        ("drop table x", ["DROP"]),
        ("delete from container", ["DELETE"]),
        ("insert into container values (1)", ["INSERT"]),
        ("", ["empty"]),
        ("   ", ["empty"]),
        ("a >", ["cannot parse"]),
    ],
)
def test_parse_rejects_anything_but_one_expression(sql, names):
    with pytest.raises(ExpressionError) as e:
        to_ibis_predicate(sql, SCHEMA)
    for name in names:
        assert name in str(e.value), str(e.value)


@pytest.mark.parametrize(
    ("sql", "names"),
    [
        ("frobnicate(a) > 1", ["unsupported", "frobnicate"]),  # an unknown function
        ("date_add(d, 1) > d", ["unsupported", "DATE_ADD"]),  # a known but unsupported function
        ("sum(a) > 1", ["unsupported", "Sum"]),  # aggregate
        ("row_number() over (order by a) = 1", ["unsupported", "Window"]),  # window
        ("nope = 1", ["unknown field 'nope'"]),
        ("container.a = 1", ["qualified column"]),
        ("a + 1", ["boolean condition", "int64"]),
        ("s LIKE s", ["LIKE", "string literal"]),
        ("s RLIKE s", ["RLIKE", "string literal"]),
        ("a IS TRUE", ["IS NULL"]),
        ("CAST(a AS BINARY) = 'x'", ["CAST to BINARY"]),
        ("substring(s, a) = 'x'", ["SUBSTRING start", "integer literal"]),
        ("a = 1 AND s", ["invalid operands", "a = 1 AND s"]),  # AND of a boolean and a string
        ("s = 1", ["invalid operands", "not comparable"]),
    ],
)
def test_translation_rejects_unsupported_constructs(sql, names):
    with pytest.raises(ExpressionError) as e:
        to_ibis_predicate(sql, SCHEMA)
    message = str(e.value)
    for name in names:
        assert name.lower() in message.lower(), message


def test_expression_error_is_a_value_error():
    assert issubclass(ExpressionError, ValueError)
    with pytest.raises(ValueError):
        parse("select 1")


def test_referenced_columns():
    assert referenced_columns("`order id` > 1 AND a < id OR `order id` IS NULL") == ["order id", "a", "id"]
    assert referenced_columns("1 = 1") == []


def test_to_ibis_returns_non_boolean_values():
    assert to_ibis("a + 1", SCHEMA).type().is_integer()
    assert to_ibis("upper(s)", SCHEMA).type().is_string()


# -- accepted constructs, evaluated on every engine ---------------------------------------------

T, F, N = True, False, None

CASES = [
    # rows: id 1 (a=1, s='Ab', d=2024-01-01), id 2 (a=2, s='cd', d=2024-06-01), id 3 (all NULL)
    ("a BETWEEN 1 AND 1", [T, F, N]),
    ("a <> 1", [F, T, N]),
    ("a != 1", [F, T, N]),
    ("NOT (a = 1)", [F, T, N]),
    ("a NOT IN (2)", [T, F, N]),
    ("a IS NULL OR upper(s) = 'CD'", [F, T, T]),
    ("s ILIKE 'ab'", [T, F, N]),
    ("s RLIKE '^[A-Z]'", [T, F, N]),
    ("s REGEXP 'd$'", [F, T, N]),
    ("IF(a > 1, 'big', 'small') = 'big'", [F, T, F]),
    ("CASE a WHEN 1 THEN TRUE ELSE FALSE END", [T, F, F]),
    ("CASE WHEN a > 1 THEN 'x' END = 'x'", [N, T, N]),
    ("d >= DATE '2024-03-01'", [F, T, N]),
    ("CAST('2024-03-01' AS DATE) < d", [F, T, N]),
    ("current_date() > d", [T, T, N]),
    ("CAST(a AS STRING) = '1'", [T, F, N]),
    ("substring(s, 1, 1) = 'A'", [T, F, N]),
    ("s || '!' = 'cd!'", [F, T, N]),
    ("ifnull(a, 0) = 0", [F, F, T]),
    ("nvl(a, 9) = 9", [F, F, T]),
    ("coalesce(a, `order id`) = 3", [F, F, T]),
    ("abs(-a) = a", [T, T, N]),
    ("-a < 0", [T, T, N]),
    ("a % 2 = 0", [F, T, N]),
    ("a + 1.5 > 3", [F, T, N]),  # 2.5, 3.5
    ("floor(a / 2) = 0", [T, F, N]),  # 0.5, 1.0
    ("ceil(a / 2) = 1", [T, T, N]),
    ("round(a * 1.4) = 1", [T, F, N]),  # 1.4, 2.8
    ("length(s) = 2 AND lower(s) = 'ab'", [T, F, N]),
    ("trim(s) = s", [T, T, N]),
    ("`order id` * 2 = 4", [F, T, F]),
]


def test_accepted_constructs_evaluate_the_same_everywhere(engine):
    t = engine.load(
        id=[1, 2, 3],
        a=[1, 2, None],
        s=["Ab", "cd", None],
        d=pa.array([dt.date(2024, 1, 1), dt.date(2024, 6, 1), None]),
        **{"order id": [1, 2, 3]},
    )
    exprs = {f"e{i}": to_ibis_predicate(sql, t) for i, (sql, _) in enumerate(CASES)}
    rows = t.select("id", **exprs).order_by("id").to_pyarrow().to_pylist()
    wrong = []
    for i, (sql, expected) in enumerate(CASES):
        got = [None if r[f"e{i}"] is None else bool(r[f"e{i}"]) for r in rows]
        if got != expected:
            wrong.append((sql, got, expected))
    assert not wrong, wrong
