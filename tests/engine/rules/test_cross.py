"""Cross-container rules (existsIn, notExistsIn, dataDiff / isReplicaOf, isNotReplicaOf,
aggregationComparison), entityResolution, and the isolation of very wide containers.

The same data is checked with the reference on the SAME backend connection (fused into
the container's one query) and on ANOTHER engine (keys moved in batches): both must give
the exact counts derived in the comments below.
"""

from __future__ import annotations

import uuid

import duckdb
import ibis
import pyarrow as pa
import pytest

from assay.engine.plan import MAX_AGGREGATES_PER_QUERY, evaluate
from assay.engine.rules import CheckSpec, RuleDefinitionError, get_rule
from assay.engine.rules.data_diff import DataDiff
from assay.engine.rules.entity_resolution import normalise
from assay.engine.validation import validate_check
from assay.operations.resolver import Reference
from tests.engines import PG_HOST

# ------------------------------------------------------------------------------ data

ORDERS = pa.table(
    {
        "id": [1, 2, 3, 4, 5, 6, 7, 8],
        "cust": [10, 20, 30, None, 40, 10, 50, 20],
        "amount": [5.0, 7.5, 3.0, None, 10.0, 2.0, 8.0, 1.0],
    }
)
CUSTOMERS = pa.table({"cid": [10, 20, 30, 60, 70, None, 80]})  # 6 distinct keys
VIP = pa.table({"cid": [10, 40]})  # 2 distinct keys: fewer than the 5 of orders.cust
LEDGER = pa.table(
    {
        "id": [1, 2, 3, 4, 5, 6, 9],
        "amount": [5.0, 7.55, 3.0, None, 11.0, 2.0, 4.0],
    }
)


class Resolver:
    """A resolver over Ibis tables: container id → (table, label, same_backend)."""

    def __init__(self, refs: dict):
        self.refs = refs
        self.asked: list[tuple] = []

    def resolve(self, ref_datastore_id, ref_container_id):
        self.asked.append((ref_datastore_id, ref_container_id))
        if ref_container_id not in self.refs:
            raise ValueError(f"reference container {ref_container_id} does not exist")
        table, label, same = self.refs[ref_container_id]
        return Reference(table, label, same)


def cross_checks() -> list[CheckSpec]:
    """The checks every cross test runs; container ids 1..4 name the references."""
    return [
        CheckSpec(1, "existsIn", ["cust"], {"ref_container_id": 1, "field_name": "cid"}),
        CheckSpec(2, "notExistsIn", ["cust"], {"ref_container_id": 1, "field_name": "cid"}),
        CheckSpec(3, "existsIn", ["cust"], {"ref_container_id": 2, "field_name": "cid"}),
        CheckSpec(4, "notExistsIn", ["cust"], {"ref_container_id": 2, "field_name": "cid"}),
        CheckSpec(
            5,
            "existsIn",
            ["cust"],
            {"ref_datastore_id": 7, "ref_container_id": 1, "field_name": "cid"},
            filter="id <= 5",
        ),
        CheckSpec(6, "dataDiff", ["id", "amount"], {"ref_container_id": 3}),
        CheckSpec(
            7, "isReplicaOf", ["amount"], {"ref_container_id": 3, "row_identifiers": ["id"], "numeric_tolerance": 0.1}
        ),
        CheckSpec(8, "isNotReplicaOf", ["id", "cust", "amount"], {"ref_container_id": 4}),
        CheckSpec(9, "isNotReplicaOf", ["id", "amount"], {"ref_container_id": 3}),
        CheckSpec(
            10,
            "aggregationComparison",
            [],
            {"ref_container_id": 3, "expression": "sum(amount)", "comparison": "gt", "ref_expression": "sum(amount)"},
        ),
        CheckSpec(
            11,
            "aggregationComparison",
            [],
            {
                "ref_container_id": 3,
                "expression": "count(*)",
                "comparison": "eq",
                "ref_expression": "count(*)",
                "ref_filter": "amount IS NOT NULL",
            },
        ),
        CheckSpec(12, "notNull", ["id"]),
    ]


