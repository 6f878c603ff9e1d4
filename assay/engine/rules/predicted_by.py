from __future__ import annotations

from pydantic import Field

from ..expressions import ExpressionError, to_ibis
from . import register
from ._compare import FiniteFloat, show_number
from .base import NUMERIC, RowRule
from .satisfies_expression import ExpressionProperties


class PredictedByProperties(ExpressionProperties):
    """``expression``: a numeric Spark-SQL expression over the container's fields (the
    prediction); ``tolerance`` (≥ 0, default 0): the largest absolute difference allowed."""

    tolerance: FiniteFloat = Field(default=0, ge=0)


@register
class PredictedBy(RowRule[PredictedByProperties]):
    """The value is within ``tolerance`` of the prediction ``expression`` computes for its
    row: a row fails when ``|value − prediction| > tolerance`` (a difference equal to the
    tolerance passes).

    A row where the value or the prediction is NULL is skipped. NaN on either side fails
    (the difference is NaN, which compares greater than every number on DuckDB and
    PostgreSQL). The expression must be numeric; otherwise the check is unasserted with
    the error.
    """

    name = "predictedBy"
    description = "Asserts that the actual value of a field falls within an expected predicted range."
    field_types = NUMERIC
    Properties = PredictedByProperties

    def failing(self, t, key):
        v = t[self.field_name]
        prediction = to_ibis(self.props.expression, t)
        if not prediction.type().is_numeric():
            raise ExpressionError(f"the prediction must be numeric, but it evaluates to {prediction.type()}")
        if not v.type().is_numeric():
            raise TypeError(f"predictedBy needs a numeric field, {self.field_name} is {v.type()}")
        return v.notnull() & prediction.notnull() & ((v - prediction).abs() > self.props.tolerance)

    @property
    def violation(self) -> str:  # type: ignore[override]
        return f"is not within {show_number(self.props.tolerance)} of its prediction {self.props.expression}"

    @property
    def shape_violation(self) -> str:  # type: ignore[override]
        return f"are not within {show_number(self.props.tolerance)} of their prediction {self.props.expression}"
