from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from . import register
from .base import TEXT, RowRule


class NotEmptyProperties(BaseModel):
    """``is_element_context`` (arrays) is accepted for compatibility; only ``false``
    (string fields) is supported."""

    model_config = ConfigDict(extra="forbid")
    is_element_context: bool = False


@register
class NotEmpty(RowRule[NotEmptyProperties]):
    """The string is not empty: a row fails when its value is ``''`` (zero characters).

    Only the zero-length string fails; whitespace such as ``' '`` is a non-empty value
    (the length is compared, so MySQL's trailing-space-insensitive ``=`` plays no part).
    NULLs are skipped: add ``notNull`` to flag missing values too.
    """

    name = "notEmpty"
    Properties = NotEmptyProperties
    description = "Asserts that the string is not empty."
    field_types = TEXT
    violation = "is empty"
    shape_violation = "are empty"

    def failing(self, t, key):
        v = t[self.field_name]
        if self.props.is_element_context:
            raise TypeError("notEmpty on array elements (is_element_context) is not supported")
        if not v.type().is_string():
            raise TypeError(f"notEmpty needs a string field, {self.field_name} is {v.type()}")
        return v.notnull() & (v.length() == 0)