def assert_cross_results(res, label: str) -> None:
    by_id = {o.check_id: o for o in res.outcomes}
    assert all(o.error is None for o in res.outcomes), [(o.check_id, o.error) for o in res.outcomes]
    got = {i: (o.result, o.asserted, o.failed) for i, o in by_id.items()}
    assert got == {
        # non-NULL cust 10,20,30,40,10,50,20: 40 (row 5) and 50 (row 7) are not customers
        1: ("failed", 8, 2),
        # 10, 20, 30, 10, 20 are (rows 1, 2, 3, 6, 8)
        2: ("failed", 8, 5),
        # VIP {10, 40}: 20, 30, 50, 20 are not (rows 2, 3, 7, 8) ...
        3: ("failed", 8, 4),
        # ... 10, 40, 10 are (rows 1, 5, 6)
        4: ("failed", 8, 3),
        # filter id <= 5: rows 1..5, cust 10, 20, 30, NULL, 40 → only 40 (row 5) fails
        5: ("failed", 5, 1),
        # (id, amount): target (2, 7.5) (5, 10) (7, 8) (8, 1) have no twin (4); ledger (2, 7.55)
        # (5, 11) (9, 4) have none in the target (3)
        6: ("failed", 8, 7),
        # paired by id, |Δamount| <= 0.1: id 5 differs by 1, ids 7, 8 have no ledger row (3);
        # ledger id 9 has no order (1); id 2 (Δ 0.05) and id 4 (NULL = NULL) match
        7: ("failed", 8, 4),
        # orders against an identical copy: a replica, so isNotReplicaOf fails on all 8 rows
        8: ("failed", 8, 8),
        # orders against the ledger: not a replica
        9: ("passed", 8, 0),
        # sum 36.5 > 32.55
        10: ("passed", 8, 0),
        # count 8 vs 6 ledger rows with an amount
        11: ("failed", 8, 8),
        12: ("passed", 8, 0),
    }
    assert by_id[1].message == f"In `cust`, 25.000% of 8 filtered records (2) do not exist in {label}customers.`cid`"
    assert by_id[4].message == f"In `cust`, 37.500% of 8 filtered records (3) exist in {label}vip.`cid`"
    assert by_id[6].message == (
        f"4 of 8 filtered records have no matching record in {label}ledger and 3 records of "
        f"{label}ledger are missing from the container (compared on `id`, `amount`)"
    )
    assert by_id[7].message == (
        f"3 of 8 filtered records have no matching record in {label}ledger and 1 records of "
        f"{label}ledger are missing from the container (compared on `amount` with rows "
        "paired by `id`)"
    )
    assert by_id[8].message == (
        f"The 8 filtered records are a replica of {label}orders_copy (compared on `id`, `cust`, `amount`)"
    )
    assert by_id[11].message == f"The aggregate count(*) = 8 is not equal to count(*) = 6 in {label}ledger"
    # record anomalies: exact failing rows, in id order
    assert [r["id"] for r in by_id[1].examples] == [5, 7]
    assert [r["id"] for r in by_id[2].examples] == [1, 2, 3, 6, 8]
    assert [r["id"] for r in by_id[3].examples] == [2, 3, 7, 8]
    assert [r["id"] for r in by_id[4].examples] == [1, 5, 6]
    assert by_id[5].examples == [{"id": 5, "cust": 40, "amount": 10.0}]
    assert by_id[1].rule.record_message(by_id[1].examples[0]) == (
        f"The `cust` value of 40 does not exist in {label}customers.`cid`"
    )


def load_refs(con, prefix: str = "") -> dict[str, object]:
    return {
        "customers": con.create_table(f"{prefix}customers", CUSTOMERS, overwrite=True),
        "vip": con.create_table(f"{prefix}vip", VIP, overwrite=True),
        "ledger": con.create_table(f"{prefix}ledger", LEDGER, overwrite=True),
        "orders_copy": con.create_table(f"{prefix}orders_copy", ORDERS, overwrite=True),
    }


def resolver_for(refs: dict[str, object], label: str, same: bool) -> Resolver:
    return Resolver(
        {
            1: (refs["customers"], f"{label}customers", same),
            2: (refs["vip"], f"{label}vip", same),
            3: (refs["ledger"], f"{label}ledger", same),
            4: (refs["orders_copy"], f"{label}orders_copy", same),
        }
    )


# ------------------------------------------------------------- same backend: ONE query


def test_same_backend_cross_checks_fuse_into_the_one_aggregate_query(tmp_path):
    con = ibis.sqlite.connect(str(tmp_path / "one.sqlite"))
    t = con.create_table("orders", ORDERS)
    resolver = resolver_for(load_refs(con), "", True)
    statements: list[str] = []
    con.con.set_trace_callback(statements.append)
    labels: list[str] = []
    res = evaluate(t, cross_checks(), example_limit=0, resolver=resolver, on_query=labels.append)
    con.con.set_trace_callback(None)
    assert labels == ["aggregate over 12 checks"]
    assert len(statements) == 1, statements
    assert statements[0].lstrip().upper().startswith("SELECT")
    for table in ("customers", "vip", "ledger", "orders_copy"):
        assert f'"{table}"' in statements[0]
    assert [o.failed for o in res.outcomes] == [2, 5, 4, 3, 1, 7, 4, 8, 0, 0, 8, 0]
    # ref_datastore_id is handed to the resolver as given (None: the scanned datastore)
    assert resolver.asked[0] == (None, 1) and (7, 1) in resolver.asked
    con.disconnect()


def test_same_backend_cross_checks_on_every_engine(engine):
    t = engine.con.create_table(f"orders_{uuid.uuid4().hex[:6]}", ORDERS)
    refs = load_refs(engine.con, f"r{uuid.uuid4().hex[:6]}_")
    resolver = resolver_for(refs, "", True)
    res = evaluate(t, cross_checks(), example_limit=10, resolver=resolver)
    assert_cross_results(res, "")
    assert res.records == 8


# ------------------------------------------------------------- two engines: batches


