"""Deserialise a JSON answer the way Qualytics' generated Python client does, from the table of
its models in ``qualytics_client_models.json`` (``scripts/qualytics_client_models.py``), and
list every place where the client would raise instead of stopping at the first.

* swagger-codegen models (2023): a required key missing or null raises; a value outside the
  setter's ``allowed_values`` raises; ``int`` / ``float`` are built with ``int(x)`` /
  ``float(x)`` (a non-numeric string raises), ``datetime`` / ``date`` parsed from a string;
  a model without attributes takes anything.
* pydantic models (2025): a key not ``Optional`` missing or null raises; ``Strict*`` types take
  exactly their JSON type (``StrictFloat`` an int too only in ``Union[StrictFloat, StrictInt]``);
  an enum validator or enum model refuses other values; a oneOf / anyOf wrapper takes what one
  of its members takes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from functools import cache
from pathlib import Path
from typing import Any

TABLE = Path(__file__).with_name("qualytics_client_models.json")


@cache
def table() -> dict:
    return json.loads(TABLE.read_text())


def endpoint_type(method: str, path: str) -> str | None:
    """The response type the client declares for ``method path`` (path as the client spells it)."""
    return next((rt for m, p, rt in table()["endpoints"] if (m, p) == (method, path)), None)


def _split(args: str) -> list[str]:
    """Top-level comma-separated parts of a type's arguments."""
    parts, depth, cur = [], 0, ""
    for ch in args:
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
            continue
        depth += ch in "[(" and 1 or 0
        depth -= ch in "])" and 1 or 0
        cur += ch
    return [*parts, cur.strip()] if cur.strip() else parts


def _datetime(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def errors(value: Any, type_: str, where: str = "$") -> list[str]:
    """Where the client would raise deserialising ``value`` as ``type_`` (empty: it would not)."""
    t = type_.strip()
    if value is None:
        return []  # whether None is allowed is decided by the attribute holding it
    m = re.fullmatch(r"(?:list|List)\[(.*)\]", t)
    if m:
        if not isinstance(value, list):
            return [f"{where}: {value!r} is not a list"]
        return [e for i, v in enumerate(value) for e in errors(v, m.group(1), f"{where}[{i}]")]
    m = re.fullmatch(r"(?:dict\(|Dict\[)\s*\w+\s*,\s*(.*)[)\]]", t)
    if m:
        if not isinstance(value, dict):
            return [f"{where}: {value!r} is not an object"]
        return [e for k, v in value.items() for e in errors(v, m.group(1), f"{where}.{k}")]
    m = re.fullmatch(r"Optional\[(.*)\]", t)
    if m:
        return errors(value, m.group(1), where)
    m = re.fullmatch(r"Annotated\[(.*)\]", t)
    if m:
        return errors(value, _split(m.group(1))[0], where)
    m = re.fullmatch(r"Union\[(.*)\]", t)
    if m:
        options = _split(m.group(1))
        if set(options) == {"StrictFloat", "StrictInt"}:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            return [] if ok else [f"{where}: {value!r} is not a number"]
        found = [errors(value, o, where) for o in options]
        return [] if any(not f for f in found) else found[0]
    simple = {
        "StrictInt": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "StrictStr": lambda v: isinstance(v, str),
        "StrictBool": lambda v: isinstance(v, bool),
        "StrictFloat": lambda v: isinstance(v, float),
        "int": lambda v: _number(int, v),
        "float": lambda v: _number(float, v),
        "str": lambda v: True,
        "bool": lambda v: True,
        "object": lambda v: True,
        "Any": lambda v: True,
        "datetime": _datetime,
        "date": lambda v: isinstance(v, str) and _date(v),
        "UUID": lambda v: isinstance(v, str) and _uuid(v),
    }
    if t in simple:
        return [] if simple[t](value) else [f"{where}: {value!r} is not {t}"]
    model = table()["models"].get(t)
    if model is None:
        return []  # a type the table does not keep: the client takes it as it is
    if "enum" in model:
        return [] if value in model["enum"] else [f"{where}: {value!r} is not one of {t} {model['enum']}"]
    if "any_of" in model:
        found = [errors(value, o, where) for o in model["any_of"]]
        if any(not f for f in found):
            return []
        return [f"{where}: matches none of {t}'s {model['any_of']}: {'; '.join(f[0] for f in found)}"]
    if not model["attrs"]:
        return []
    if not isinstance(value, dict):
        return [f"{where}: {value!r} is not a {t} object"]
    out = []
    for key, (attr_type, not_null, allowed) in model["attrs"].items():
        v = value.get(key)
        if v is None:
            if not_null:
                out.append(f"{where}.{key}: required by {t}, missing or null")
            continue
        if allowed is not None and (
            not set(v) <= set(allowed) if isinstance(v, list) else v not in allowed  # a list: each of them
        ):
            out.append(f"{where}.{key}: {v!r} is not one of {t}.{key}'s {allowed}")
            continue
        out.extend(errors(v, attr_type, f"{where}.{key}"))
    return out


def _number(kind: type, v: Any) -> bool:
    try:
        kind(v)
    except (TypeError, ValueError):
        return isinstance(v, (dict, list))  # swagger-codegen keeps the value on a TypeError
    return True


def _date(v: str) -> bool:
    try:
        dt.date.fromisoformat(v[:10])
    except ValueError:
        return False
    return True


def _uuid(v: str) -> bool:
    try:
        uuid.UUID(v)
    except ValueError:
        return False
    return True
