"""Regression tests for bugs a new-user trial of the rule catalogue found, each asserted
with exact values on DuckDB, SQLite, PostgreSQL and MariaDB (tables created with each
engine's own DDL, dataset.py):

1. existsIn / notExistsIn compare text byte for byte on MariaDB (its default collation
   is case- and accent-insensitive), on the same connection and between engines;
2. expectedValues / requiredValues / equalTo compare timestamps as UTC instants (SQLite
   keeps them as text) and dates as dates;
3. listed values that cannot be of the field's type are refused at check creation
   (422 naming ``properties.list.<i>`` / ``properties.value``), and a stored one leaves
   the check unasserted with the same error everywhere;
4. change limits fail when the measure vanishes (empty container) after an earlier
   measurement, as docs/semantics.md says;
5. a field listed twice is refused (``fields.<i>``);
6. ``null`` in a list is refused at ``properties.list.<i>`` with a clear message.
"""

from __future__ import annotations

import datetime as dt

import pytest

from assay.engine.expressions import ExpressionError, to_ibis_predicate
from assay.engine.plan import evaluate
from assay.engine.rules import CheckSpec, RuleDefinitionError
from assay.engine.validation import validate_check
from assay.operations.resolver import Reference
from tests.engine.rules.dataset import ENGINES, UTC, Table, connect, load, tz

# -- data ----------------------------------------------------------------------------------

SRC6 = Table("src6", {"id": "int", "s": "text"}, [(1, "abc"), (2, "ABC "), (3, "Abc"), (4, "é"), (5, "e"), (6, "E")])
REF4 = Table("ref4", {"s": "text"}, [("ABC",), ("abc",), ("E",), ("e",)])
SRC5 = Table("src5", {"id": "int", "s": "text"}, [(1, "abc"), (2, "ABC "), (3, "Abc"), (4, None), (5, "é")])

T = dt.datetime
EV = Table(
    "ev",
    {"id": "int", "ts": "tstz", "day": "date", "x": "double", "i": "int"},
    [
        (1, T(2024, 1, 1, 9, tzinfo=tz(2)), dt.date(2024, 1, 1), -8.5, 1),  # 07:00Z, written with +02:00
        (2, T(2024, 1, 1, 7, tzinfo=UTC), dt.date(2024, 1, 2), 1.0, 2),
        (3, T(2024, 1, 1, 8, tzinfo=UTC), None, None, 3),
        (4, None, None, None, None),
    ],
)
EMPTY = Table("empty", {"id": "int", "i": "int"}, [])

TABLES = [SRC6, REF4, SRC5, EV, EMPTY]
OTHER_TABLES = [REF4, SRC5]


@pytest.fixture(scope="module")
def others(request, tmp_path_factory):
    """REF4 and SRC5 on two other engines: an in-memory DuckDB and a MariaDB database."""
    gens = {name: connect(name, tmp_path_factory.mktemp(f"other_{name}"), request) for name in ("duckdb", "mariadb")}
    try:
        yield {name: load(name, next(gen), OTHER_TABLES) for name, gen in gens.items()}
    finally:
        for gen in gens.values():
            gen.close()


@pytest.fixture(scope="module", params=ENGINES)
def eng(request, tmp_path_factory, others):
    gen = connect(request.param, tmp_path_factory.mktemp(request.param), request)
    try:
        loaded = load(request.param, next(gen), TABLES)
        loaded.others = others
        yield loaded
    finally:
        gen.close()


class Resolver:
    """Containers 1, 2: REF4, SRC5 on the scanned connection (fused); 3, 4: on the other
    DuckDB; 5, 6: on the other MariaDB (both run apart, streaming keys)."""

    def __init__(self, loaded):
        self.loaded = loaded

    def resolve(self, ref_datastore_id, ref_container_id):
        cid = int(ref_container_id)
        name = "ref4" if cid % 2 else "src5"
        if cid <= 2:
            return Reference(self.loaded.table(name), f"same.{name}", True)
        where = "duckdb" if cid <= 4 else "mariadb"
        return Reference(self.loaded.others[where].table(name), f"{where}.{name}", False)