@pytest.fixture
def pg_schema_con(request):
    """An Ibis PostgreSQL connection whose search_path is a fresh schema (dropped after)."""
    from sqlalchemy import text

    admin = request.getfixturevalue("pg_admin")
    schema = f"assay_cross_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    con = ibis.postgres.connect(host=PG_HOST, user="postgres", database="test", options=f"-c search_path={schema}")
    yield con
    con.disconnect()
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def duckdb_file_table(tmp_path, name: str, data: pa.Table):
    """``data`` written to a DuckDB file, opened read-only as a DuckDB datastore is."""
    path = tmp_path / f"{name}.duckdb"
    raw = duckdb.connect(str(path))
    raw.register("data", data)
    raw.execute(f'CREATE TABLE "{name}" AS SELECT * FROM data')
    raw.close()
    con = ibis.duckdb.connect(str(path), read_only=True, enable_external_access=False)
    return con, con.table(name)


def test_duckdb_file_against_postgresql_moves_keys_in_batches(tmp_path, pg_schema_con):
    con, t = duckdb_file_table(tmp_path, "orders", ORDERS)
    resolver = resolver_for(load_refs(pg_schema_con), "pg.", False)
    labels: list[str] = []
    res = evaluate(t, cross_checks(), example_limit=10, resolver=resolver, on_query=labels.append, batch_size=2)
    assert_cross_results(res, "pg.")
    # only notNull is fused; each cross check runs apart, in batches of 2 keys:
    assert labels[0] == "aggregate over 1 checks"
    # existsIn on customers: orders has 5 distinct keys, customers 6 → target keys in 3 batches
    assert [x for x in labels if x.startswith("check 1: batch")] == [
        "check 1: batch 1: 2 keys probed in pg.customers",
        "check 1: batch 2: 2 keys probed in pg.customers",
        "check 1: batch 3: 1 keys probed in pg.customers",
    ]
    # existsIn on vip: vip has 2 keys, fewer than orders' 5 → the vip keys go to DuckDB, one
    # batch; the failing rows are then found with that batch
    assert [x for x in labels if x.startswith("check 3: batch")] == [
        "check 3: batch 1: 2 keys of pg.vip probed in the container"
    ]
    # dataDiff: 8 distinct order rows (4 batches), then 7 ledger rows back (4 batches)
    assert len([x for x in labels if x.startswith("check 6: batch")]) == 8
    con.disconnect()


def test_reference_side_smaller_over_several_batches(tmp_path, pg_schema_con):
    # batch_size 1: vip's 2 keys go in 2 batches; existsIn then needs a second pass over the
    # target's keys to find its failing rows (stopping once it has enough)
    con, t = duckdb_file_table(tmp_path, "orders", ORDERS)
    refs = load_refs(pg_schema_con)
    resolver = Resolver({2: (refs["vip"], "vip", False)})
    labels: list[str] = []
    checks = [
        CheckSpec(3, "existsIn", ["cust"], {"ref_container_id": 2, "field_name": "cid"}),
        CheckSpec(4, "notExistsIn", ["cust"], {"ref_container_id": 2, "field_name": "cid"}),
    ]
    res = evaluate(t, checks, example_limit=2, resolver=resolver, on_query=labels.append, batch_size=1)
    ex, nex = res.outcomes
    assert (ex.result, ex.failed, [r["id"] for r in ex.examples]) == ("failed", 4, [2, 3])
    assert (nex.result, nex.failed, [r["id"] for r in nex.examples]) == ("failed", 3, [1, 5])
    assert [x for x in labels if x.startswith("check 3: batch")] == [
        "check 3: batch 1: 1 keys of vip probed in the container",
        "check 3: batch 2: 1 keys of vip probed in the container",
        # target keys 10, 20: 20 fails; 30: fails → 2 failing keys, enough for 2 examples
        "check 3: batch 3: 1 keys probed in vip",
        "check 3: batch 4: 1 keys probed in vip",
        "check 3: batch 5: 1 keys probed in vip",
    ]
    con.disconnect()


def _read_only(con) -> object:
    """A second connection to ``con``'s schema, read-only as Assay opens PostgreSQL
    datastores (``default_transaction_read_only=on``: no CREATE, not even a temporary table)."""
    schema = con.raw_sql("SHOW search_path").fetchone()[0]
    return ibis.postgres.connect(
        host=PG_HOST,
        user="postgres",
        database="test",
        options=f"-c search_path={schema} -c default_transaction_read_only=on",
    )


