"""Validate a quality-check definition against its container's fields, before storing it."""

from __future__ import annotations

import ibis

from . import variables
from .expressions import ExpressionError, to_ibis, to_ibis_predicate
from .rules import RuleDefinitionError, get_rule


def validate_check(
    rule_type: str,
    fields: list[str],
    properties: dict | None,
    filter_: str | None,
    container_fields: dict[str, tuple[str, str]],
    coverage: float | None = None,
    *,
    fields_later: bool = False,
) -> dict:
    """Check a definition and return its properties as given (stored verbatim).

    Args:
        container_fields: field name → (Assay field type, native Ibis type string). When
            empty (container not synced yet) field names and types are not checked.
        fields_later: a check template (container-independent): empty ``fields`` are
            accepted whatever the rule takes; they are checked on the checks made from it.

    Raises:
        RuleDefinitionError: with ``loc`` naming the input at fault (``rule``, ``fields``,
            ``properties.<name>``, ``filter``, ``coverage``) and a message saying why.
    """
    samples = variables.SAMPLES if variables.used(filter_, properties) else (None,)
    first: RuleDefinitionError | None = None
    for value in samples:
        # scan variables ({{ name }}) are checked with sample values (engine.variables): the
        # definition is valid when one of them fits
        try:
            _validate(
                rule_type,
                fields,
                variables.sample_properties(properties, value),
                variables.sample(filter_, value),
                container_fields,
                coverage,
                fields_later,
            )
            return properties or {}
        except RuleDefinitionError as e:
            first = first or e
    assert first is not None
    raise first


def _validate(
    rule_type: str,
    fields: list[str],
    properties: dict | None,
    filter_: str | None,
    container_fields: dict[str, tuple[str, str]],
    coverage: float | None,
    fields_later: bool = False,
) -> None:
    try:
        rule = get_rule(rule_type)
    except KeyError:
        raise RuleDefinitionError(("rule",), f"unknown rule type '{rule_type}'") from None
    props = rule.validate(fields, properties, fields_later=fields_later)
    if coverage is not None and not rule.supports_coverage and coverage < 1:
        raise RuleDefinitionError(("coverage",), f"rule {rule_type} does not support coverage")
    if filter_ is not None and str(filter_).strip() and not rule.filterable:
        raise RuleDefinitionError(("filter",), f"rule {rule_type} does not take a filter")
    if not container_fields:
        return
    for i, name in enumerate(fields):
        if name not in container_fields:
            if not rule.fields_must_exist:
                continue  # expectedSchema: a missing field is what the scan reports
            raise RuleDefinitionError(("fields", i), f"field '{name}' does not exist in the container")
        ftype = container_fields[name][0]
        if rule.field_types and ftype not in rule.field_types:
            raise RuleDefinitionError(
                ("fields", i),
                f"field '{name}' is {ftype}; rule {rule_type} applies to {' or '.join(rule.field_types)} fields",
            )
    rule.check_values(props, [container_fields[name][0] for name in fields if name in container_fields])
    table = ibis.table({n: _dtype(native) for n, (_t, native) in container_fields.items()}, name="container")
    if filter_ is not None and str(filter_).strip():
        try:
            to_ibis_predicate(filter_, table)
        except ExpressionError as e:
            raise RuleDefinitionError(("filter",), f"filter: {e}") from None
    for name in ("expression",):
        text = getattr(props, name, None)
        if isinstance(text, str):
            try:
                if rule_type == "satisfiesExpression":
                    to_ibis_predicate(text, table)
                else:
                    to_ibis(text, table)
            except ExpressionError as e:
                raise RuleDefinitionError(("properties", name), f"properties.{name}: {e}") from None
    field_name = getattr(props, "field_name", None)
    if isinstance(field_name, str) and field_name not in container_fields:
        raise RuleDefinitionError(("properties", "field_name"), f"field '{field_name}' does not exist in the container")
    if rule.compares_fields and isinstance(field_name, str):
        _check_comparable(rule_type, fields, field_name, container_fields)


#: Field types that compare with each other (numbers with numbers, dates with timestamps).
FAMILIES = {"Integral": "number", "Fractional": "number", "Date": "time", "Timestamp": "time", "String": "text"}


def _check_comparable(rule_type: str, fields: list[str], other: str, container_fields: dict) -> None:
    """A rule comparing each field with field ``other`` needs types that compare (numbers,
    dates/timestamps, text, booleans each among themselves); an unknown type is not judged.

    Raises: RuleDefinitionError naming ``properties.field_name``."""
    other_type = container_fields[other][0]
    for name in fields:
        own = container_fields[name][0]
        a, b = FAMILIES.get(own, own), FAMILIES.get(other_type, other_type)
        if "Unknown" not in (own, other_type) and a != b:
            raise RuleDefinitionError(
                ("properties", "field_name"),
                f"rule {rule_type} cannot compare field '{name}' ({own}) with field '{other}' ({other_type})",
            )


def _dtype(native: str):
    try:
        return ibis.dtype(native)
    except Exception:  # noqa: BLE001 - unknown native types validate as strings
        return ibis.dtype("string")
