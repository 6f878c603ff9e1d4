from __future__ import annotations

from typing import Literal, cast

from pydantic import BaseModel, ConfigDict, Field

from . import register
from .base import AggregateRule, RuleDefinitionError, quote
from .field_count import container_columns

FieldTypeName = Literal["Integral", "Fractional", "Boolean", "String", "Date", "Timestamp"]


class ExpectedSchemaProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field_types: dict[str, FieldTypeName] = Field(
        default_factory=dict,
        description="optional expected type per listed field: Integral, Fractional, Boolean, String, Date or Timestamp",
    )
    allow_other_fields: bool = Field(
        True, description="whether the container may have fields not listed (default true)"
    )


@register
class ExpectedSchema(AggregateRule[ExpectedSchemaProperties]):
    """Every listed field exists (exact, case-sensitive name), with the type given in
    ``field_types`` when there is one; with ``allow_other_fields`` false, no other field exists.

    Types are Assay field types of the columns as read (``sources.base.field_type_of``:
    DECIMAL is Fractional). Computed fields count as fields. Read from the table's schema:
    it adds nothing to the scan query. A listed field that is missing fails the check (it
    does not make it unasserted). Takes no filter.
    """

    name = "expectedSchema"
    description = "Asserts that the listed fields exist, with the expected types, and optionally no others."
    fields = "multi"
    filterable = False
    fields_must_exist = False  # plan.py: a missing field is this rule's finding, not an error
    Properties = ExpectedSchemaProperties

    schema: dict | None = None

    @classmethod
    def validate(cls, fields, properties, *, fields_later=False):
        props = cast(ExpectedSchemaProperties, super().validate(fields, properties, fields_later=fields_later))
        if fields_later and not fields:
            return props
        for name in props.field_types:
            if name not in fields:
                raise RuleDefinitionError(
                    ("properties", "field_types", name),
                    f"properties.field_types: '{name}' is not one of the check's fields",
                )
        return props

    def metrics(self, t, where):
        from ...sources.base import field_type_of

        if self.schema is None:  # the first call sees the container table itself
            self.schema = {n: field_type_of(d) for n, d in container_columns(t).items()}
        return {}

    def assess(self, values):
        schema = self.schema or {}
        expected = list(dict.fromkeys(self.check.fields))
        problems = []
        missing = [f for f in expected if f not in schema]
        if missing:
            problems.append("missing " + ", ".join(quote(f) for f in missing))
        wrong = [
            f"{quote(f)} is {schema[f]}, not {want}"
            for f, want in self.props.field_types.items()
            if f in schema and schema[f] != want
        ]
        problems.extend(wrong)
        if not self.props.allow_other_fields:
            extra = [f for f in schema if f not in expected]
            if extra:
                problems.append("unexpected " + ", ".join(quote(f) for f in extra))
        if not problems:
            return None
        return "The container does not have the expected schema: " + "; ".join(problems)