def test_read_only_postgresql_reference_against_duckdb(tmp_path, pg_schema_con):
    """Issue 16: the reference on a read-only PostgreSQL session ("cannot execute CREATE TABLE
    in a read-only transaction" before): nothing is written there, the counts are exact.
    customers has 6 distinct keys, more than orders' 5 (the scanned side's keys would go to
    PostgreSQL); vip has 2, fewer (its keys go to DuckDB)."""
    from types import SimpleNamespace

    from assay.sources.sql import SqlSource

    load_refs(pg_schema_con)
    schema = pg_schema_con.raw_sql("SHOW search_path").fetchone()[0]
    # the PostgreSQL datastore's own connector, which opens its sessions read-only
    source = SqlSource("postgresql", {"host": PG_HOST, "username": "postgres"}, "test", schema)
    con, t = duckdb_file_table(tmp_path, "orders", ORDERS)
    names = ("customers", "vip", "ledger", "orders_copy")
    refs = {n: source.table(SimpleNamespace(name=n, container_type="table")) for n in names}
    labels: list[str] = []
    res = evaluate(
        t,
        cross_checks(),
        example_limit=10,
        resolver=resolver_for(refs, "pg.", False),
        batch_size=2,
        on_query=labels.append,
    )
    assert_cross_results(res, "pg.")
    # orders' 5 keys (fewer than customers' 6) are probed in a copy of the 6 PostgreSQL keys
    # (3 batches of 2), in 3 batches
    assert [x for x in labels if x.startswith("check 1:")] == [
        "check 1: rows and distinct keys of the checked container",
        "check 1: distinct keys of pg.customers",
        "check 1: distinct keys of pg.customers: batch 1 of 2 rows copied for the comparison",
        "check 1: distinct keys of pg.customers: batch 2 of 2 rows copied for the comparison",
        "check 1: distinct keys of pg.customers: batch 3 of 2 rows copied for the comparison",
        "check 1: batch 1: 2 keys probed in pg.customers",
        "check 1: batch 2: 2 keys probed in pg.customers",
        "check 1: batch 3: 1 keys probed in pg.customers",
    ]
    source.close()
    con.disconnect()


def test_read_only_postgresql_container_against_duckdb_and_sqlite_references(tmp_path, pg_schema_con):
    """The reverse: the scanned container on a read-only PostgreSQL session, the references
    in DuckDB, then in SQLite. vip's 2 keys are fewer than orders' 5 (they would be probed in
    PostgreSQL), and the failing rows' examples are read from PostgreSQL."""
    pg_schema_con.create_table("orders", ORDERS)
    ro = _read_only(pg_schema_con)
    t = ro.table("orders")
    duck = ibis.duckdb.connect()
    sqlite = ibis.sqlite.connect(str(tmp_path / "refs.sqlite"))
    # batches of 2 (DuckDB: several batches each way, the container's rows copied in 4) and of 100
    for other, label, batch_size in ((duck, "duck.", 2), (sqlite, "lite.", 100)):
        labels: list[str] = []
        resolver = resolver_for(load_refs(other), label, False)
        res = evaluate(
            t, cross_checks(), example_limit=10, resolver=resolver, batch_size=batch_size, on_query=labels.append
        )
        assert_cross_results(res, label)
        if batch_size == 2:
            # vip's 2 keys (fewer than orders' 5) are probed in a copy of the container's keys
            # vip's 2 keys (fewer than orders' 5, one batch) are probed in a copy of the
            # container's 5 keys (3 batches); the examples are the rows whose value is not
            # one of those 2 keys, read with the keys as literals
            assert [x for x in labels if x.startswith("check 3:")] == [
                "check 3: rows and distinct keys of the checked container",
                "check 3: distinct keys of duck.vip",
                "check 3: distinct keys of the container: batch 1 of 2 rows copied for the comparison",
                "check 3: distinct keys of the container: batch 2 of 2 rows copied for the comparison",
                "check 3: distinct keys of the container: batch 3 of 1 rows copied for the comparison",
                "check 3: batch 1: 2 keys of duck.vip probed in the container",
            ]
    ro.disconnect()
    duck.disconnect()
    sqlite.disconnect()


def test_sqlite_against_duckdb(tmp_path):
    sqlite = ibis.sqlite.connect(str(tmp_path / "orders.sqlite"))
    t = sqlite.create_table("orders", ORDERS)
    other = ibis.duckdb.connect()
    labels: list[str] = []
    res = evaluate(
        t,
        cross_checks(),
        example_limit=10,
        resolver=resolver_for(load_refs(other), "duck.", False),
        batch_size=3,
        on_query=labels.append,
    )
    assert_cross_results(res, "duck.")
    # SQLite's 5 distinct cust keys are read as pages of 3 (Ibis reads a whole SQLite result
    # at once, so each batch is its own LIMIT/OFFSET query)
    assert [x for x in labels if x.startswith("check 1: batch")] == [
        "check 1: batch 1: 3 keys probed in duck.customers",
        "check 1: batch 2: 2 keys probed in duck.customers",
    ]
    sqlite.disconnect()
    other.disconnect()


def test_text_and_number_keys_compare_as_text_across_engines(tmp_path):
    sqlite = ibis.sqlite.connect(str(tmp_path / "codes.sqlite"))
    t = sqlite.create_table("codes", pa.table({"code": ["1", "2", "x", None]}))
    other = ibis.duckdb.connect()
    ref = other.create_table("nums", pa.table({"n": [1, 3]}))
    check = CheckSpec(1, "existsIn", ["code"], {"ref_container_id": 1, "field_name": "n"})
    for same, table in ((False, ref), (True, sqlite.create_table("nums", pa.table({"n": [1, 3]})))):
        res = evaluate(t, [check], resolver=Resolver({1: (table, "nums", same)}))
        # '2' and 'x' are not among '1', '3'
        assert [r["code"] for r in res.outcomes[0].examples] == ["2", "x"]
    sqlite.disconnect()
    other.disconnect()