def run(loaded, table, checks, **kw):
    specs = [
        CheckSpec(i, rule, list(fields), dict(props), history=list(history))
        for i, (rule, fields, props, *history) in enumerate(checks, start=1)
    ]
    return evaluate(loaded.table(table), specs, resolver=Resolver(loaded), **kw)


# -- 1. existsIn / notExistsIn: text byte for byte ---------------------------------------

#: (rule, checked table, reference: "ref4" or "src5", failing count, failing ids)
MEMBERSHIP = [
    ("existsIn", "src6", "ref4", [2, 3, 4]),  # 'ABC ', 'Abc', 'é' are not in ABC, abc, E, e
    ("notExistsIn", "src6", "ref4", [1, 5, 6]),  # 'abc', 'e', 'E' are
    ("existsIn", "src5", "ref4", [2, 3, 5]),
    ("notExistsIn", "src5", "ref4", [1]),
    ("existsIn", "src6", "src5", [5, 6]),  # 'e', 'E' are not in abc, 'ABC ', Abc, é
    ("notExistsIn", "src6", "src5", [1, 2, 3, 4]),
]


@pytest.mark.parametrize("batch_size", [2, 10_000])
def test_membership_compares_text_byte_for_byte_on_every_engine_and_between_engines(eng, batch_size):
    for rule, table, ref, ids in MEMBERSHIP:
        first = 1 if ref == "ref4" else 2
        checks = [(rule, ["s"], {"ref_container_id": cid, "field_name": "s"}) for cid in (first, first + 2, first + 4)]
        res = run(eng, table, checks, example_limit=10, batch_size=batch_size)
        got = [(o.error, o.failed, sorted(r["id"] for r in o.examples)) for o in res.outcomes]
        # same connection, against the other DuckDB, against the other MariaDB
        assert got == [(None, len(ids), ids)] * 3, (rule, table, ref)


# -- 2. temporal values compare as instants / dates ---------------------------------------


def test_listed_values_compare_timestamps_as_instants_and_dates_as_dates(eng):
    res = run(
        eng,
        "ev",
        [
            ("expectedValues", ["ts"], {"list": ["2024-01-01T07:00:00Z"]}),  # row 3 (08:00Z)
            ("expectedValues", ["ts"], {"list": ["2024-01-01T09:00:00+02:00", "2024-01-01 08:00:00"]}),
            ("expectedValues", ["day"], {"list": ["2024-01-01"]}),  # row 2
            ("expectedValues", ["i"], {"list": ["1", 2, 2.0]}),  # row 3: numeric text is a number
            ("equalTo", ["ts"], {"value": "2024-01-01T07:00:00Z"}),  # row 3
            ("equalTo", ["day"], {"value": "2024-01-01"}),  # row 2
            ("equalTo", ["day", "ts"], {"value": "2024-01-01"}),  # rows 1-3: no ts at midnight
            ("equalTo", ["i"], {"value": "3"}),  # rows 1, 2
            ("requiredValues", ["ts"], {"list": ["2024-01-01T08:00:00Z", "2024-01-01T10:00:00+02:00"]}),
            ("requiredValues", ["ts"], {"list": ["2024-01-01T07:00:00Z", "2024-01-01T06:00:00Z"]}),
            ("requiredValues", ["day"], {"list": ["2024-01-02"]}),
            ("requiredValues", ["day"], {"list": ["2024-01-03"]}),
        ],
    )
    assert [(o.error, o.result, o.failed) for o in res.outcomes] == [
        (None, "failed", 1),
        (None, "passed", 0),
        (None, "failed", 1),
        (None, "failed", 1),
        (None, "failed", 1),
        (None, "failed", 1),
        (None, "failed", 3),
        (None, "failed", 2),
        (None, "passed", 0),
        (None, "failed", 4),
        (None, "passed", 0),
        (None, "failed", 4),
    ]
    assert res.outcomes[9].message == "In `ts`, 1 of 2 required values do not appear: 2024-01-01T06:00:00"


