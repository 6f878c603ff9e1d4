"""The contract every rule type implements.

A rule type is one small class registered by its API name (``@register``). It declares
what the catalogue shows (description, field arity, allowed field types, properties
model) and how it is computed:

* a :class:`RowRule` says which rows fail (``failing``): the scan plan sums that
  predicate for every row rule of a container in ONE aggregate query, then fetches
  example rows only for the checks that failed;
* an :class:`AggregateRule` contributes named aggregate ``metrics`` to the same query
  and ``assess``-es them afterwards (shape anomalies only).

NULL semantics (DESIGN.md): value rules skip NULLs, so their ``failing`` predicate is
``value IS NOT NULL AND NOT ok(value)``; only null-checking rules flag NULLs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict, ValidationError

FieldArity = Literal["single", "multi", "none"]

NUMERIC = ("Integral", "Fractional")
TEMPORAL = ("Date", "Timestamp")
TEXT = ("String",)


class RuleDefinitionError(ValueError):
    """A check definition does not fit its rule type.

    ``loc`` is the path of the offending input (e.g. ``("properties", "min")``) so the API
    can answer 422 naming the field.
    """

    def __init__(self, loc: tuple[str | int, ...], message: str):
        super().__init__(message)
        self.loc = loc
        self.message = message


class NoProperties(BaseModel):
    model_config = ConfigDict(extra="allow")


@dataclass
class CheckSpec:
    """What the engine needs of a quality check."""

    id: int
    rule_type: str
    fields: list[str] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    filter: str | None = None
    coverage: float | None = None
    #: Earlier measurements of this check (time-series rules), oldest first, as
    #: ``(measured_at, value)``; filled by ``operations.history.attach`` before a scan.
    history: list[tuple[Any, Any]] = field(default_factory=list)


def quote(name: str) -> str:
    return f"`{name}`"


def show(value: Any) -> str:
    """A source value as messages show it: NULL, 'text' quoted, numbers and dates plain."""
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class Rule:
    """Base of every rule type; see the module docstring."""

    name: ClassVar[str]
    description: ClassVar[str]
    fields: ClassVar[FieldArity] = "single"
    field_types: ClassVar[tuple[str, ...]] = ()  # empty: any type
    Properties: ClassVar[type[BaseModel]] = NoProperties
    filterable: ClassVar[bool] = True
    supports_coverage: ClassVar[bool] = True
    #: What the rule sees on an incremental scan (docs/semantics.md, "Incremental scans").
    on_incremental: ClassVar[str] = "checks the rows the scan reads (on an incremental scan, the new rows only)"

    def __init__(self, check: CheckSpec):
        self.check = check
        self.props = self.validate(check.fields, check.properties)

    @classmethod
    def validate(cls, fields: list[str], properties: dict[str, Any] | None) -> BaseModel:
        """Check the field count and parse ``properties``.

        Returns: the parsed properties model.
        Raises: RuleDefinitionError naming the offending input.
        """
        n = len(fields or [])
        seen: set = set()
        for i, name in enumerate(fields or []):
            if isinstance(name, str) and name in seen:
                raise RuleDefinitionError(("fields", i), f"field '{name}' is listed more than once")
            seen.add(name)
        if cls.fields == "single" and n != 1:
            raise RuleDefinitionError(("fields",), f"rule {cls.name} takes exactly one field, got {n}")
        if cls.fields == "multi" and n < 1:
            raise RuleDefinitionError(("fields",), f"rule {cls.name} takes one or more fields")
        if cls.fields == "none" and n:
            raise RuleDefinitionError(("fields",), f"rule {cls.name} takes no fields")
        try:
            return cls.Properties.model_validate(properties or {})
        except ValidationError as e:
            err = e.errors()[0]
            loc = ("properties", *[str(p) for p in err["loc"]])
            raise RuleDefinitionError(loc, f"{'.'.join(loc)}: {err['msg']}") from None

    @classmethod
    def check_values(cls, props: BaseModel, field_types: list[str]) -> None:
        """Check that the values of the parsed ``props`` fit the Assay types of the check's
        fields (in field order), when the container's fields are known. Nothing to check
        by default.

        Raises: RuleDefinitionError naming the offending property.
        """

    # helpers for messages
    @property
    def field_list(self) -> str:
        return ", ".join(quote(f) for f in self.check.fields)

    @property
    def field_name(self) -> str:
        return self.check.fields[0]


class RowRule(Rule):
    """A rule asserted row by row: record anomalies, rolled up past a threshold."""

    kind: ClassVar[str] = "row"

    def derived(self, t: ir.Table, key: str, where: ir.BooleanValue | None) -> dict[str, ir.Value]:
        """Extra per-row columns (window functions) the predicate needs, named ``key``-prefixed."""
        return {}

    def failing(self, t: ir.Table, key: str) -> ir.BooleanValue:
        """Boolean expression: true for a row that breaks the rule (NULL counts as not failing)."""
        raise NotImplementedError

    def record_message(self, row: dict[str, Any]) -> str:
        """Message of a record anomaly for ``row`` (the source row as a dict)."""
        value = row.get(self.field_name) if self.check.fields else None
        return f"The {self.field_list} value of {show(value)} {self.violation}"

    def shape_message(self, failed: int, total: int) -> str:
        """Message of a shape anomaly: ``failed`` of ``total`` filtered rows broke the rule."""
        pct = 100.0 * failed / total if total else 0.0
        return f"In {self.field_list}, {pct:.3f}% of {total} filtered records ({failed}) {self.shape_violation}"

    violation: ClassVar[str] = "breaks the rule"
    shape_violation: ClassVar[str] = "break the rule"


class AggregateRule(Rule):
    """A rule asserted on aggregates of the container: shape anomalies only."""

    kind: ClassVar[str] = "aggregate"
    supports_coverage: ClassVar[bool] = False
    on_incremental: ClassVar[str] = "computed over the rows the scan reads (on an incremental scan, the new rows only)"

    def metrics(self, t: ir.Table, where: ir.BooleanValue | None) -> dict[str, ir.Scalar]:
        """Named aggregate expressions to fuse into the container's scan query."""
        raise NotImplementedError

    def assess(self, values: dict[str, Any]) -> str | None:
        """Given the computed metrics, return the shape message when the rule fails, else None."""
        raise NotImplementedError