# ------------------------------------------------------------- errors and definitions


def test_missing_reference_is_unasserted_and_the_other_checks_still_run(engine):
    t = engine.con.create_table(f"orders_{uuid.uuid4().hex[:6]}", ORDERS)
    checks = [
        CheckSpec(1, "existsIn", ["cust"], {"ref_container_id": 99, "field_name": "cid"}),
        CheckSpec(2, "notNull", ["cust"]),
        CheckSpec(3, "dataDiff", ["nope"], {"ref_container_id": 1}),
        CheckSpec(4, "existsIn", ["cust"], {"ref_container_id": 1, "field_name": "missing"}),
    ]
    refs = {1: (engine.con.create_table(f"c_{uuid.uuid4().hex[:6]}", CUSTOMERS), "customers", True)}
    res = evaluate(t, checks, resolver=Resolver(refs))
    got = [(o.result, o.failed, o.error) for o in res.outcomes]
    assert got == [
        ("unasserted", 0, "reference container 99 does not exist"),
        ("failed", 1, None),  # row 4 has no cust
        ("unasserted", 0, "field(s) not found in the container: nope"),
        ("unasserted", 0, "field 'missing' not found in reference container customers"),
    ]
    # without any resolver, cross-container checks cannot run; the others do
    res = evaluate(t, checks[:2])
    assert [(o.result, o.error) for o in res.outcomes] == [
        ("unasserted", "rule existsIn needs a reference container, and none can be reached here"),
        ("failed", None),
    ]


@pytest.mark.parametrize(
    "rule, properties, loc",
    [
        ("existsIn", {"ref_container_id": 1}, ("properties", "field_name")),
        ("existsIn", {"field_name": "x"}, ("properties", "ref_container_id")),
        ("existsIn", {"ref_container_id": 0, "field_name": "x"}, ("properties", "ref_container_id")),
        ("dataDiff", {"ref_container_id": 1, "numeric_tolerance": 0.5}, ("properties",)),
        (
            "dataDiff",
            {"ref_container_id": 1, "row_identifiers": [], "numeric_tolerance": 0.5},
            ("properties", "row_identifiers"),
        ),
        (
            "dataDiff",
            {"ref_container_id": 1, "row_identifiers": ["id"], "numeric_tolerance": -1},
            ("properties", "numeric_tolerance"),
        ),
        (
            "aggregationComparison",
            {"ref_container_id": 1, "expression": "amount", "comparison": "eq", "ref_expression": "sum(x)"},
            ("properties", "expression"),
        ),
        (
            "aggregationComparison",
            {"ref_container_id": 1, "expression": "sum(a)", "comparison": "equals", "ref_expression": "sum(x)"},
            ("properties", "comparison"),
        ),
        (
            "aggregationComparison",
            {"ref_container_id": 1, "expression": "sum(a)", "comparison": "eq", "ref_expression": "sum(x) FROM t"},
            ("properties", "ref_expression"),
        ),
        ("entityResolution", {"similarity_threshold": 1.5}, ("properties", "similarity_threshold")),
    ],
)
def test_bad_definitions_name_the_property(rule, properties, loc):
    fields = [] if rule == "aggregationComparison" else ["a"]
    with pytest.raises(RuleDefinitionError) as e:
        validate_check(rule, fields, properties, None, {})
    assert e.value.loc == loc, e.value.message


def test_reference_field_name_is_not_looked_up_in_the_checked_container():
    # field_name of existsIn names the REFERENCE field: the checked container need not have it
    fields = {"cust": ("Integral", "int64")}
    props = {"ref_container_id": 3, "field_name": "cid"}
    assert validate_check("existsIn", ["cust"], props, None, fields) == props
    # and an aggregate expression is accepted as the expression of aggregationComparison
    props = {"ref_container_id": 3, "expression": "sum(cust)", "comparison": "lte", "ref_expression": "count(*)"}
    assert validate_check("aggregationComparison", [], props, None, fields) == props


def test_is_replica_of_is_an_alias_of_data_diff():
    assert get_rule("isReplicaOf") is DataDiff
    assert get_rule("dataDiff") is DataDiff


# ------------------------------------------------------------- aggregate expressions


