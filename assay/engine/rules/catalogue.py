"""The rule catalogue as data (``GET /api/quality-checks/specifications/rules``).

Generated from the registered rule classes — name, description, field arity, allowed
field types, filterability, coverage support and the ``Properties`` pydantic model —
so it can never drift from what the engine accepts. Nothing here is a hand-kept list.

Shape of one entry (Qualytics' rule specification)::

    {"rule": "between", "rule_description": "...", "deprecated": false, "author": true,
     "fields": "single" | "multi" | "none", "fields_type_filter": ["Integral", ...],
     "filterable": true, "supports_coverage": true, "kind": "row" | "aggregate",
     "on_incremental": what the rule sees on an incremental scan,
     "replaced_by": null, "count": 0,
     "properties": [{"field": "min", "map_to": "min", "required": true, "title": "Min",
                     "type": "number", "values": null, "description": null}, ...]}

Property ``type`` is one of ``datastore, container, string, boolean, number, datetime,
list, enum, field, file`` (see :func:`property_type`).
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import types
import typing
from pathlib import Path
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel

from . import ALIASES, all_rules
from .base import Rule

#: The field types a check may apply to (Qualytics' ``FieldType`` without ``Unknown``).
FIELD_TYPES = ("Integral", "Fractional", "Boolean", "String", "Date", "Timestamp")
PROPERTY_TYPES = ("datastore", "container", "string", "boolean", "number", "datetime", "list", "enum", "field", "file")

_NONE = type(None)


def _strip(annotation: Any) -> list[Any]:
    """The members of a Union / Optional / Annotated annotation (without None)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _strip(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            out.extend(_strip(arg))
        return out
    return [] if annotation is _NONE else [annotation]


def _kind_of(tp: Any) -> tuple[str, list[Any] | None]:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "enum", list(typing.get_args(tp))
    if origin in (list, tuple, set, frozenset) or tp in (list, tuple, set, frozenset):
        return "list", None
    if origin is dict or tp is dict:
        return "string", None
    if isinstance(tp, type):
        if issubclass(tp, bool):
            return "boolean", None
        if issubclass(tp, (int, float, decimal.Decimal)):
            return "number", None
        if issubclass(tp, (dt.date, dt.datetime, dt.time)):  # datetime is a date subclass
            return "datetime", None
        if issubclass(tp, Path):
            return "file", None
        if issubclass(tp, enum.Enum):
            return "enum", [m.value for m in tp]
    return "string", None


def property_type(name: str, annotation: Any) -> tuple[str, list[Any] | None]:
    """The catalogue ``type`` (and enum ``values``) of property ``name`` with ``annotation``.

    Names decide first: ``ref_datastore_id`` → datastore, ``ref_container_id`` →
    container, ``field_name``/``*_field`` (a field of the container) → field. Then the
    annotation: ``Literal``/Enum → enum with its values, bool → boolean, int/float/Decimal
    → number, date/datetime → datetime, list → list, Path → file, anything else → string.
    A Union takes the first member's kind when all members agree; a Union of a number and
    a string or date is ``string`` (the value is typed as text).
    """
    if name in ("ref_datastore_id", "datastore_id"):
        return "datastore", None
    if name in ("ref_container_id", "container_id"):
        return "container", None
    members = _strip(annotation)
    kinds = [_kind_of(m) for m in members] or [("string", None)]
    names = {k for k, _ in kinds}
    if name in ("field_name", "ref_field_name", "ref_field") or (name.endswith("_field") and names <= {"string"}):
        return "field", None
    if len(names) == 1:
        kind = kinds[0][0]
        if kind == "enum":
            values: list[Any] = []
            for _, vs in kinds:
                values.extend(v for v in vs or [] if v not in values)
            return "enum", values
        return kind, None
    return "string", None  # e.g. a number or a text: typed as text


def _bound(info: Any, attribute: str) -> Any:
    """The ``ge`` / ``le`` bound of a property (e.g. ``maxLength.value`` ≥ 0), or None."""
    kind = {"ge": annotated_types.Ge, "le": annotated_types.Le}[attribute]
    return next((getattr(item, attribute) for item in info.metadata if isinstance(item, kind)), None)


def _properties(model: type[BaseModel]) -> list[dict[str, Any]]:
    out = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        kind, values = property_type(name, info.annotation)
        out.append(
            {
                "field": key,
                "map_to": key,
                "required": info.is_required(),
                "title": info.title or name.replace("_", " ").capitalize(),
                "type": kind,
                "values": values,
                "description": info.description,
                "minimum": _bound(info, "ge"),
                "maximum": _bound(info, "le"),
            }
        )
    return out


def specification(
    cls: type[Rule], *, name: str | None = None, deprecated: bool | None = None, count: int = 0
) -> dict[str, Any]:
    """The catalogue entry of rule class ``cls`` (under ``name`` when it is an alias)."""
    alias = name is not None and name != cls.name
    arity = cls.fields
    if arity == "none":
        types_allowed: list[str] = []
    else:
        types_allowed = list(cls.field_types) if cls.field_types else list(FIELD_TYPES)
    doc = (cls.description or "").strip()
    return {
        "rule": name or cls.name,
        "rule_description": doc,
        "deprecated": bool(deprecated if deprecated is not None else (alias or cls.deprecated)),
        "replaced_by": cls.name if alias else None,
        "author": bool(cls.author),
        "fields": arity,
        "fields_type_filter": types_allowed,
        "filterable": bool(cls.filterable),
        "supports_coverage": bool(cls.supports_coverage),
        "kind": cls.kind,
        "on_incremental": cls.on_incremental,
        "properties": _properties(cls.Properties),
        "count": count,
    }


def specifications(counts: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """Every registered rule type, sorted by name, then every alias (``isReplicaOf`` …)
    as a deprecated entry pointing at its replacement (``replaced_by``).

    ``counts``: checks per rule type (the ``count`` of each entry; 0 when absent).
    """
    counts = counts or {}
    rules = all_rules()
    out = [specification(cls, count=counts.get(name, 0)) for name, cls in rules.items()]
    for alias, target in sorted(ALIASES.items()):
        if target in rules and alias not in rules:
            out.append(specification(rules[target], name=alias, deprecated=True, count=counts.get(alias, 0)))
    return out