def test_a_stored_value_of_the_wrong_type_is_unasserted_alike_everywhere(eng):
    res = run(
        eng,
        "ev",
        [
            ("expectedValues", ["x"], {"list": [-8.5, "x"]}),
            ("expectedValues", ["day"], {"list": ["2024-01-01", "notadate"]}),
            ("requiredValues", ["day"], {"list": ["2024-01-01", 5]}),
            ("equalTo", ["i"], {"value": "abc"}),
        ],
    )
    assert [(o.result, o.error) for o in res.outcomes] == [
        ("unasserted", "list value 1: 'x' is not a number (the field is Fractional)"),
        ("unasserted", "list value 1: 'notadate' is not an ISO 8601 date such as 2024-01-31 (the field is a Date)"),
        ("unasserted", "list value 1: 5 is not an ISO 8601 date such as 2024-01-31 (the field is a Date)"),
        (
            "unasserted",
            "equalTo cannot compare field i (int64) with 'abc': 'abc' is not a number (the field is Integral)",
        ),
    ]


# -- 4. change limits against an earlier measurement on an empty container ----------------

AT = dt.datetime(2026, 1, 1, tzinfo=UTC)


def test_change_limits_fail_when_the_measure_vanishes(eng):
    res = run(
        eng,
        "empty",
        [
            ("absoluteChangeLimit", ["i"], {"limit": 10, "aggregate": "max"}, (AT, 20)),
            ("metric", ["i"], {"comparison": "percentage_change", "aggregate": "avg", "min": -50, "max": 50}, (AT, 20)),
            ("relativeChangeLimit", ["i"], {"limit": 0.5, "aggregate": "min"}, (AT, 20)),
            ("metric", ["i"], {"comparison": "absolute_change", "aggregate": "avg", "max": 5}, (AT, "2.5")),
            # no earlier measurement: nothing to compare; `absolute` has nothing to assert
            ("absoluteChangeLimit", ["i"], {"limit": 10, "aggregate": "max"}),
            ("metric", ["i"], {"comparison": "absolute", "aggregate": "avg", "min": 1}, (AT, 20)),
            # the sum of nothing is 0: |0 − 20| > 10
            ("absoluteChangeLimit", ["i"], {"limit": 10}, (AT, 20)),
        ],
    )
    assert res.records == 0
    assert [(o.error, o.result, o.failed, o.message) for o in res.outcomes] == [
        (None, "failed", 0, "The max of `i` has no value (no non-NULL values were read), previously 20"),
        (None, "failed", 0, "The avg of `i` has no value (no non-NULL values were read), previously 20"),
        (None, "failed", 0, "The min of `i` has no value (no non-NULL values were read), previously 20"),
        (None, "failed", 0, "The avg of `i` has no value (no non-NULL values were read), previously 2.5"),
        (None, "passed", 0, None),
        (None, "passed", 0, None),
        (None, "failed", 0, "The sum of `i` changed by 20 (from 20 to 0), more than the limit of 10"),
    ]
    assert [o.rule.measurement for o in res.outcomes] == [None, None, None, None, None, None, 0]


# -- 3, 5, 6. refused at check creation ----------------------------------------------------

FIELDS = {
    "id": ("Integral", "int64"),
    "x": ("Fractional", "float64"),
    "d": ("Date", "date"),
    "ts": ("Timestamp", "timestamp"),
    "s": ("String", "string"),
    "b": ("Boolean", "boolean"),
}


