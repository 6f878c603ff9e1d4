"""The semantics every engine must share (docs/semantics.md "Same answer on every engine"),
each asserted on DuckDB, SQLite, PostgreSQL and MariaDB with exact values worked out from
the data below.

Tables are created with each engine's own DDL (dataset.py) once per engine for
the whole module; each test evaluates its checks in one ``evaluate`` call.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from assay.engine.plan import evaluate
from assay.engine.rules import AggregateRule, CheckSpec, get_rule
from assay.operations.resolver import Reference
from tests.engine.rules.dataset import (
    ENGINES,
    EXACT_DECIMAL,
    FACT_COLUMNS,
    FACTS,
    NAN,
    REFS,
    UTC,
    Table,
    connect,
    load,
    tz,
)
from tests.engine.rules.test_parity import CASES, SameConnection, expected_for

NOW = dt.datetime.now(UTC).replace(microsecond=0)
HOUR = dt.timedelta(hours=1)

EMPTY = Table("facts_empty", FACT_COLUMNS, [])
NANS = Table("nans", {"id": "int", "x": "double"}, [(1, NAN), (2, None), (3, 1.0)])
NULLS = Table(
    "nulls",
    {"id": "int", "x": "double", "s": "text", "day": "date"},
    [(1, None, None, None), (2, None, None, None), (3, 1.0, "a", dt.date(2000, 1, 1))],
)
COMPOSITE = Table(
    "composite",
    {"a": "int", "b": "text", "c": "text"},
    [
        (1, None, None),
        (2, None, None),
        (3, None, "x"),
        (4, None, "x"),
        (5, None, "y"),
        (6, "x", None),
    ],
)
EXACT_SUM = "12345678901234567891.1234567892"
MONEY = Table(
    "money",
    {"id": "int", "d": "decimal"},
    [
        *[(k, Decimal("0.1")) for k in range(1, 11)],  # 1.0 in exact arithmetic
        (11, Decimal("12345678901234567890.1234567891")),
        (12, Decimal("0.0000000001")),
        (13, None),
    ],
)
# Instants relative to the load time, written with offsets that make a naive reading of
# the wall clock wrong: row 2 reads 4 hours ahead of now in +05:00 but is an hour ago.
CLOCK = Table(
    "clock",
    {"id": "int", "ts": "ts", "tstz": "tstz"},
    [
        (1, (NOW + HOUR).replace(tzinfo=None), (NOW + HOUR).astimezone(tz(-5))),
        (2, (NOW - HOUR).replace(tzinfo=None), (NOW - HOUR).astimezone(tz(5))),
        (3, (NOW - 240 * HOUR).replace(tzinfo=None), (NOW + HOUR).astimezone(tz(14))),
    ],
)
# doubles of every layout and timestamps with fractions of a second (see test_non_string_values…)
_XS = [
    1e20,
    1.5e-07,
    0.1 + 0.2,
    1e15,
    123456789012345.0,
    -0.0,
    0.0001,
    -9.999e-05,
    1e15 + 0.5,
    5e-324,
    -1.7976931348623157e308,
    12345678.123,
    5e22,
    3.99007497696715e16,
]
_FRACTIONS = [
    (dt.datetime(2024, 1, 1, 0, 0, 0, 500000), dt.datetime(2024, 1, 1, 0, 0, 0, 500000, tzinfo=tz(1))),
    (dt.datetime(2024, 1, 1, 0, 0, 0, 125000), dt.datetime(2024, 1, 1, 0, 0, 0, 125000, tzinfo=UTC)),
    (dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 1, tzinfo=UTC)),
]
TEXTS = Table(
    "texts",
    {"id": "int", "x": "double", "ts": "ts", "tstz": "tstz"},
    [(k + 1, x, *(_FRACTIONS[k] if k < len(_FRACTIONS) else (None, None))) for k, x in enumerate(_XS)],
)
TABLES = [FACTS, REFS, EMPTY, NANS, NULLS, COMPOSITE, MONEY, CLOCK, TEXTS]


@pytest.fixture(scope="module", params=ENGINES)
def eng(request, tmp_path_factory):
    engine = request.param
    gen = connect(engine, tmp_path_factory.mktemp(engine), request)
    con = next(gen)
    other_gen = connect("duckdb", None, request)
    try:
        loaded = load(engine, con, TABLES)
        # the reference containers that live on another engine (an in-memory DuckDB)
        loaded.other = load("duckdb", next(other_gen), [REFS, EMPTY])
        yield loaded
    finally:
        gen.close()
        other_gen.close()


def run(loaded, table: str, *checks, example_limit: int = 0, resolver=None):
    specs = []
    for i, (rule, fields, props) in enumerate(checks, start=1):
        props = dict(props)
        flt = props.pop("filter", None)
        specs.append(CheckSpec(i, rule, list(fields), props, flt))
    res = evaluate(loaded.table(table), specs, example_limit=example_limit, resolver=resolver)
    for out in res.outcomes:
        assert out.error is None, (out.rule_type, out.error)
    return res


def failed(res) -> list[int]:
    return [o.failed for o in res.outcomes]


# -- NULL --------------------------------------------------------------------------------


def test_value_rules_skip_nulls_only_null_rules_flag_them(eng):
    # rows 1, 2 are all NULL; row 3 holds values every check below accepts. A NULL read
    # as 0 / '' / epoch would fail each value rule.
    res = run(
        eng,
        "nulls",
        ("between", ["x"], {"min": 0.5, "max": 2}),
        ("greaterThan", ["x"], {"value": 0.5}),
        ("positive", ["x"], {}),
        ("minValue", ["x"], {"value": 1}),
        ("equalTo", ["x"], {"value": 1}),
        ("expectedValues", ["x"], {"list": [1.0]}),
        ("expectedValues", ["s"], {"list": ["a"]}),
        ("minLength", ["s"], {"value": 1}),
        ("notEmpty", ["s"], {}),
        ("matchesPattern", ["s"], {"pattern": "^a$"}),
        ("unique", ["s"], {}),
        ("satisfiesExpression", [], {"expression": "x > 0.5"}),
        ("predictedBy", ["x"], {"expression": "1.0"}),
        ("afterDateTime", ["day"], {"datetime": "1999-12-31T00:00:00Z"}),
        ("notNull", ["x"], {}),
        ("anyNotNull", ["x", "s"], {}),
        ("notNull", ["id"], {}),
    )
    assert res.records == 3
    assert failed(res) == [0] * 14 + [2, 2, 0]


# -- NaN ---------------------------------------------------------------------------------


def test_nan_is_a_value_not_null(eng):
    res = run(
        eng,
        "nans",
        ("notNull", ["x"], {}),
        ("anyNotNull", ["x"], {}),
        ("between", ["x"], {"min": 0, "max": 2}),
        ("notNegative", ["x"], {}),
        ("unique", ["x"], {}),
        ("distinctCount", ["x"], {"value": 2}),
    )
    if eng.has_nan:
        # NaN passes notNull; it sorts above every number, so it fails between [0, 2]
        assert failed(res) == [1, 1, 1, 0, 0, 0]
    else:
        # SQLite and MariaDB cannot hold NaN: the loader's NaN is NULL there
        assert failed(res) == [2, 2, 0, 0, 0, 3]


# -- unique ------------------------------------------------------------------------------


def test_unique_ignores_nulls_and_composite_over_a_unique_field_passes(eng):
    res = run(
        eng,
        "composite",
        ("unique", ["a", "b"], {}),
        ("unique", ["b"], {}),
        ("unique", ["c"], {}),
        ("unique", ["a", "c"], {}),
        ("unique", ["b", "c"], {}),
        ("unique", ["c"], {"filter": "a <> 4"}),
    )
    # b is NULL in 5 of 6 rows, yet (a, b) passes; c's 'x' repeats in rows 3, 4
    assert failed(res) == [0, 0, 2, 0, 0, 0]
    res = run(eng, "composite", ("unique", ["c"], {}), example_limit=5)
    assert res.outcomes[0].examples == [{"a": 3, "b": None, "c": "x"}, {"a": 4, "b": None, "c": "x"}]


# -- empty container ---------------------------------------------------------------------

#: Rule cases of the parity matrix that FAIL on an empty container (their definition asks
#: for rows or values that are not there); every other case passes. None errs, and every
#: failure counts 0 rows.
FAIL_WHEN_EMPTY = {
    "requiredValues[s]",
    "requiredValues[zzz]",
    "requiredValues[i]",  # the values do not appear
    "distinctCount[s]",
    "distinctCount[!=7]",
    "distinctCount[tstz]",  # 0 distinct values
    "fieldCount[16]",
    "expectedSchema[missing]",  # the schema is unchanged
    "minPartitionSize[10]",
    "minPartitionSize[11]",
    "minPartitionSize[filtered]",
    "sum[i]",
    "sum[d]",
    "sum[f]",  # the sum of nothing is 0
    "volumetric[]",
    "volumetric[min 11]",  # 0 rows
    "absoluteChangeLimit[history 150]",
    "absoluteChangeLimit[history 150 4]",
    "relativeChangeLimit[history 150]",
    "relativeChangeLimit[history 150 .03]",
    "isNotReplicaOf[id,s]",  # empty is a replica of empty
    "aggregationComparison[]",
    "aggregationComparison[other]",  # sum(i) is NULL
    "freshness[ts]",
    "freshness[old]",  # no value: not fresh
}


def test_empty_container_zero_failures_no_error(eng):
    """Every case of the parity matrix, on a container with the same columns and no rows."""
    specs = [
        CheckSpec(i, c.rule, c.fields, c.properties, c.filter, history=list(c.history))
        for i, c in enumerate(CASES, start=1)
    ]

    class EmptyAsSelf(SameConnection):
        def resolve(self, ref_datastore_id, ref_container_id):
            cid = int(ref_container_id)
            if cid == 1:  # the checked container itself
                return Reference(self.loaded.table("facts_empty"), "parity.facts_empty", True)
            if cid == 4:  # its twin on the other engine
                return Reference(self.other.table("facts_empty"), "other.facts_empty", False)
            return super().resolve(ref_datastore_id, ref_container_id)

    res = evaluate(eng.table("facts_empty"), specs, example_limit=5, resolver=EmptyAsSelf(eng, eng.other))
    assert res.records == 0
    errors = {c.id: o.error for c, o in zip(CASES, res.outcomes, strict=False) if o.error}
    assert errors == {}
    assert {c.id: o.failed for c, o in zip(CASES, res.outcomes, strict=False) if o.failed} == {}
    failing = {c.id for c, o in zip(CASES, res.outcomes, strict=False) if o.result == "failed"}
    assert failing == FAIL_WHEN_EMPTY
    for c, o in zip(CASES, res.outcomes, strict=False):
        if not issubclass(get_rule(c.rule), AggregateRule):
            assert (o.result, o.asserted, o.examples) == ("passed", 0, []), c.id


# -- DECIMAL(38,10) ----------------------------------------------------------------------


def test_decimal_sums_keep_their_precision(eng):
    t = eng.table("money")
    text = t.aggregate(s=t.d.sum().cast("string")).to_pyarrow().to_pylist()[0]["s"]
    if EXACT_DECIMAL[eng.name]:
        assert Decimal(text) == Decimal(EXACT_SUM)
    else:  # SQLite: NUMERIC affinity holds doubles
        assert Decimal(text) != Decimal(EXACT_SUM)
        assert abs(Decimal(text) / Decimal(EXACT_SUM) - 1) < Decimal("1e-14")  # ≈15 significant digits

    res = run(
        eng,
        "money",
        ("sum", ["d"], {"value": EXACT_SUM}),
        ("sum", ["d"], {"value": "12345678901234567891.1234567893"}),  # one unit of the 10th decimal off
        ("sum", ["d"], {"value": "1", "filter": "id <= 10"}),
    )  # ten times 0.1
    results = [o.result for o in res.outcomes]
    if EXACT_DECIMAL[eng.name]:
        assert results == ["passed", "failed", "passed"]
    else:  # SQLite: the doubles' sum is not the exact one
        assert results[:2] == ["failed", "failed"]


# -- odd column names --------------------------------------------------------------------

#: Columns of FACTS with an odd name holding exactly the data of a plain one.
TWINNED_RULES = {
    "anyNotNull",
    "between",
    "betweenTimes",
    "containsCreditCard",
    "distinctCount",
    "entityResolution",
    "expectedValues",
    "greaterThan",
    "isType",
    "lessThan",
    "maxLength",
    "maxValue",
    "matchesPattern",
    "metric",
    "minLength",
    "minValue",
    "notEmpty",
    "notFuture",
    "notNegative",
    "notNull",
    "positive",
    "predictedBy",
    "requiredValues",
    "sum",
    "timeDistributionSize",
    "unique",
    "absoluteChangeLimit",
    "relativeChangeLimit",
}
TWIN = {"f": "a.b", "s": 'quo"te', "i": "select", "day": "order"}


def _twin_cases():
    out = []
    for c in CASES:
        rule = get_rule(c.rule)
        if c.filter or not c.fields or "ref_container_id" in c.properties or rule.name == "expectedSchema":
            continue
        other = c.properties.get("field_name")
        if not all(f in TWIN for f in c.fields) or (other is not None and other not in TWIN):
            continue
        props = dict(c.properties)
        if other is not None:
            props["field_name"] = TWIN[other]
        out.append((c, [TWIN[f] for f in c.fields], props))
    return out


def test_odd_column_names_work_in_every_rule_and_in_example_rows(eng):
    """Every case of the parity matrix whose fields have an odd-named twin ("a.b",
    'quo"te', "select", "order") runs again on the twins: same failing count and the same
    example rows, each holding every column under its exact name."""
    twins = _twin_cases()
    assert {c.rule for c, _, _ in twins} == TWINNED_RULES
    specs = []
    for i, (c, fields, props) in enumerate(twins):
        specs.append(CheckSpec(2 * i + 1, c.rule, c.fields, c.properties, history=list(c.history)))
        specs.append(CheckSpec(2 * i + 2, c.rule, fields, props, history=list(c.history)))
    res = evaluate(eng.table("facts"), specs, example_limit=3)
    for i, (c, _, _) in enumerate(twins):
        plain, odd = res.outcomes[2 * i], res.outcomes[2 * i + 1]
        assert odd.error is None, (c.id, odd.error)
        assert odd.failed == plain.failed == expected_for(c, eng.name), c.id
        assert [r["id"] for r in odd.examples] == [r["id"] for r in plain.examples], c.id
        row_rule = not issubclass(get_rule(c.rule), AggregateRule)
        assert len(odd.examples) == (min(3, odd.failed) if row_rule else 0), c.id
        for row in odd.examples:
            assert list(row) == list(FACT_COLUMNS), c.id

    res = run(
        eng,
        "facts",
        ("notNull", ["Ünïcode"], {}),
        ("unique", ["order id"], {}),
        ("satisfiesExpression", [], {"expression": "`select` >= 0", "filter": "`order id` > 50"}),
        example_limit=10,
    )
    assert [r["id"] for r in res.outcomes[0].examples] == [3, 6, 7, 8, 9, 10]
    assert [r["id"] for r in res.outcomes[1].examples] == [9, 10]
    assert [r["id"] for r in res.outcomes[2].examples] == [8]  # select = -1 among order id 60..90
    row3 = res.outcomes[0].examples[0]
    assert {k: row3[k] for k in ("order id", "a.b", 'quo"te', "select", "order", "Ünïcode", "note")} == {
        "order id": 30,
        "a.b": None,
        'quo"te': None,
        "select": None,
        "order": None,
        "Ünïcode": None,
        "note": None,
    }
    row8 = res.outcomes[2].examples[0]
    assert (row8["select"], row8["order"], row8['quo"te']) == (-1, dt.date(2000, 1, 1), "ABC")
    assert res.outcomes[0].rule.record_message(row3) == "The `Ünïcode` value is missing (NULL)"


# -- time zones --------------------------------------------------------------------------


def test_timestamps_with_and_without_time_zone_compare_in_utc(eng):
    now_plus9 = NOW.astimezone(tz(9)).isoformat()
    res = run(
        eng,
        "clock",
        ("notFuture", ["ts"], {}),
        ("notFuture", ["tstz"], {}),
        ("greaterThanField", ["tstz"], {"field_name": "ts"}),
        ("equalToField", ["ts"], {"field_name": "tstz"}),
        ("afterDateTime", ["tstz"], {"datetime": now_plus9}),
        ("unique", ["ts", "tstz"], {}),
        example_limit=5,
    )
    # 1: both an hour ahead (tstz written at -05:00); 2: both an hour ago (tstz written
    # at +05:00, its wall clock 4 h ahead); 3: ts ten days ago, tstz an hour ahead at +14:00
    assert failed(res) == [1, 2, 2, 1, 1, 0]
    assert [r["id"] for r in res.outcomes[1].examples] == [1, 3]
    assert [r["id"] for r in res.outcomes[3].examples] == [3]


# -- a pattern on a non-string column ----------------------------------------------------

#: matchesPattern (like the contains* rules, isCreditCard and isAddress) renders a
#: non-string field as text with ``engine.text.as_text``: one text on every engine
#: (docs/semantics.md "Same answer on every engine"). Counts differ only where the data
#: does: ``(with NaN, without)`` for the double ``f``.
CAST_PATTERNS = [
    ("i", "^-?[0-9]+$", 0),  # '5', '-3'
    ("select", "^-?[0-9]+$", 0),
    ("day", "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", 0),  # '2024-01-01'
    ("order", "^2024-0[1-3]-[0-9]{2}$", 5),
    # timestamps: 'YYYY-MM-DD HH:MM:SS' (no fraction when it is zero), in UTC
    ("ts", "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$", 0),
    ("tstz", "^2024-06-15 08:00:00$", 6),  # rows 6, 7 (10:00+02, 06:00-02)
    # doubles: an integral one has no fraction ('-2', '100', '0', '42', '3'); NaN is 'NaN'
    ("f", "^-?[0-9]+\\.[0-9]+$", (6, 5)),  # the five integral ones (+ NaN)
    ("f", "^-?[0-9]+$", (4, 3)),  # 1.5, 7.25, -0.5 (+ NaN)
    ("f", "^NaN$", 8),  # NaN passes where it is stored
    # DECIMAL(38,10) is written at its scale ('1.5000000000'), on SQLite too
    ("d", "^-?[0-9]+\\.[0-9]{10}$", 0),
]


def test_pattern_on_a_non_string_column_casts_to_text(eng):
    res = run(eng, "facts", *[("matchesPattern", [f], {"pattern": p}) for f, p, _ in CAST_PATTERNS])
    want = [(n[0] if eng.has_nan else n[1]) if isinstance(n, tuple) else n for _, _, n in CAST_PATTERNS]
    assert failed(res) == want


def _texts(loaded, table: str, column) -> list:
    from assay.engine.text import as_text

    t = loaded.table(table)
    v = column(t) if callable(column) else t[column]
    rows = t.select(t.id, x=as_text(v)).to_pyarrow().to_pylist()
    return [r["x"] for r in sorted(rows, key=lambda r: r["id"])]


def test_non_string_values_render_as_one_text(eng):
    nan = "NaN" if eng.has_nan else None
    exact = EXACT_DECIMAL[eng.name]
    assert _texts(eng, "facts", "i") == ["5", "-3", None, "0", "100", "7", "5", "-1", "42", None]
    assert _texts(eng, "facts", "f") == ["1.5", "-2", None, nan, "100", "7.25", "0", "-0.5", "42", "3"]
    assert _texts(eng, "facts", "d") == [
        "1.5000000000",
        "-0.0000000001",
        None,
        "0.0000000000",
        "100.0000000001",
        "7.2500000000",
        # SQLite's DECIMAL holds the double nearest the value
        "12345678901234567890.1234567891" if exact else "12345678901234567168.0000000000",
        "-1.0000000000",
        "42.0000000000",
        None,
    ]
    assert _texts(eng, "facts", "day") == [
        "2024-01-01",
        "2024-02-29",
        None,
        "2023-12-31",
        "2999-12-31",
        "2024-06-15",
        "2024-06-15",
        "2000-01-01",
        "2024-03-10",
        None,
    ]
    assert _texts(eng, "facts", "ts") == [
        "2024-01-01 00:00:00",
        "2024-02-29 12:30:00",
        None,
        "2023-12-31 23:59:59",
        "2999-12-31 00:00:00",
        "2024-06-15 08:00:00",
        "2024-06-15 08:00:01",
        "2000-01-01 00:00:00",
        "2024-03-10 01:00:00",
        None,
    ]
    assert _texts(eng, "facts", "tstz") == [
        "2024-01-01 00:00:00",
        "2024-02-29 10:30:00",
        None,
        "2023-12-31 23:59:59",
        "2999-12-31 00:00:00",
        "2024-06-15 08:00:00",
        "2024-06-15 08:00:00",
        "2000-01-01 00:00:00",
        "2024-03-10 01:00:00",
        None,
    ]
    assert _texts(eng, "facts", lambda t: t.i > 0) == [
        "true",
        "false",
        None,
        "false",
        "true",
        "true",
        "true",
        "false",
        "true",
        None,
    ]
    # shortest round-trip digits; positional for -4 <= exponent < 15, else d.ddde±XX
    assert _texts(eng, "texts", "x") == [
        "1e+20",
        "1.5e-07",
        "0.30000000000000004",
        "1e+15",
        "123456789012345",
        "0",
        "0.0001",
        "-9.999e-05",
        "1.0000000000000005e+15",
        "5e-324",
        "-1.7976931348623157e+308",
        "12345678.123",
        "5e+22",
        "3.99007497696715e+16",
    ]  # (PostgreSQL's own text: 4.9999999999999996e+22, …)
    # a fraction of a second is written with 6 digits, and only when it is not zero
    assert _texts(eng, "texts", "ts") == [
        "2024-01-01 00:00:00.500000",
        "2024-01-01 00:00:00.125000",
        "2024-01-01 00:00:00",
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
    ]
    assert _texts(eng, "texts", "tstz") == [
        "2023-12-31 23:00:00.500000",
        "2024-01-01 00:00:00.125000",
        "2024-01-01 00:00:00",
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
    ]


# -- LIKE ----------------------------------------------------------------------------------


def test_like_is_case_and_accent_sensitive(eng):
    # s (9 non-NULL): abc, '', Ünïcödé, abc, xyz123, 'a b', ABC, 12345, 'long text value'
    res = run(
        eng,
        "facts",
        ("satisfiesExpression", [], {"expression": "s LIKE '_b_'"}),  # abc twice, not ABC
        ("satisfiesExpression", [], {"expression": "s LIKE '%B%'"}),  # ABC only
        ("satisfiesExpression", [], {"expression": "s LIKE 'U%'"}),  # not 'Ünïcödé'
        ("satisfiesExpression", [], {"expression": "note LIKE '%example%'"}),  # rows 1, 2 (not 'Example')
        ("satisfiesExpression", [], {"expression": "NOT s LIKE 'a%'"}),
    )  # abc, abc, 'a b' fail
    assert failed(res) == [7, 8, 9, 7, 3]


def test_like_pattern_as_regex():
    from assay.engine.exact import like_pattern_regex

    assert like_pattern_regex("a%") == "^a(?:.|\\n)*$"
    assert like_pattern_regex("_.\\%") == "^(?:.|\\n)\\.%$"  # an escaped % is a literal %
