from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator

from ..expressions import ExpressionError, parse
from . import register
from .base import RowRule


class ExpressionProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expression: str

    @field_validator("expression")
    @classmethod
    def _parses(cls, v: str) -> str:
        try:
            parse(v)
        except ExpressionError as e:
            raise ValueError(str(e)) from None
        return v


@register
class SatisfiesExpression(RowRule[ExpressionProperties]):
    """Each row satisfies the boolean Spark-SQL ``expression``.

    A row fails when the expression is FALSE; when it is NULL (unknown, e.g. a NULL
    operand) the row is skipped, as a SQL CHECK constraint treats it. Add notNull
    checks for the operands to flag missing values. ``fields`` is optional: the fields the
    expression uses, as Qualytics checks (and their exports) carry them; each must exist.
    """

    name = "satisfiesExpression"
    description = "Evaluates the given expression (any valid Spark SQL) for each record."
    fields = "none"
    fields_optional = True
    Properties = ExpressionProperties
    violation = "does not satisfy the expression"

    def failing(self, t, key):
        from ..expressions import to_ibis_predicate

        return ~to_ibis_predicate(self.props.expression, t)

    def record_message(self, row):
        return f"The record does not satisfy the expression: {self.props.expression}"

    def shape_message(self, failed, total):
        pct = 100.0 * failed / total if total else 0.0
        return (
            f"{pct:.3f}% of {total} filtered records ({failed}) do not satisfy the expression: {self.props.expression}"
        )