def test_aggregation_comparison_with_filters_on_both_sides(engine):
    t = engine.load(id=[1, 2, 3, 4], amount=[1, 2, 3, 4])
    ref = engine.load(total=[5, 5, 100], kind=["x", "x", "y"])
    resolver = Resolver({1: (ref, "r", True)})
    base = {"ref_container_id": 1}
    checks = [
        # sum(amount) = 10 = 5 + 5 (kind x)
        CheckSpec(
            1,
            "aggregationComparison",
            [],
            {
                **base,
                "expression": "sum(amount)",
                "comparison": "eq",
                "ref_expression": "sum(total)",
                "ref_filter": "kind = 'x'",
            },
        ),
        # filter amount > 1: count 3, not < 3
        CheckSpec(
            2,
            "aggregationComparison",
            [],
            {**base, "expression": "count(*)", "comparison": "lt", "ref_expression": "count(*)"},
            filter="amount > 1",
        ),
        # max - min = 3 <= count(distinct total) = 2? no
        CheckSpec(
            3,
            "aggregationComparison",
            [],
            {
                **base,
                "expression": "max(amount) - min(amount)",
                "comparison": "lte",
                "ref_expression": "count(distinct total)",
            },
        ),
        # avg(amount) = 2.5 ne 5
        CheckSpec(
            4,
            "aggregationComparison",
            [],
            {**base, "expression": "avg(amount)", "comparison": "ne", "ref_expression": "min(total)"},
        ),
        # sum over no reference row is NULL: cannot be compared
        CheckSpec(
            5,
            "aggregationComparison",
            [],
            {
                **base,
                "expression": "sum(amount)",
                "comparison": "gte",
                "ref_expression": "sum(total)",
                "ref_filter": "kind = 'z'",
            },
        ),
        CheckSpec(
            6,
            "aggregationComparison",
            [],
            {**base, "expression": "sum(nope)", "comparison": "eq", "ref_expression": "sum(total)"},
        ),
    ]
    res = evaluate(t, checks, resolver=resolver)
    assert [(o.result, o.message or o.error) for o in res.outcomes] == [
        ("passed", None),
        ("failed", "The aggregate count(*) = 3 is not less than count(*) = 3 in r"),
        (
            "failed",
            "The aggregate max(amount) - min(amount) = 3 is not less than or equal to count(distinct total) = 2 in r",
        ),
        ("passed", None),
        ("failed", "The aggregate sum(amount) = 10 cannot be compared with sum(total) = NULL in r: NULL"),
        ("unasserted", "unknown field 'nope'"),
    ]


# ------------------------------------------------------------- entityResolution


def test_normalise():
    assert normalise("ACME, Inc.") == normalise(" acme  inc") == "acmeinc"
    assert normalise("Jürgen") == "jurgen"
    assert normalise("!!") == ""


def test_entity_resolution(engine):
    t = engine.load(
        id=list(range(1, 12)),
        name=[
            "ACME, Inc.",
            "acme inc",
            "Acme Inc",
            "Globex",
            "Globex",
            None,
            "Initech",
            "Initec",
            "!!",
            "Jürgen",
            "jurgen",
        ],
    )
    checks = [
        CheckSpec(1, "entityResolution", ["name"], {}),
        CheckSpec(2, "entityResolution", ["name"], {"similarity_threshold": 0.95}),
        CheckSpec(3, "entityResolution", ["name"], {}, filter="id > 3"),
        CheckSpec(4, "entityResolution", ["name"], {}, filter="id > 9"),
        CheckSpec(5, "entityResolution", ["name"], {}, filter="id < 10 AND id > 2"),
    ]
    res = evaluate(t, checks, batch_size=3)
    got = [(o.result, o.failed, o.message) for o in res.outcomes]
    assert got == [
        # ACME ×3 spellings (3 rows) and Jürgen/jurgen (2 rows); Globex is one spelling twice
        (
            "failed",
            5,
            "2 entities of `name` are written in more than one way (5 distinct values in 5 records), "
            "e.g. 'ACME, Inc.' ~ 'Acme Inc' ~ 'acme inc'; 'Jürgen' ~ 'jurgen'",
        ),
        # Jaro-Winkler('initech', 'initec') = 0.971 ≥ 0.95 adds Initech/Initec
        (
            "failed",
            7,
            "3 entities of `name` are written in more than one way (7 distinct values in 7 records), "
            "e.g. 'ACME, Inc.' ~ 'Acme Inc' ~ 'acme inc'; 'Initec' ~ 'Initech'; 'Jürgen' ~ 'jurgen'",
        ),
        (
            "failed",
            2,
            "1 entities of `name` are written in more than one way (2 distinct values in 2 records), "
            "e.g. 'Jürgen' ~ 'jurgen'",
        ),
        (
            "failed",
            2,
            "1 entities of `name` are written in more than one way (2 distinct values in 2 records), "
            "e.g. 'Jürgen' ~ 'jurgen'",
        ),
        ("passed", 0, None),  # Acme Inc, Globex ×2, NULL, Initech, Initec, '!!': all distinct entities
    ]


# ------------------------------------------------------------- very wide containers


N_COLS, N_ROWS = 1000, 24


def _wide_value(i: int, j: int):
    return None if (i + j) % 7 == 0 else (i * (j + 1)) % 50


