"""The parity matrix: every registered rule type runs on the SAME data in DuckDB, SQLite,
PostgreSQL and MariaDB, and each check's failing count must be the count worked out by
hand from the data (so all four engines agree with each other and with the definition).

The data is ``dataset.FACTS`` (10 rows; its table is in dataset.py, with the
values each column holds). It is loaded once per engine and every case below runs in ONE
``evaluate`` call per engine, exactly as a scan runs a container's checks.

``expected`` is the failing count: for a row rule the number of failing rows, for an
aggregate rule the rows read when it fails (0 when it passes). Engines may differ only
where the stored data differs: ``N(nan, no_nan)`` marks a NaN double, NaN on
DuckDB/PostgreSQL but NULL on SQLite/MariaDB (neither can store NaN); a per-engine dict
marks SQLite's DECIMAL, which holds doubles. Nothing else may differ: text is compared
byte for byte (``engine.exact``), timestamps as UTC instants, DECIMAL sums exactly, and a
non-string field is rendered as text by one canonical cast (``engine.text``).

Cross-container cases reach container 2 (REFS) on the same connection, and containers
3 and 4 (REFS, FACTS) on another engine (an in-memory DuckDB), so both the fused and the
streamed ("apart") paths run on every engine.

A registered rule type without a case here fails ``test_every_rule_has_a_parity_case``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest

from assay.engine.plan import evaluate
from assay.engine.rules import CheckSpec
from assay.operations.resolver import Reference
from tests.engine.rules.dataset import ENGINES, FACTS, HAS_NAN, REFS, SPARK, connect, load
from tests.helpers import rule_names


@dataclass(frozen=True)
class N:
    """An expected count that depends on NaN support (see the module docstring)."""

    nan: int
    no_nan: int


@dataclass
class Case:
    rule: str
    fields: list[str]
    expected: int | N | dict[str, int]
    properties: dict[str, Any] = field(default_factory=dict)
    filter: str | None = None
    label: str = ""
    history: list = field(default_factory=list)

    @property
    def id(self) -> str:
        extra = f"{self.label}" if self.label else ",".join(self.fields)
        return f"{self.rule}[{extra}]"


def C(rule, fields, expected, label="", filter=None, history=(), **properties) -> Case:
    return Case(rule, list(fields), expected, properties, filter, label, list(history))


#: When the earlier measurement of a time-series case was taken.
HIST_AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


# Row numbers in the comments are FACTS ids. NULLs are skipped by value rules throughout.
CASES: list[Case] = [
    # -- notNull
    C("notNull", ["i"], 2),  # rows 3, 10
    C("notNull", ["f"], N(1, 2)),  # row 3; row 4 is NaN (NULL where NaN cannot be stored)
    C("notNull", ["s"], 1),  # row 3 ('' is a value)
    C("notNull", ["i", "s"], 2),  # rows 3, 10
    C("notNull", ["Ünïcode"], 6),  # rows 3, 6..10
    C("notNull", ["select", "order id"], 2),  # rows 3, 10
    C("notNull", ["tstz"], 2),  # rows 3, 10
    # -- notNegative
    C("notNegative", ["i"], 2),  # -3, -1
    C("notNegative", ["f"], 2),  # -2.0, -0.5 (NaN is not < 0)
    C("notNegative", ["d"], 2),  # -0.0000000001, -1
    C("notNegative", ["a.b"], 2),
    C("notNegative", ["select"], 2),
    # -- between
    C("between", ["i"], 4, min=0, max=10),  # -3, 100, -1, 42
    C("between", ["f"], N(5, 4), min=0, max=10),  # -2, 100, -0.5, 42 (+ NaN, above every number)
    C("between", ["d"], 2, label="d", min=-1, max=100),  # 100.0000000001, 12345678901234567890.1…
    C("between", ["d"], 3, label="d excl", min=-1, max=100, inclusive_min=False),  # … and -1
    C("between", ["a.b"], N(6, 5), min=0, max=10, inclusive=False),  # -2, 100, 0.0, -0.5, 42 (+ NaN)
    # -- expectedValues
    C("expectedValues", ["s"], 5, list=["abc", "", "ABC"]),  # Ünïcödé, xyz123, 'a b', 12345, long…
    C("expectedValues", ["i"], 2, list=[5, 0, 7, 42, 100]),  # -3, -1
    C("expectedValues", ['quo"te'], 7, list=["abc"]),  # all but the two 'abc' (case counts)
    # -- unique
    C("unique", ["s"], 2),  # 'abc' in rows 1, 5
    C("unique", ["i"], 2),  # 5 in rows 1, 7
    C("unique", ["order id"], 2),  # 90 in rows 9, 10
    C("unique", ["grp"], 10),  # every group has two rows
    C("unique", ["grp", "s"], 0),  # pairs differ; (2, NULL) ignored
    C("unique", ["f"], 0),  # NaN once; no repeated number
    C("unique", ["Ünïcode"], 2),  # 'abc' in rows 1, 5
    C("unique", ["tstz"], 2),  # rows 6 and 7 are the same UTC instant (08:00Z)
    C("unique", ["ts"], 0),
    # -- minLength / maxLength (characters, not bytes)
    C("minLength", ["s"], 1, value=3),  # ''
    C("maxLength", ["s"], 1, value=7),  # 'long text value'; Ünïcödé is 7 characters (11 bytes)
    C("minLength", ["Ünïcode"], 1, value=1),  # ''
    C("minLength", ['quo"te'], 5, value=4),  # '', abc, abc, 'a b', ABC
    # -- notFuture
    C("notFuture", ["day"], 1),  # 2999-12-31
    C("notFuture", ["ts"], 1),
    C("notFuture", ["tstz"], 1),
    C("notFuture", ["order"], 1),
    # -- greaterThanField
    C("greaterThanField", ["i"], 5, field_name="ref"),  # rows 2, 4, 6, 7, 9
    C("greaterThanField", ["i"], 1, label="i>=ref", field_name="ref", inclusive=True),  # row 6 (7 < 8)
    C("greaterThanField", ["ts"], 6, field_name="tstz"),  # equal UTC instants in 1, 4, 5, 6, 8, 9
    C("greaterThanField", ["ts"], 0, label="ts>=tstz", field_name="tstz", inclusive=True),
    C("greaterThanField", ["select"], 7, field_name="order id"),  # only row 5 (100 > 50) passes
    # -- satisfiesExpression
    C("satisfiesExpression", [], 2, label="i>=0", expression="i >= 0"),
    C("satisfiesExpression", [], 4, label="odd names", expression="`select` + 1 > `order id` / 10"),  # 2, 4, 7, 8
    C("satisfiesExpression", [], 3, label="f>0", expression="f > 0"),  # -2, 0.0, -0.5 (NaN > 0)
    C("satisfiesExpression", [], 3, label="decimal", expression="d * 2 > 1"),  # rows 2, 4, 8
    C("satisfiesExpression", [], 6, label="like", expression="s LIKE 'a%'"),  # '', Ü…, xyz123, ABC, 12345, long…
    # -- matchesPattern (search semantics; a non-string field is cast to text)
    C("matchesPattern", ["s"], 7, pattern="^[a-z]+$"),  # all but the two 'abc'
    C("matchesPattern", ["i"], 6, pattern="^-"),  # all non-negative ints
    C("matchesPattern", ["s"], 7, label=r"\d", pattern=r"\d"),  # 9 non-NULL; only xyz123 and 12345 hold a digit
    C("matchesPattern", ["s"], 6, label="alpha", pattern="^[[:alpha:]]+$"),  # abc, abc, ABC (ASCII letters only)
    C("matchesPattern", ["s"], 7, label=r"\w", pattern=r"\w+ \w"),  # 'a b', 'long text value'
    C("matchesPattern", ["s"], 8, label="7 chars", pattern="^.{7}$"),  # Ünïcödé: 7 characters, 11 bytes
    C("matchesPattern", ["s"], 8, label="case", pattern="ABC"),  # row 8 only: case-sensitive
    C("matchesPattern", ["order"], 5, label="date", pattern="^2024-0[1-3]-"),  # a date as text is YYYY-MM-DD
    # a non-string field is rendered by engine.text.as_text, the same text on every engine:
    C(
        "matchesPattern", ["f"], N(4, 3), label="double", pattern="^-?[0-9]+$"
    ),  # 1.5, 7.25, -0.5 (+ 'NaN'); -2.0 is '-2'
    C("matchesPattern", ["d"], 0, label="decimal", pattern=r"^-?[0-9]+\.[0-9]{10}$"),  # at its scale: '1.5000000000'
    C("matchesPattern", ["ts"], 8, label="ts", pattern=r"\."),  # no '.000000' for a zero fraction
    C("matchesPattern", ["tstz"], 6, label="utc", pattern="^2024-06-15 08:00:00$"),  # rows 6, 7: one UTC instant
    C("containsCreditCard", ["i"], 8, label="integer"),  # no 13+ digit integer
    # -- minPartitionSize (aggregate: failed = rows read when it fails)
    C("minPartitionSize", [], 0, label="10", min_size=10),
    C("minPartitionSize", [], 10, label="11", min_size=11),
    C("minPartitionSize", [], 10, label="filtered", filter="i > 0", min_size=6),  # 5 rows with i > 0 < 6
    # -- anyNotNull
    C("anyNotNull", ["i", "f"], 1),  # row 3 (row 10 has f; row 4's NaN/NULL f beside i = 0)
    C("anyNotNull", ["Ünïcode", "select"], 2),  # rows 3, 10
    # -- notEmpty
    C("notEmpty", ["s"], 1),  # ''
    C("notEmpty", ["Ünïcode"], 1),
    C("notEmpty", ['quo"te'], 1),
    # -- positive
    C("positive", ["i"], 3),  # -3, 0, -1
    C("positive", ["f"], 3),  # -2, 0.0, -0.5 (NaN passes)
    C("positive", ["d"], 3),  # -0.0000000001, 0, -1
    # -- greaterThan / lessThan / minValue / maxValue
    C("greaterThan", ["i"], 5, value=5),  # 5, -3, 0, 5, -1
    C("greaterThan", ["i"], 3, label="i>=5", value=5, inclusive=True),
    C("greaterThan", ["d"], 3, value=0),  # -0.0000000001, 0, -1
    C("greaterThan", ["f"], 3, value=1.5, inclusive=True),  # -2, 0.0, -0.5
    C("lessThan", ["f"], N(3, 2), value=42),  # 100, 42.0 (+ NaN)
    C("lessThan", ["i"], 1, value=42, inclusive=True),  # 100
    C("minValue", ["i"], 2, value=0),  # -3, -1
    C("minValue", ["d"], 1, value=-0.0000000001),  # -1 (the bound itself passes)
    C("maxValue", ["f"], N(2, 1), value=42),  # 100 (+ NaN)
    C("maxValue", ["d"], 2, value=100),  # 100.0000000001, 12345678901234567890.1…
    # -- equalTo
    C("equalTo", ["grp"], 8, value=1),
    C("equalTo", ["s", 'quo"te'], 7, value="abc"),  # rows 1, 5 equal; row 3 all NULL
    C("equalTo", ["i", "select"], 6, value=5),  # rows 1, 7 equal; rows 3, 10 NULL
    # -- equalToField / lessThanField
    C("equalToField", ["i"], 0, field_name="select"),
    C("equalToField", ["ts"], 2, field_name="tstz"),  # rows 2 (12:30 vs 10:30Z), 7 (08:00:01 vs 08:00Z)
    C("equalToField", ["f"], 0, field_name="a.b"),  # NaN = NaN
    C("equalToField", ["i"], 1, label="i~ref", field_name="ref", tolerance=1),  # row 1: |5 − 3| = 2
    C("lessThanField", ["ref"], 5, field_name="i"),  # rows 2, 4, 6, 7, 9
    C("lessThanField", ["ref"], 1, label="ref<=i", field_name="i", inclusive=True),  # row 6
    C("lessThanField", ["tstz"], 6, field_name="ts"),  # equal UTC instants in 1, 4, 5, 6, 8, 9
    C("lessThanField", ["tstz"], 0, label="tstz<=ts", field_name="ts", inclusive=True),
    # -- betweenTimes / afterDateTime / beforeDateTime (UTC; a DATE is its midnight)
    C("betweenTimes", ["ts"], 3, min_time="2024-01-01T00:00:00", max_time="2024-12-31T23:59:59"),
    C("betweenTimes", ["tstz"], 4, min_time="2024-02-29T12:00:00+02:00", max_time="2024-06-15T08:00:00Z"),
    C("betweenTimes", ["day"], 3, min_time="2024-01-01", max_time="2024-06-15"),
    C("afterDateTime", ["ts"], 3, datetime="2024-01-01T00:00:00Z"),  # the instant itself, 2023, 2000
    C("afterDateTime", ["order"], 3, datetime="2024-01-01T00:00:00Z"),
    C("beforeDateTime", ["tstz"], 3, datetime="2024-06-15T10:00:00+02:00"),  # 08:00Z twice, 2999
    # -- isType
    C("isType", ["s"], 8, field_type="Integral"),  # only '12345' parses
    C("isType", ["i"], 0, field_type="Fractional"),  # an integer field is Fractional
    C("isType", ["day"], 8, field_type="Integral"),  # a date field is not: every non-NULL fails
    C("isType", ["Ünïcode"], 0, field_type="String"),
    # -- predictedBy
    C("predictedBy", ["i"], 1, expression="ref + 1", tolerance=1),  # row 6: |7 − 9| = 2
    C("predictedBy", ["f"], N(8, 7), expression="`a.b` * 2"),  # |f| > 0, except 0.0 (NaN fails)
    # -- aggregate rules (failed = 10 rows read when the check fails)
    C("requiredValues", ["s"], 0, list=["abc", "", "ABC"]),
    C("requiredValues", ["s"], 10, label="zzz", list=["abc", "zzz"]),
    C("requiredValues", ["i"], 0, list=[5, 42]),
    C("distinctCount", ["s"], 0, value=8),  # abc, '', Ünïcödé, xyz123, 'a b', ABC, 12345, long…
    C("distinctCount", ["s"], 10, label="!=7", value=7),
    C("distinctCount", ["tstz"], 0, value=7),  # rows 6 and 7 are one UTC instant
    C("fieldCount", [], 0, value=17),
    C("fieldCount", [], 10, label="16", value=16),
    C(
        "expectedSchema",
        ["id", "order id", "Ünïcode", "d"],
        0,
        field_types={"d": "Fractional", "order id": "Integral", "Ünïcode": "String"},
    ),
    C("expectedSchema", ["id", "nope"], 10, label="missing"),
    C("maxPartitionSize", [], 0, label="10", max_size=10),
    C("maxPartitionSize", [], 10, label="9", max_size=9),
    C("sum", ["i"], 0, value=155),
    # exact only where DECIMAL is exact (SQLite keeps doubles)
    C(
        "sum",
        ["d"],
        {"duckdb": 0, "sqlite": 10, "postgres": 0, "mariadb": 0, "spark": 0},
        value="12345678901234568039.8734567891",
    ),
    C("sum", ["f"], N(10, 0), value=151.25),  # NaN poisons the sum
    C("timeDistributionSize", ["day"], 10, interval_name="yearly", min_size=1),  # 2001…2022 are empty
    C("timeDistributionSize", ["ts"], 0, interval_name="yearly", max_size=5),  # 2024 holds 5
    C("timeDistributionSize", ["tstz"], 0, interval_name="yearly", max_size=5),  # row 4 is 2023 in UTC
    C(
        "timeDistributionSize",
        ["tstz"],
        10,
        label="monthly",
        interval_name="monthly",
        min_size=1,
        filter="day >= DATE '2024-01-01' AND day < DATE '2024-07-01'",
    ),  # April, May empty
    C("volumetric", [], 0, comparison="absolute", min=5, max=20),
    C("volumetric", [], 10, label="min 11", comparison="absolute", min=11),
    C("metric", ["i"], 10, aggregate="sum", comparison="absolute", min=0, max=100),  # 155
    C("metric", ["i"], 0, label="max 200", aggregate="sum", comparison="absolute", max=200),
    C("freshness", ["ts"], 0, max_age=1, unit="hours"),  # newest is 2999
    C("freshness", ["ts"], 10, label="old", max_age=1, unit="days", filter="ts < TIMESTAMP '2025-01-01 00:00:00'"),
    C("absoluteChangeLimit", ["i"], 0, limit=10),  # first scan: the baseline
    C("absoluteChangeLimit", ["i"], 0, label="history 150", history=[(HIST_AT, 150)], limit=5),  # |155 − 150|
    C("absoluteChangeLimit", ["i"], 10, label="history 150 4", history=[(HIST_AT, 150)], limit=4),
    C("relativeChangeLimit", ["i"], 0, limit=0.1),
    C("relativeChangeLimit", ["i"], 0, label="history 150", history=[(HIST_AT, 150)], limit=0.04),  # 5/150
    C("relativeChangeLimit", ["i"], 10, label="history 150 .03", history=[(HIST_AT, 150)], limit=0.03),
    # -- cross-container rules: container 2 is REFS, on the same connection
    C("existsIn", ["i"], 3, ref_container_id=2, field_name="key"),  # -3, 100, -1
    C("notExistsIn", ["i"], 5, ref_container_id=2, field_name="key"),  # 5, 0, 7, 5, 42
    C("existsIn", ["s"], 5, ref_container_id=2, field_name="label"),  # '', xyz123, 'a b', 12345, long…
    C("dataDiff", ["id", "s"], 0, ref_container_id=1),  # the container against itself
    C("dataDiff", ["id", "s"], 2, label="filtered", filter="id <= 8", ref_container_id=1),  # rows 9, 10 missing
    C("isNotReplicaOf", ["id", "s"], 10, ref_container_id=1),  # it IS a replica: fails
    C(
        "aggregationComparison",
        [],
        0,
        ref_container_id=2,
        expression="sum(i)",
        comparison="eq",
        ref_expression="sum(key) + 101",
    ),  # 155 = 54 + 101
    C(
        "aggregationComparison",
        [],
        10,
        label="count",
        ref_container_id=2,
        expression="count(s)",
        comparison="lt",
        ref_expression="count(label)",
    ),  # 9 < 4 is false
    # the same against the same tables on ANOTHER engine (an in-memory DuckDB): run apart
    C("existsIn", ["i"], 3, label="i other", ref_container_id=3, field_name="key"),
    C("notExistsIn", ["i"], 5, label="i other", ref_container_id=3, field_name="key"),
    C("existsIn", ["s"], 5, label="s other", ref_container_id=3, field_name="label"),
    C("dataDiff", ["id", "s"], 0, label="other", ref_container_id=4),
    C("dataDiff", ["id", "s"], 2, label="other filtered", filter="id <= 8", ref_container_id=4),
    C("dataDiff", ["id", "s", "i"], 0, label="other by id", ref_container_id=4, row_identifiers=["id"]),
    C(
        "aggregationComparison",
        [],
        0,
        label="other",
        ref_container_id=3,
        expression="sum(i)",
        comparison="eq",
        ref_expression="sum(key) + 101",
    ),
    # -- text detectors on "note" (9 non-NULL values; see dataset._note)
    C("containsEmail", ["note"], 8),  # row 1 only
    C("containsUrl", ["note"], 7),  # rows 2, 8
    C("containsCreditCard", ["note"], 5),  # rows 4, 5, 9, 10
    C("containsSocialSecurityNumber", ["note"], 8),  # row 6
    C("isCreditCard", ["note"], 8),  # row 5 only (row 9 fails Luhn)
    C("isAddress", ["note"], 8, required_labels=["house_number", "road"]),  # row 7
    C("isAddress", ["note"], 8, label="postcode", required_labels=["postcode"]),  # row 7 (NW1 6XE)
    C("userDefinedFunction", ["note"], 8, function="is_iban"),  # row 10
    # -- entityResolution: 'abc' (rows 1, 5) and 'ABC' (row 8) are one entity: 3 rows
    C("entityResolution", ["s"], 3),
    # Jaro-Winkler('ab', 'abc') = 0.911 ≥ 0.9 joins 'a b' (row 7) to them: 4 rows
    C("entityResolution", ["s"], 4, label="jw 0.9", similarity_threshold=0.9),
]


def expected_for(case: Case, engine: str) -> int:
    if isinstance(case.expected, N):
        return case.expected.nan if HAS_NAN[engine] else case.expected.no_nan
    if isinstance(case.expected, dict):
        return case.expected[engine]
    return case.expected


class SameConnection:
    """The scan's resolver, for tests: container 1 is FACTS, container 2 is REFS, both on
    the scanned table's own connection (so cross-container rules fuse into the query);
    with ``other`` (another engine holding the same tables), containers 3 and 4 are REFS
    and FACTS there (the rules then run apart, streaming keys between the two engines)."""

    def __init__(self, loaded, other=None):
        self.loaded = loaded
        self.other = other

    def resolve(self, ref_datastore_id, ref_container_id):
        cid = int(ref_container_id)
        if cid in (3, 4):
            name = {3: "refs", 4: "facts"}[cid]
            return Reference(self.other.table(name), f"other.{name}", False)
        name = {1: "facts", 2: "refs"}[cid]
        return Reference(self.loaded.table(name), f"parity.{name}", True)


#: Example rows fetched per failing row check (their ids must agree across engines).
EXAMPLES = 3


#: Per worker process: each engine's evaluation of every case (plain outcomes, no open
#: connection), computed once and shared by the tests that read it.
_EVALUATED: dict[str, Any] = {}


def evaluated(engine: str, request, tmp_path_factory):
    """Load FACTS and REFS into ``engine`` (plus an in-memory DuckDB for the "other
    engine" references), evaluate every case in one call and return the result; the
    namespaces are dropped right after, the result is kept for the rest of the run."""
    if engine not in _EVALUATED:
        gen = connect(engine, tmp_path_factory.mktemp(engine), request)
        other_gen = connect("duckdb", None, request)
        try:
            loaded = load(engine, next(gen), [FACTS, REFS])
            other = load("duckdb", next(other_gen), [FACTS, REFS])
            specs = [
                CheckSpec(i, c.rule, c.fields, c.properties, c.filter, history=list(c.history))
                for i, c in enumerate(CASES, start=1)
            ]
            _EVALUATED[engine] = evaluate(
                loaded.table("facts"), specs, example_limit=EXAMPLES, resolver=SameConnection(loaded, other)
            )
        finally:
            gen.close()
            other_gen.close()
    return _EVALUATED[engine]


@pytest.fixture(scope="module", params=[*ENGINES, SPARK])
def results(request, tmp_path_factory):
    """Per engine: the outcome of every case, from one ``evaluate`` call."""
    return request.param, evaluated(request.param, request, tmp_path_factory)


@pytest.fixture(scope="module")
def duckdb_examples(request, tmp_path_factory):
    """Example row ids of every case on DuckDB, the reference the other engines must match."""
    res = evaluated("duckdb", request, tmp_path_factory)
    return {c.id: [r["id"] for r in o.examples] for c, o in zip(CASES, res.outcomes, strict=False)}


def test_every_rule_has_a_parity_case():
    covered = {c.rule for c in CASES}
    missing = sorted(rule_names() - covered)
    assert missing == [], f"registered rule types without a parity case: {missing}"


def test_case_ids_are_unique():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


# Spark plans, compiles and runs the 150-check fused query and ~120 example-row queries as
# Spark jobs: well under a minute on a quiet machine, minutes on a busy one.
@pytest.mark.timeout(1800)
def test_parity(results):
    engine, res = results
    assert res.records == 10
    got = {}
    for case, out in zip(CASES, res.outcomes, strict=False):
        got[case.id] = out.error if out.error else out.failed
    want = {case.id: expected_for(case, engine) for case in CASES}
    wrong = {k: (want[k], got[k]) for k in want if want[k] != got[k]}
    assert wrong == {}, f"{engine}: case -> (expected, got): {wrong}"


@pytest.mark.timeout(1800)
def test_example_rows_agree_across_engines(results, duckdb_examples):
    """The example rows of a failing row check are the first failing rows in the order of
    the container's columns (``id`` first): the same rows on every engine."""
    engine, res = results
    for case, out in zip(CASES, res.outcomes, strict=False):
        if out.kind != "row":
            continue
        ids = [r["id"] for r in out.examples]
        assert len(ids) == min(EXAMPLES, out.failed), case.id
        assert ids == sorted(ids), case.id
        if not isinstance(case.expected, (N, dict)):  # the same data on every engine
            assert ids == duckdb_examples[case.id], case.id
        for row in out.examples:
            assert list(row) == list(FACTS.columns), case.id
