from __future__ import annotations

import operator
from typing import Any, Literal

from pydantic import Field, field_validator

from ..expressions import ExpressionError, parse, to_ibis_aggregate, to_ibis_predicate
from . import register
from ._reference import ApartResult, CrossContainerMixin, ReferenceProperties
from .base import AggregateRule, show

_OPS = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}
_TEXT = {
    "eq": "equal to",
    "ne": "different from",
    "lt": "less than",
    "lte": "less than or equal to",
    "gt": "greater than",
    "gte": "greater than or equal to",
}


def _aggregate_text(v: str) -> str:
    try:
        tree = parse(v)
    except ExpressionError as e:
        raise ValueError(str(e)) from None
    from sqlglot import exp

    if tree.find(exp.AggFunc) is None:
        raise ValueError("must be an aggregate expression such as sum(field) or count(*)")
    return v


class AggregationComparisonProperties(ReferenceProperties):
    """``expression`` (an aggregate Spark-SQL expression over the checked container),
    ``comparison`` (eq, ne, lt, lte, gt, gte), ``ref_expression`` (an aggregate over the
    reference container), optional ``ref_filter`` (a boolean over the reference)."""

    target_expression: str = Field(alias="expression", description="aggregate over this container, e.g. sum(amount)")
    comparison: Literal["eq", "ne", "lt", "lte", "gt", "gte"]
    ref_expression: str = Field(description="aggregate over the reference container, e.g. sum(total)")
    ref_filter: str | None = Field(None, description="boolean condition on the reference rows")

    @field_validator("target_expression", "ref_expression")
    @classmethod
    def _aggregates(cls, v: str) -> str:
        return _aggregate_text(v)

    @field_validator("ref_filter")
    @classmethod
    def _filter(cls, v):
        if v is not None and v.strip():
            try:
                parse(v)
            except ExpressionError as e:
                raise ValueError(str(e)) from None
            return v
        return None


@register
class AggregationComparison(
    CrossContainerMixin[AggregationComparisonProperties], AggregateRule[AggregationComparisonProperties]
):
    """``expression`` over the (filtered) container ⟨comparison⟩ ``ref_expression`` over
    the reference container (rows matching ``ref_filter``).

    Both are aggregate Spark-SQL expressions (``sum``, ``avg``, ``min``, ``max``,
    ``count``, ``count(distinct …)``, ``stddev``, ``variance`` and arithmetic over them),
    translated with sqlglot into Ibis. The two values compare as numbers (``eq``/``ne``
    exactly). A NULL on either side (e.g. ``sum`` over no rows) fails the check, as NULL
    cannot be compared. Same backend: the reference aggregate is a scalar subquery of the
    fused query; two backends: one aggregate query on each engine.
    """

    name = "aggregationComparison"
    description = (
        "Verifies that the specified comparison operator evaluates true when applied to two aggregation expressions."
    )
    fields = "none"
    Properties = AggregationComparisonProperties

    def _reference_value(self):
        ref = self.ref
        where = to_ibis_predicate(self.props.ref_filter, ref) if self.props.ref_filter else None
        return to_ibis_aggregate(self.props.ref_expression, ref, where)

    def metrics(self, t, where):
        return {
            "value": to_ibis_aggregate(self.props.target_expression, t, where),
            "ref_value": self._reference_value().as_scalar(),
        }

    def evaluate_apart(self, t, where, *, batch_size, example_limit, on_query):
        value = to_ibis_aggregate(self.props.target_expression, t, where)
        ref_value = self._reference_value()
        on_query("aggregate of the checked container")
        mine = t.aggregate(value=value).to_pyarrow().to_pylist()[0]["value"]
        on_query(f"aggregate of {self.ref_label}")
        theirs = self.ref.aggregate(value=ref_value).to_pyarrow().to_pylist()[0]["value"]
        return ApartResult(metrics={"value": mine, "ref_value": theirs})

    def assess(self, values: dict[str, Any]) -> str | None:
        p = self.props
        mine, theirs = values.get("value"), values.get("ref_value")
        left = f"{p.target_expression} = {show(mine)}"
        right = f"{p.ref_expression} = {show(theirs)} in {self.ref_label}"
        if mine is None or theirs is None:
            return f"The aggregate {left} cannot be compared with {right}: NULL"
        if _OPS[p.comparison](mine, theirs):
            return None
        return f"The aggregate {left} is not {_TEXT[p.comparison]} {right}"