def test_wide_container_is_split_into_bounded_queries_with_exact_results():
    cols = {f"c{j}": [_wide_value(i, j) for i in range(N_ROWS)] for j in range(N_COLS - 1)}
    # the last column overflows BIGINT when doubled in row 0 only
    cols["big"] = [2**62 + 1] + [1] * (N_ROWS - 1)
    con = ibis.duckdb.connect()
    t = con.create_table("wide", pa.table(cols))
    checks, expected = [], {}
    for k in range(500):
        j = (2 * k) % (N_COLS - 2)
        col = [_wide_value(i, j) for i in range(N_ROWS)]
        nxt = [_wide_value(i, j + 1) for i in range(N_ROWS)]
        kind = k % 4
        if kind == 0:
            checks.append(CheckSpec(k + 1, "notNull", [f"c{j}"]))
            expected[k + 1] = (N_ROWS, sum(v is None for v in col))
        elif kind == 1:
            checks.append(CheckSpec(k + 1, "between", [f"c{j}"], {"min": 0, "max": 40}))
            expected[k + 1] = (N_ROWS, sum(v is not None and v > 40 for v in col))
        elif kind == 2:
            checks.append(CheckSpec(k + 1, "unique", [f"c{j}"]))
            seen = [v for v in col if v is not None]
            expected[k + 1] = (N_ROWS, sum(seen.count(v) > 1 for v in seen))
        else:
            checks.append(
                CheckSpec(k + 1, "satisfiesExpression", [], {"expression": f"c{j} < c{j + 1}"}, filter=f"c{j} > 5")
            )
            rows = [(a, b) for a, b in zip(col, nxt, strict=False) if a is not None and a > 5]
            expected[k + 1] = (len(rows), sum(b is not None and not a < b for a, b in rows))
    broken = {
        11: (
            CheckSpec(11, "satisfiesExpression", [], {"expression": "big + big > 0"}),
            "OutOfRangeException: Out of Range Error: Overflow in addition of INT64 "
            "(4611686018427387905 + 4611686018427387905)!",
        ),
        222: (CheckSpec(222, "notNull", ["nope"]), "field(s) not found in the container: nope"),
        333: (
            CheckSpec(333, "satisfiesExpression", [], {"expression": "frobnicate(c1) > 0"}),
            "unsupported function 'frobnicate' in expressions (FROBNICATE(c1))",
        ),
    }
    for check_id, (spec, _error) in broken.items():
        checks[check_id - 1] = spec
    labels: list[str] = []
    res = evaluate(t, checks, example_limit=0, on_query=labels.append)
    assert res.records == N_ROWS
    for o in res.outcomes:
        if o.check_id in broken:
            assert (o.result, o.error) == ("unasserted", broken[o.check_id][1])
        else:
            assert o.error is None, (o.check_id, o.error)
            assert (o.asserted, o.failed) == expected[o.check_id], o.check_id
    # bounded fused queries: 497 checks that compile, ≤ 200 aggregates and ≤ 16 window
    # checks (unique) each → 125 unique checks need 8 groups; the group holding the
    # overflowing check is split in halves down to it
    # Bounded fused queries. The 498 checks that compile (222 and 333 do not) are cut, in
    # order, at every 16th window-using check (unique: ids 3, 7, 15, 19, … — id 11 is the
    # overflow): 70, 64, 64, 63, 64, 63, 64, 46 checks (the 63s lack 222 / 333), each far
    # under MAX_AGGREGATES_PER_QUERY. The first group holds the overflow (id 11): it is
    # split in halves down to it (35 → 17 → 8 ok, 9 → 4 → 2 ok, 2 → 1 (id 11), 1 ok;
    # then 5, 18, 35 ok) before the next groups run.
    assert labels == [
        f"aggregate over {n} checks" for n in (70, 35, 17, 8, 9, 4, 2, 2, 1, 1, 5, 18, 35, 64, 64, 63, 64, 63, 64, 46)
    ]
    con.disconnect()


def test_many_row_checks_are_split_at_the_aggregate_bound():
    con = ibis.duckdb.connect()
    t = con.create_table("narrow", pa.table({"a": [1, None, 3], "b": [1, 2, None]}))
    # 450 row checks, one aggregate each (none filtered): 200 + 200 + 50
    checks = [CheckSpec(i + 1, "notNull", ["a" if i % 2 else "b"]) for i in range(450)]
    labels: list[str] = []
    res = evaluate(t, checks, example_limit=0, on_query=labels.append)
    assert labels == ["aggregate over 200 checks", "aggregate over 200 checks", "aggregate over 50 checks"]
    assert MAX_AGGREGATES_PER_QUERY == 200
    assert [o.failed for o in res.outcomes] == [1] * 450
    con.disconnect()


# ------------------------------------------------------------- end to end, two datastores


