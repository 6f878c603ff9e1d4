"""Scan variables in check filters and expressions: ``{{ name }}``.

A scan's ``check_variables`` (``{"start": "2024-01-01"}``) are substituted into the filter
and the text properties (``expression``, ``ref_expression``, ``ref_filter`` …) of every
check before it is compiled, as Qualytics does: the placeholder ``{{ name }}`` (spaces
inside the braces optional; names are letters, digits and ``_``) is replaced by the value
as written, so a text value is quoted in the check (``d >= '{{ start }}'``) and a number is
not (``amount > {{ min }}``). The substituted text is then parsed like any other filter or
expression (one boolean or scalar expression, never a statement). A placeholder with no
value leaves the check unasserted with an error naming the variable.

At check creation the definition is validated with sample values: a bare placeholder as
``NULL``, a quoted one (``'{{ start }}'``) as each of ``SAMPLES`` in turn (a date, a
number, a word); it is accepted when one of them gives a valid definition, and refused with
the error of the first one otherwise.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from .expressions import ExpressionError

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def names(text: str | None) -> list[str]:
    """The variable names ``text`` uses, in order of first use."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text or "")))


def substitute(text: str, variables: Mapping[str, Any]) -> str:
    """``text`` with every ``{{ name }}`` replaced by ``variables[name]`` (as text).

    Raises: ExpressionError naming the first variable without a value."""
    missing = [n for n in names(text) if n not in variables]
    if missing:
        raise ExpressionError(f"scan variable '{missing[0]}' has no value (pass it in the scan's check_variables)")
    return PLACEHOLDER.sub(lambda m: str(variables[m.group(1)]), text)


#: The values a quoted placeholder (``'{{ start }}'``) is validated with at creation, in
#: order; a bare one (``{{ min }}``) is validated as ``NULL``. The definition is valid when
#: one of them fits everywhere.
SAMPLES: tuple[str, ...] = ("2000-01-01", "0", "x")
QUOTED = re.compile(r"'\{\{\s*[A-Za-z_][A-Za-z0-9_]*\s*\}\}'")


def used(filter_: str | None, properties: dict[str, Any] | None) -> bool:
    """Whether a filter or a text property of a check definition holds a placeholder."""
    texts = [filter_, *(v for v in (properties or {}).values() if isinstance(v, str))]
    return any(t and PLACEHOLDER.search(t) for t in texts)


def sample(text: str | None, value: str | None) -> str | None:
    """``text`` with every quoted placeholder replaced by ``'value'`` and every other one by
    ``NULL`` (``value`` None: unchanged)."""
    if text is None or value is None:
        return text
    return PLACEHOLDER.sub("NULL", QUOTED.sub(lambda _m: "'" + value.replace("'", "''") + "'", text))


def _map_text(properties: dict[str, Any], fn) -> dict[str, Any]:
    return {k: fn(v) if isinstance(v, str) and PLACEHOLDER.search(v) else v for k, v in properties.items()}


def sample_properties(properties: dict[str, Any] | None, value: str | None) -> dict[str, Any] | None:
    """``properties`` with the placeholders of its text values replaced by ``value``."""
    if properties is None or value is None:
        return properties
    return _map_text(properties, lambda v: sample(v, value))


def apply(spec: Any, variables: Mapping[str, Any] | None) -> Any:
    """The check (a ``CheckSpec``) with ``variables`` substituted into its filter and text
    properties; the same object when it uses none. Raises ExpressionError for a missing one."""
    uses = (spec.filter and PLACEHOLDER.search(spec.filter)) or any(
        isinstance(v, str) and PLACEHOLDER.search(v) for v in (spec.properties or {}).values()
    )
    if not uses:
        return spec
    values = variables or {}
    return dataclasses.replace(
        spec,
        filter=substitute(spec.filter, values) if spec.filter else spec.filter,
        properties=_map_text(spec.properties or {}, lambda v: substitute(v, values)),
    )
