"""Form specifications generated from Pydantic models: what a client needs to draw a form for
a connection type or a computed-field transformation (Qualytics' ``…/specifications``
endpoints), one entry per model field.

Each model field becomes ``{field, map_to, required, title, type, values, secret, minimum,
maximum, placeholder, default, info, connection_property}``: ``type`` is ``string``,
``integer``, ``number``, ``boolean`` or ``select`` (a ``Literal``: its ``values``);
``secret`` for ``SecretStr`` fields; ``minimum``/``maximum`` from ``ge``/``le``; ``info`` the
field's description; ``map_to`` the key of the request body the value goes to and
``connection_property`` whether that key sits inside the body's ``connection`` object
(``json_schema_extra={"connection_property": False}`` on fields of the datastore itself,
such as ``database``).
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

_SCALARS: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean", SecretStr: "string"}


def _unwrap(annotation: Any) -> Any:
    """``X | None`` → ``X``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _bound(info: FieldInfo, attribute: str) -> Any:
    """The ``ge`` / ``le`` bound of a field, or None."""
    kind = {"ge": annotated_types.Ge, "le": annotated_types.Le}[attribute]
    return next((getattr(item, attribute) for item in info.metadata if isinstance(item, kind)), None)


def field_spec(name: str, info: FieldInfo) -> dict[str, Any]:
    """The form entry of one model field (see the module docstring)."""
    annotation = _unwrap(info.annotation)
    key = info.alias or name
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    values = None
    if typing.get_origin(annotation) is Literal:
        kind, values = "select", [str(v) for v in typing.get_args(annotation)]
    else:
        kind = _SCALARS.get(annotation, "string")
    default = None if info.is_required() or info.default is None else info.default
    return {
        "field": key,
        "map_to": key,
        "required": info.is_required(),
        "title": info.title or key.replace("_", " ").capitalize(),
        "type": kind,
        "values": values,
        "secret": annotation is SecretStr,
        "minimum": _bound(info, "ge"),
        "maximum": _bound(info, "le"),
        "placeholder": extra.get("placeholder"),
        "default": default,
        "info": info.description,
        "connection_property": bool(extra.get("connection_property", True)),
    }


def spec_properties(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The form entries of every field of ``model``, in declaration order."""
    return [field_spec(name, info) for name, info in model.model_fields.items()]
