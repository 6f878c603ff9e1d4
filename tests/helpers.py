"""Helpers the engine tests share: build quality checks, evaluate them, assert outcomes.

``check`` builds a ``CheckSpec`` without an id; ``run`` numbers the checks 1, 2, … in
order and evaluates them on one Ibis table in one ``evaluate`` call, as a scan does;
``expect`` asserts a row check's outcome, ``expect_aggregate`` an aggregate check's.
``rule_names()`` is the set of registered rule types (from the rule registry).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from assay.engine.plan import ContainerResult, evaluate
from assay.engine.rules import CheckSpec, all_rules

#: When the measurements given to ``check(..., history=[...])`` were taken.
HISTORY_AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def check(
    rule: str,
    fields: Iterable[str] = (),
    filter: str | None = None,
    coverage: float | None = None,
    history: Iterable[Any] | None = None,
    **properties: Any,
) -> CheckSpec:
    """A CheckSpec without an id yet (``run`` or ``numbered`` numbers them 1, 2, … in order).

    ``history``: earlier measurements of a time-series check, each taken at ``HISTORY_AT``."""
    spec = CheckSpec(0, rule, list(fields), properties, filter, coverage)
    spec.history = [(HISTORY_AT, v) for v in (history or [])]
    return spec


def numbered(*checks: CheckSpec) -> list[CheckSpec]:
    """The checks with ids 1, 2, … in order."""
    for i, c in enumerate(checks, start=1):
        c.id = i
    return list(checks)


def run(t, *checks: CheckSpec, example_limit: int = 10, resolver: Any = None) -> ContainerResult:
    """Number ``checks`` and evaluate them on the Ibis table ``t`` in one call."""
    return evaluate(t, numbered(*checks), example_limit=example_limit, resolver=resolver)


def by_check_id(result: ContainerResult) -> dict[int, Any]:
    """The outcomes of an evaluation by check id."""
    return {o.check_id: o for o in result.outcomes}


def expect(outcome, result: str, failed: int, asserted: int, example_ids: list[int] | None = None) -> None:
    """A row check's outcome: no error, ``result``, ``failed`` of ``asserted`` rows and, when
    given, the ids of its example rows in order."""
    assert outcome.error is None, outcome.error
    assert (outcome.result, outcome.failed, outcome.asserted) == (result, failed, asserted), outcome
    if example_ids is not None:
        assert [r["id"] for r in outcome.examples] == example_ids


def expect_aggregate(outcome, result: str, records: int, message: str | None = None) -> None:
    """An aggregate outcome: asserted on every record read; a failure counts them all."""
    assert outcome.error is None, outcome.error
    assert outcome.kind == "aggregate"
    assert (outcome.result, outcome.asserted, outcome.failed) == (result, records, records if result == "failed" else 0)
    assert outcome.message == message


def rule_names() -> set[str]:
    """The API names of every registered rule type (aliases excluded), from the registry:
    tests that go over every rule type take them from here."""
    return set(all_rules())


#: The rule types of the Qualytics API, by their API names: the specification the registry
#: is checked against (``rule_names() == QUALYTICS_RULE_TYPES``), so it is written out.
QUALYTICS_RULE_TYPES = frozenset(
    {
        "notNull",
        "anyNotNull",
        "notEmpty",
        "expectedValues",
        "requiredValues",
        "notNegative",
        "positive",
        "notFuture",
        "between",
        "betweenTimes",
        "matchesPattern",
        "unique",
        "afterDateTime",
        "beforeDateTime",
        "greaterThan",
        "lessThan",
        "greaterThanField",
        "lessThanField",
        "equalToField",
        "equalTo",
        "minLength",
        "maxLength",
        "minValue",
        "maxValue",
        "containsEmail",
        "containsUrl",
        "containsCreditCard",
        "containsSocialSecurityNumber",
        "isCreditCard",
        "isType",
        "isAddress",
        "distinctCount",
        "fieldCount",
        "expectedSchema",
        "sum",
        "minPartitionSize",
        "maxPartitionSize",
        "timeDistributionSize",
        "existsIn",
        "notExistsIn",
        "dataDiff",
        "isNotReplicaOf",
        "aggregationComparison",
        "satisfiesExpression",
        "predictedBy",
        "metric",
        "volumetric",
        "freshness",
        "absoluteChangeLimit",
        "relativeChangeLimit",
        "entityResolution",
        "userDefinedFunction",
    }
)
