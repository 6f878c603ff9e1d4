from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from . import register
from .base import AggregateRule
from .shape_support import Comparison, compare, wording

#: Prefix of the helper columns the scan plan adds; never a field of the container.
INTERNAL_PREFIX = "__assay"


def container_columns(t) -> dict:
    """Column name → Ibis dtype of the container table as read, without the plan's helper columns."""
    return {name: dtype for name, dtype in t.schema().items() if not name.startswith(INTERNAL_PREFIX)}


class FieldCountProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: int = Field(ge=0, description="the number of fields to compare with")
    comparison: Comparison = Field("eq", description="eq, ne, lt, lte, gt or gte (default eq)")


@register
class FieldCount(AggregateRule[FieldCountProperties]):
    """The number of fields of the container ⟨comparison⟩ ``value``.

    Definition: the columns of the container as the scan reads it — computed fields
    included. Read from the table's schema: it adds nothing to the scan query. Takes no
    fields and no filter.
    """

    name = "fieldCount"
    description = "Asserts on the number of fields in the container."
    fields = "none"
    filterable = False
    Properties = FieldCountProperties

    n_fields: int | None = None

    def metrics(self, t, where):
        if self.n_fields is None:  # the first call sees the container table itself
            self.n_fields = len(container_columns(t))
        return {}

    def assess(self, values):
        p = self.props
        n = self.n_fields or 0
        if compare(n, p.comparison, p.value):
            return None
        return f"The container has {n} fields, not {wording(p.comparison)} {p.value}"
