"""Regression tests for rule behaviour a trial against Qualytics clients found wrong (issue
16), each asserted with exact values on DuckDB, SQLite, PostgreSQL and MariaDB (tables
created with each engine's own DDL, dataset.py):

1. satisfiesExpression takes ``fields`` (the fields its expression uses, as Qualytics
   checks and their exports carry them); each must exist in the container;
2. expectedSchema is creatable for a field that does not exist yet, and fails on the scan;
3. aggregationComparison with a decimal literal (``sum(x) * 0.5``) is asserted (PostgreSQL
   answered "Could not convert Decimal('0.5') … to double");
4. equalToField (and the other field comparisons) refuse an integer field compared with a
   text field at creation (422 naming ``properties.field_name``), as satisfiesExpression
   refuses a type error in its expression;
5. isType Boolean passes a MariaDB BOOLEAN (TINYINT(1)) column, and on every engine an
   integer field passes Boolean where it holds 0 or 1.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from assay.engine.plan import evaluate
from assay.engine.rules import CheckSpec, RuleDefinitionError
from assay.engine.validation import validate_check
from assay.operations.resolver import Reference
from assay.sources.base import field_type_of
from tests.engine.rules.dataset import ENGINES, Table, connect, load

T1 = Table(
    "trial",
    {"id": "int", "x": "double", "d": "decimal", "s": "text", "b": "bool", "flag": "int"},
    [
        (1, 2.0, Decimal("1.5"), "1", True, 1),
        (2, 4.0, Decimal("2.5"), "2", False, 0),
        (3, None, None, None, None, None),
        (4, -1.0, Decimal("-0.5"), "x", True, 2),
    ],
)


@pytest.fixture(scope="module", params=ENGINES)
def eng(request, tmp_path_factory):
    gen = connect(request.param, tmp_path_factory.mktemp(request.param), request)
    try:
        yield load(request.param, next(gen), [T1])
    finally:
        gen.close()


class SameTable:
    """Every reference container is the checked table itself (on the same connection)."""

    def __init__(self, loaded):
        self.loaded = loaded

    def resolve(self, ref_datastore_id, ref_container_id):
        return Reference(self.loaded.table("trial"), "same.trial", True)


def run(eng, checks):
    specs = [CheckSpec(i, rule, list(fields), dict(props)) for i, (rule, fields, props) in enumerate(checks, start=1)]
    return evaluate(eng.table("trial"), specs, resolver=SameTable(eng), example_limit=10)


def fields_of(eng) -> dict[str, tuple[str, str]]:
    return {n: (field_type_of(t), str(t)) for n, t in eng.table("trial").schema().items()}


# -- 1. satisfiesExpression with fields -------------------------------------------------------


def test_satisfies_expression_accepts_the_fields_it_uses(eng):
    fields = fields_of(eng)
    props = {"expression": "x > 0 AND id < 4"}
    assert validate_check("satisfiesExpression", ["x", "id"], props, None, fields) == props
    with pytest.raises(RuleDefinitionError) as e:
        validate_check("satisfiesExpression", ["x", "nope"], props, None, fields)
    assert (e.value.loc, str(e.value)) == (("fields", 1), "field 'nope' does not exist in the container")
    res = run(eng, [("satisfiesExpression", ["x", "id"], props), ("satisfiesExpression", [], props)])
    assert [(o.error, o.failed, sorted(r["id"] for r in o.examples)) for o in res.outcomes] == [(None, 1, [4])] * 2


# -- 2. expectedSchema for a field that does not exist yet ------------------------------------


def test_expected_schema_is_creatable_for_a_missing_field_and_fails_on_the_scan(eng):
    fields = fields_of(eng)
    props = {"field_types": {"x": "Fractional"}}
    assert validate_check("expectedSchema", ["x", "later"], props, None, fields) == props
    res = run(eng, [("expectedSchema", ["x", "later"], props), ("expectedSchema", ["x", "id"], props)])
    assert [(o.error, o.result) for o in res.outcomes] == [(None, "failed"), (None, "passed")]
    assert "missing `later`" in res.outcomes[0].message


# -- 3. aggregationComparison with decimal literals --------------------------------------------


def test_aggregation_comparison_with_decimal_literals_is_asserted(eng):
    ref = {"ref_container_id": 1}
    res = run(
        eng,
        [
            # sum(x) = 5.0: 2.5 <= 5.0 passes; 5.0 * 1.5 = 7.5 > 5.0 fails
            (
                "aggregationComparison",
                [],
                {**ref, "expression": "sum(x) * 0.5", "comparison": "lte", "ref_expression": "sum(x)"},
            ),
            (
                "aggregationComparison",
                [],
                {**ref, "expression": "sum(x) * 1.5", "comparison": "lte", "ref_expression": "sum(x)"},
            ),
            # sum(id) = 10 (an integer column; PostgreSQL answers NUMERIC): 10 * 0.5 <= 10
            (
                "aggregationComparison",
                [],
                {**ref, "expression": "sum(id) * 0.5", "comparison": "lte", "ref_expression": "sum(id)"},
            ),
            (
                "aggregationComparison",
                [],
                {**ref, "expression": "avg(flag) * 0.5", "comparison": "lt", "ref_expression": "max(flag)"},
            ),
            # sum(d) = 3.5 (a DECIMAL column): 3.5 + 0.25 > 3.5
            (
                "aggregationComparison",
                [],
                {**ref, "expression": "sum(d) + 0.25", "comparison": "gt", "ref_expression": "sum(d)"},
            ),
        ],
    )
    assert [(o.error, o.result) for o in res.outcomes] == [
        (None, "passed"),
        (None, "failed"),
        (None, "passed"),
        (None, "passed"),  # avg(flag) = 1: 0.5 < 2
        (None, "passed"),
    ]


# -- 4. field comparisons refuse types that do not compare ------------------------------------


@pytest.mark.parametrize("rule", ["equalToField", "lessThanField", "greaterThanField"])
def test_field_comparisons_refuse_integer_against_text_at_creation(eng, rule):
    fields = fields_of(eng)
    with pytest.raises(RuleDefinitionError) as e:
        validate_check(rule, ["id"], {"field_name": "s"}, None, fields)
    assert e.value.loc == ("properties", "field_name")
    assert str(e.value) == f"rule {rule} cannot compare field 'id' (Integral) with field 's' (String)"
    assert validate_check(rule, ["id"], {"field_name": "x"}, None, fields) == {"field_name": "x"}


# -- 5. isType Boolean on a BOOLEAN column (MariaDB: TINYINT(1)) and on 0/1 integers -----------


def test_is_type_boolean_passes_boolean_columns_and_zero_one_integers(eng):
    res = run(eng, [("isType", ["b"], {"field_type": "Boolean"}), ("isType", ["flag"], {"field_type": "Boolean"})])
    assert [(o.error, o.failed, sorted(r["id"] for r in o.examples)) for o in res.outcomes] == [
        (None, 0, []),
        (None, 1, [4]),  # flag 2 is no boolean
    ]