@pytest.mark.parametrize(
    "rule, fields, props, loc, message",
    [
        (
            "expectedValues",
            ["x"],
            {"list": [-8.5, "x"]},
            ("properties", "list", 1),
            "properties.list.1: 'x' is not a number (the field is Fractional)",
        ),
        (
            "expectedValues",
            ["d"],
            {"list": ["2024-01-01", "notadate"]},
            ("properties", "list", 1),
            "properties.list.1: 'notadate' is not an ISO 8601 date such as 2024-01-31 (the field is a Date)",
        ),
        (
            "expectedValues",
            ["ts"],
            {"list": ["2024-01-01T07:00:00Z", "soon"]},
            ("properties", "list", 1),
            "properties.list.1: 'soon' is not an ISO 8601 date-time such as 2024-01-31T12:00:00Z (the field is a Timestamp)",
        ),
        (
            "expectedValues",
            ["x"],
            {"list": [1.5, True]},
            ("properties", "list", 1),
            "properties.list.1: true is not a number (the field is Fractional)",
        ),
        (
            "expectedValues",
            ["b"],
            {"list": [True, "yes"]},
            ("properties", "list", 1),
            "properties.list.1: 'yes' is not a boolean (true or false)",
        ),
        (
            "requiredValues",
            ["d"],
            {"list": ["2024-01-01", 5]},
            ("properties", "list", 1),
            "properties.list.1: 5 is not an ISO 8601 date such as 2024-01-31 (the field is a Date)",
        ),
        (
            "equalTo",
            ["id"],
            {"value": "abc"},
            ("properties", "value"),
            "properties.value: 'abc' is not a number (the field is Integral)",
        ),
        (
            "equalTo",
            ["d", "id"],
            {"value": "2024-01-01"},
            ("properties", "value"),
            "properties.value: '2024-01-01' is not a number (the field is Integral)",
        ),
        (
            "expectedValues",
            ["s"],
            {"list": [None]},
            ("properties", "list", "0"),
            "properties.list.0: null is not a listed value: NULLs are skipped by the rule (add a notNull check to "
            "forbid them)",
        ),
        (
            "expectedValues",
            ["s"],
            {"list": ["a", None]},
            ("properties", "list", "1"),
            "properties.list.1: null is not a listed value: NULLs are skipped by the rule (add a notNull check to "
            "forbid them)",
        ),
        ("notNull", ["id", "id"], {}, ("fields", 1), "field 'id' is listed more than once"),
        ("unique", ["id", "s", "id"], {}, ("fields", 2), "field 'id' is listed more than once"),
    ],
)
def test_values_that_cannot_be_of_the_field_type_are_refused(rule, fields, props, loc, message):
    with pytest.raises(RuleDefinitionError) as e:
        validate_check(rule, fields, props, None, FIELDS)
    assert (e.value.loc, e.value.message) == (loc, message)


def test_values_of_the_field_type_are_accepted():
    ok = [
        ("equalTo", ["d", "ts"], {"value": "2024-01-01"}),  # ISO text on a Date and a Timestamp
        ("expectedValues", ["id"], {"list": ["1", "2", 3, 10**26]}),  # numeric text; a huge number
        ("expectedValues", ["s"], {"list": ["a", 5, 2.5, True]}),  # any scalar on a String field
        ("requiredValues", ["b"], {"list": [True, "false"]}),
        ("equalTo", ["id"], {"value": True}),  # 1 (MySQL's TINYINT(1) booleans)
    ]
    assert [validate_check(r, f, p, None, FIELDS) for r, f, p in ok] == [p for _r, _f, p in ok]


def test_api_answers_422_naming_the_listed_value(api, make_duckdb):
    ds = api.duckdb_datastore(
        "src", make_duckdb("create table t (id integer, d date)", "insert into t values (1, '2024-01-01')")
    )
    api.sync(ds["id"])
    t = api.container_id(ds["id"], "t")
    for body, loc in [
        (
            {"rule": "expectedValues", "fields": ["d"], "properties": {"list": ["2024-01-01", "notadate"]}},
            ["body", "properties", "list", 1],
        ),
        (
            {"rule": "expectedValues", "fields": ["id"], "properties": {"list": [None]}},
            ["body", "properties", "list", "0"],
        ),
        ({"rule": "notNull", "fields": ["id", "id"]}, ["body", "fields", 1]),
    ]:
        r = api.client.post("/api/quality-checks", json={"container_id": t, **body})
        assert r.status_code == 422, (body, r.text)
        assert [str(p) for p in r.json()["detail"][0]["loc"]] == [str(p) for p in loc], r.text
    api.check(t, "equalTo", ["d"], properties={"value": "2024-01-01"})
    op = api.scan(ds["id"])
    (result,) = op["container_scans"][0]["quality_checks"]
    assert (result["result"], result["anomalous_records_count"], result["error"]) == ("passed", 0, None)


def test_an_in_list_mixing_text_and_numbers_is_refused():
    import ibis

    t = ibis.table({"id": "int64", "s": "string"}, name="t")
    with pytest.raises(ExpressionError, match=r"IN list mixes text and numbers: id IN \(1, 2, 'x'\)"):
        to_ibis_predicate("id in (1,2,'x')", t)
    to_ibis_predicate("id in (1, -2)", t)
    to_ibis_predicate("s in ('a', 'b')", t)