def test_api_exists_in_across_a_duckdb_and_a_postgresql_datastore(api, make_duckdb, pg_database):
    from sqlalchemy import create_engine, text

    pg = create_engine(pg_database)
    with pg.begin() as conn:
        conn.execute(text("CREATE TABLE customers (cid integer, name text)"))
        conn.execute(text("INSERT INTO customers VALUES (10, 'ann'), (20, 'bob'), (30, 'cy'), (NULL, 'nul')"))
    pg.dispose()
    shop = api.duckdb_datastore(
        "Shop",
        make_duckdb(
            "create table orders (id integer, cust integer, amount double)",
            "insert into orders values (1, 10, 5.0), (2, 40, 7.5), (3, NULL, 3.0), (4, 20, 1.0), (5, 50, 2.0)",
            "create table vip (cid integer)",
            "insert into vip values (10), (40), (50)",
            "create table old_vip (cid integer)",
        ),
    )
    crm = api.ok(
        "POST",
        "/api/datastores",
        json={
            "name": "CRM",
            "connection": {"type": "postgresql", "host": PG_HOST, "username": "postgres"},
            "database": pg_database.rsplit("/", 1)[1],
            "schema": "public",
        },
    )
    api.sync(shop["id"])
    api.sync(crm["id"])
    orders, customers = api.container_id(shop["id"], "orders"), api.container_id(crm["id"], "customers")
    vip, old_vip = api.container_id(shop["id"], "vip"), api.container_id(shop["id"], "old_vip")
    # no ref_datastore_id: the reference is in the checked container's own datastore
    in_vip = api.check(orders, "existsIn", ["cust"], properties={"ref_container_id": vip, "field_name": "cid"})
    # a reference that does not exist, is in another datastore or lacks the field is refused up front
    for properties, loc, message in [
        (
            {"ref_datastore_id": shop["id"], "ref_container_id": customers, "field_name": "cid"},
            "ref_datastore_id",
            f"container {customers} (customers) is not in datastore {shop['id']}",
        ),
        (
            {"ref_datastore_id": crm["id"], "ref_container_id": 9999, "field_name": "cid"},
            "ref_container_id",
            "container 9999 does not exist",
        ),
        (
            {"ref_datastore_id": crm["id"], "ref_container_id": customers, "field_name": "nope"},
            "field_name",
            "field 'nope' does not exist in container customers",
        ),
    ]:
        r = api.post(
            "/api/quality-checks",
            json={"container_id": orders, "rule": "existsIn", "fields": ["cust"], "properties": properties},
        )
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["loc"] == ["body", "properties", loc] and r.json()["detail"][0]["msg"] == message
    # a reference container deleted after the check was made: that check is unasserted at scan time
    lost = api.check(orders, "notExistsIn", ["cust"], properties={"ref_container_id": old_vip, "field_name": "cid"})
    api.ok("DELETE", f"/api/containers/{old_vip}")
    exists = api.check(
        orders,
        "existsIn",
        ["cust"],
        properties={"ref_datastore_id": crm["id"], "ref_container_id": customers, "field_name": "cid"},
    )
    total = api.check(
        orders,
        "aggregationComparison",
        [],
        properties={
            "ref_datastore_id": crm["id"],
            "ref_container_id": customers,
            "expression": "count(*)",
            "comparison": "gt",
            "ref_expression": "count(cid)",
        },
    )
    # the older name is accepted and answered as dataDiff; customers has no `cust` field
    replica = api.check(
        orders, "isReplicaOf", ["cust"], properties={"ref_datastore_id": crm["id"], "ref_container_id": customers}
    )
    assert replica["rule_type"] == "dataDiff", replica
    op = api.scan(shop["id"])
    assert op["result"] == "success", op
    (cs,) = [c for c in op["container_scans"] if c["container"]["name"] == "orders"]
    results = {
        r["quality_check_id"]: (r["result"], r["asserted_records_count"], r["anomalous_records_count"], r["error"])
        for r in cs["quality_checks"]
    }
    assert results == {
        # cust 40 (order 2) and 50 (order 5) are not among the CRM's customers; NULL is skipped
        exists["id"]: ("failed", 5, 2, None),
        # 5 orders > 3 customers with an id
        total["id"]: ("passed", 5, 0, None),
        lost["id"]: ("unasserted", 0, 0, f"reference container {old_vip} does not exist"),
        replica["id"]: ("unasserted", 0, 0, "field 'cust' not found in reference container CRM.customers"),
        # only cust 20 (order 4) is not a vip
        in_vip["id"]: ("failed", 5, 1, None),
    }
    anomalies = sorted(api.anomalies(datastore=shop["id"]), key=lambda a: a["source_records"][0]["id"])
    assert [
        (
            a["type"],
            a["anomalous_records_count"],
            a["source_records"],
            a["message"],
            [fc["quality_check_id"] for fc in a["failed_checks"]],
        )
        for a in anomalies
    ] == [
        (
            "record",
            1,
            [{"id": 2, "cust": 40, "amount": 7.5}],
            "The `cust` value of 40 does not exist in CRM.customers.`cid`",
            [exists["id"]],
        ),
        (
            "record",
            1,
            [{"id": 4, "cust": 20, "amount": 1.0}],
            "The `cust` value of 20 does not exist in Shop.vip.`cid`",
            [in_vip["id"]],
        ),
        (
            "record",
            1,
            [{"id": 5, "cust": 50, "amount": 2.0}],
            "The `cust` value of 50 does not exist in CRM.customers.`cid`",
            [exists["id"]],
        ),
    ]


def test_an_abort_between_batches_stops_the_scan_instead_of_failing_the_check(tmp_path):
    class Stop(Exception):
        pass

    sqlite = ibis.sqlite.connect(str(tmp_path / "orders.sqlite"))
    t = sqlite.create_table("orders", ORDERS)
    other = ibis.duckdb.connect()
    seen: list[str] = []

    def hook(label: str) -> None:
        seen.append(label)
        if label.startswith("check 1: batch 2"):
            raise Stop()

    with pytest.raises(Stop):
        evaluate(t, cross_checks()[:1], resolver=resolver_for(load_refs(other), "", False), batch_size=2, on_query=hook)
    assert seen[-1] == "check 1: batch 2: 2 keys probed in customers"
    sqlite.disconnect()
    other.disconnect()
