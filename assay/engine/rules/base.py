"""The contract every rule type implements: everything the engine, the scan and the
catalogue read of a rule is declared here, typed, with its default.

A rule type is one small class registered by its API name (``@register``), generic over
its properties model (``class Between(RowRule[BetweenProperties])``, ``Properties =
BetweenProperties``: ``self.props`` is then a parsed ``BetweenProperties``). It declares

* **what the catalogue shows** (``rules.catalogue``): ``name``, ``description``, field
  arity ``fields``, allowed ``field_types``, the ``Properties`` model, ``filterable``,
  ``supports_coverage``, ``on_incremental``, ``deprecated``, ``author``, ``kind``;
* **how it is computed**:

  - a :class:`RowRule` says which rows fail (``failing``, with window columns from
    ``derived``): the scan plan sums that predicate for every row rule of a container in
    ONE aggregate query, then fetches example rows only for the checks that failed;
  - an :class:`AggregateRule` contributes named aggregate ``metrics`` to the same query
    and ``assess``-es them afterwards (shape anomalies only; ``failed_records`` may
    count the records behind the anomaly);

* **how the engine drives it** (``engine.plan``): ``fields_must_exist`` (a missing field
  is an error before the rule runs), ``needs_reference`` (``bind`` receives the reference
  container first), ``apart`` (the rule runs its own queries, ``evaluate_apart``,
  instead of joining the fused query);
* **what is kept between scans** (``operations.history``): ``keeps_history``, and after
  ``assess`` the ``measurement`` taken at ``measured_at``.

NULL semantics (docs/semantics.md): value rules skip NULLs, so their ``failing``
predicate is ``value IS NOT NULL AND NOT ok(value)``; only null-checking rules flag NULLs.

Adding a rule type: one module in this package with one class deriving from
:class:`RowRule` or :class:`AggregateRule`, decorated with ``@register``; override only
the hooks that differ from the defaults below.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Literal, Protocol, TypeVar, cast

import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict, ValidationError

#: How many fields a rule takes: exactly one, one or more, or none (container-level).
FieldArity = Literal["single", "multi", "none"]
#: How a rule is asserted: row by row (record and shape anomalies) or on aggregates (shape only).
RuleKind = Literal["row", "aggregate"]

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
    """The default properties model: any property is accepted and ignored."""

    model_config = ConfigDict(extra="allow")


#: The properties model of a rule class (``Rule[P]``: ``props`` is a ``P``).
P = TypeVar("P", bound=BaseModel)


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
    #: The scan's ``check_variables``, substituted for ``{{ name }}`` in the filter and text
    #: properties when the check is compiled (``engine.variables``).
    variables: dict[str, Any] | None = None


class ReferenceContainer(Protocol):
    """A reference container as ``Rule.bind`` receives it (``operations.resolver.Reference``)."""

    #: the reference container as an Ibis table
    table: ir.Table
    #: ``datastore.container``, for messages
    label: str
    #: True when the reference is on the scanned table's Ibis connection (one query for both)
    same_backend: bool


@dataclass
class ApartResult:
    """What a rule computed with its own queries (``Rule.evaluate_apart``).

    Row rules fill ``asserted`` (rows seen after the filter), ``failed`` and ``examples``
    (an Ibis relation with the scanned table's columns holding failing rows, or None);
    aggregate rules fill ``metrics`` (given to ``assess``).
    """

    asserted: int = 0
    failed: int = 0
    metrics: dict[str, Any] | None = None
    examples: ir.Table | None = None


#: The progress hook ``evaluate_apart`` calls before each of its queries, with a label;
#: it may raise to abort the scan.
OnQuery = Callable[[str], None]


def quote(name: str) -> str:
    """A field name as messages show it: ```name```."""
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


class Rule(Generic[P]):
    """Base of every rule type, generic over its properties model ``P``; see the module
    docstring. Constructed per check and per scan: ``Rule(check)`` parses the check's
    properties (raising :class:`RuleDefinitionError`)."""

    # -- what the catalogue shows ------------------------------------------------------------------
    #: The API name (``notNull``, ``between``, …), unique in the catalogue.
    name: ClassVar[str]
    #: One sentence for the catalogue (``rule_description``).
    description: ClassVar[str]
    #: How many fields the rule takes.
    fields: ClassVar[FieldArity] = "single"
    #: A rule of arity ``none`` that still accepts fields naming what it reads (they must
    #: exist in the container), e.g. the fields a satisfiesExpression's expression uses.
    fields_optional: ClassVar[bool] = False
    #: The rule compares each field with the field named by ``props.field_name`` (their
    #: types must compare: checked at creation, ``engine.validation``).
    compares_fields: ClassVar[bool] = False
    #: The Assay field types (``Integral``, ``Fractional``, ``String``, ``Date``,
    #: ``Timestamp``, ``Boolean``) the rule applies to; empty: any type.
    field_types: ClassVar[tuple[str, ...]] = ()
    #: The properties model: ``props`` is an instance of it (the ``P`` of ``Rule[P]``).
    Properties: ClassVar[type[BaseModel]] = NoProperties
    #: Whether a check of this rule may carry a ``filter`` (a Spark SQL predicate).
    filterable: ClassVar[bool] = True
    #: Whether a check of this rule may pass with a ``coverage`` below 1 (row rules).
    supports_coverage: ClassVar[bool] = True
    #: What the rule sees on an incremental scan (docs/semantics.md, "Incremental scans").
    on_incremental: ClassVar[str] = "checks the rows the scan reads (on an incremental scan, the new rows only)"
    #: Shown as deprecated in the catalogue (aliases always are).
    deprecated: ClassVar[bool] = False
    #: Users may author checks of this rule (False: inferred only).
    author: ClassVar[bool] = True
    #: How the rule is asserted (set by :class:`RowRule` / :class:`AggregateRule`).
    kind: ClassVar[RuleKind] = "row"

    # -- how the engine drives it (``engine.plan``) -------------------------------------------------
    #: A field of the check missing from the container is an error raised before the rule
    #: runs. False for rules whose finding is the missing field itself (expectedSchema).
    fields_must_exist: ClassVar[bool] = True
    #: The rule compares with a reference container: the plan resolves
    #: ``props.ref_datastore_id`` / ``props.ref_container_id`` and calls :meth:`bind` first.
    needs_reference: ClassVar[bool] = False
    #: The rule runs with its own queries (:meth:`evaluate_apart`) instead of joining the
    #: container's fused query. A class attribute, or set per check by :meth:`bind` (a
    #: reference on another backend).
    apart: bool = False

    # -- what is kept between scans (``operations.history``) ---------------------------------------
    #: Each scan's :attr:`measurement` is stored, and ``check.history`` holds the earlier
    #: ones (oldest first) when the rule runs.
    keeps_history: ClassVar[bool] = False
    #: This scan's measurement, JSON-able, set by ``assess`` (None: nothing to record).
    measurement: Any = None
    #: When :attr:`measurement` was taken (UTC; None: now, when it is recorded).
    measured_at: dt.datetime | None = None

    #: The parsed properties of the check.
    props: P

    def __init__(self, check: CheckSpec):
        self.check = check
        self.props = cast(P, self.validate(check.fields, check.properties))

    @classmethod
    def validate(cls, fields: list[str], properties: dict[str, Any] | None, *, fields_later: bool = False) -> BaseModel:
        """Check the field count and parse ``properties``.

        ``fields_later``: a check template without fields (its checks name them, and the
        count is checked then): an empty ``fields`` is accepted whatever the rule takes.

        Returns: the parsed properties model.
        Raises: RuleDefinitionError naming the offending input.
        """
        n = len(fields or [])
        if fields_later and not n:
            return cls._properties(properties)
        seen: set = set()
        for i, name in enumerate(fields or []):
            if isinstance(name, str) and name in seen:
                raise RuleDefinitionError(("fields", i), f"field '{name}' is listed more than once")
            seen.add(name)
        if cls.fields == "single" and n != 1:
            raise RuleDefinitionError(("fields",), f"rule {cls.name} takes exactly one field, got {n}")
        if cls.fields == "multi" and n < 1:
            raise RuleDefinitionError(("fields",), f"rule {cls.name} takes one or more fields")
        if cls.fields == "none" and n and not cls.fields_optional:
            raise RuleDefinitionError(("fields",), f"rule {cls.name} takes no fields")
        return cls._properties(properties)

    @classmethod
    def _properties(cls, properties: dict[str, Any] | None) -> BaseModel:
        """``properties`` parsed into :attr:`Properties`. Raises: RuleDefinitionError."""
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

    def bind(self, reference: ReferenceContainer, t: ir.Table) -> None:
        """Receive the reference container (rules with :attr:`needs_reference`), before
        anything else is asked of the rule; ``t`` is the checked table. The default
        refuses: a rule that needs a reference must override it.

        Raises: NotImplementedError.
        """
        raise NotImplementedError(f"rule {self.name} does not take a reference container")

    def evaluate_apart(
        self,
        t: ir.Table,
        where: ir.BooleanValue | None,
        *,
        batch_size: int,
        example_limit: int,
        on_query: OnQuery,
    ) -> ApartResult:
        """Compute the rule with its own queries (rules with :attr:`apart`), over the rows
        of ``t`` passing ``where``: at most ``batch_size`` rows in Python at a time, at
        most ``example_limit`` example rows, ``on_query(label)`` before each query.

        Returns: the counts (row rules) or metrics (aggregate rules).
        Raises: whatever the engine raises; NotImplementedError by default.
        """
        raise NotImplementedError(f"rule {self.name} does not run apart")

    # helpers for messages
    @property
    def field_list(self) -> str:
        """The check's fields as messages show them: ```a`, `b```."""
        return ", ".join(quote(f) for f in self.check.fields)

    @property
    def field_name(self) -> str:
        """The check's (first) field."""
        return self.check.fields[0]


class RowRule(Rule[P]):
    """A rule asserted row by row: record anomalies, rolled up past a threshold.

    Implement :meth:`failing`; optionally :meth:`derived` (window columns), the wording
    ``violation`` / ``shape_violation``, or the messages themselves."""

    kind = "row"

    def derived(self, t: ir.Table, key: str, where: ir.BooleanValue | None) -> dict[str, ir.Value]:
        """Extra per-row columns (window functions) the predicate needs, named ``key``-prefixed."""
        return {}

    def failing(self, t: ir.Table, key: str) -> ir.BooleanValue:
        """Boolean expression: true for a row that breaks the rule (NULL counts as not failing)."""
        raise NotImplementedError

    def grouped_failures(self, t: ir.Table, where: ir.BooleanValue | None) -> ir.Table | None:
        """For a rule whose failures are a property of groups of rows (``unique``): a relation
        with one row per failing group, with the failing row count of the group in column
        ``n`` (a ``GROUP BY … HAVING count(*) > 1``), over the rows of ``t`` passing
        ``where``. The plan then fuses ``sum(n)`` into the container's aggregate query as a
        scalar subquery and takes example rows from :meth:`failing_rows` — no window column
        carries every row through the fused query. None (the default): the plan sums
        :meth:`failing` row by row."""
        return None

    def failing_rows(self, t: ir.Table, where: ir.BooleanValue | None, groups: ir.Table) -> ir.Table:
        """The failing rows of ``t`` (among those passing ``where``), with ``t``'s columns,
        for a rule that defines :meth:`grouped_failures`; ``groups`` is what
        :meth:`grouped_failures` returned for ``t`` and ``where`` (possibly computed once
        into a temporary table, ``Dialect.caches_relations``).

        Raises: NotImplementedError by default."""
        raise NotImplementedError

    def record_message(self, row: dict[str, Any]) -> str:
        """Message of a record anomaly for ``row`` (the source row as a dict)."""
        value = row.get(self.field_name) if self.check.fields else None
        return f"The {self.field_list} value of {show(value)} {self.violation}"

    def shape_message(self, failed: int, total: int) -> str:
        """Message of a shape anomaly: ``failed`` of ``total`` filtered rows broke the rule."""
        pct = 100.0 * failed / total if total else 0.0
        return f"In {self.field_list}, {pct:.3f}% of {total} filtered records ({failed}) {self.shape_violation}"

    #: How a failing value breaks the rule, after "The `f` value of X " (record message).
    violation: ClassVar[str] = "breaks the rule"
    #: How failing records break the rule, after "… filtered records (n) " (shape message).
    shape_violation: ClassVar[str] = "break the rule"


class AggregateRule(Rule[P]):
    """A rule asserted on aggregates of the container: shape anomalies only.

    Implement :meth:`metrics` and :meth:`assess`; optionally :meth:`failed_records`."""

    kind = "aggregate"
    supports_coverage: ClassVar[bool] = False
    on_incremental: ClassVar[str] = "computed over the rows the scan reads (on an incremental scan, the new rows only)"

    def metrics(self, t: ir.Table, where: ir.BooleanValue | None) -> dict[str, ir.Scalar]:
        """Named aggregate expressions to fuse into the container's scan query."""
        raise NotImplementedError

    def assess(self, values: dict[str, Any]) -> str | None:
        """Given the computed metrics, return the shape message when the rule fails, else None."""
        raise NotImplementedError

    def failed_records(self, metrics: dict[str, Any]) -> int | None:
        """How many records the shape anomaly of a failed check stands for, from the
        computed ``metrics``; None (the default): every record the scan read."""
        return None
