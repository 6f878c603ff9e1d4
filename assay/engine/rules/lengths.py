from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from . import register
from .base import RowRule


class LengthProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: int = Field(ge=0, le=2**31 - 1, description="length in characters")


class _LengthRule(RowRule[LengthProperties]):
    field_types = ("String",)
    Properties = LengthProperties

    def _length(self, t):
        return t[self.field_name].length()


@register
class MinLength(_LengthRule):
    """The string has at least ``value`` characters. NULLs are skipped."""

    name = "minLength"
    description = "Asserts that a string has a minimum length."

    def failing(self, t, key):
        return self._length(t) < self.props.value

    @property
    def violation(self):  # type: ignore[override]
        return f"is shorter than {self.props.value} characters"

    @property
    def shape_violation(self):  # type: ignore[override]
        return f"are shorter than {self.props.value} characters"


@register
class MaxLength(_LengthRule):
    """The string has at most ``value`` characters. NULLs are skipped."""

    name = "maxLength"
    description = "Asserts that a string has a maximum length."

    def failing(self, t, key):
        return self._length(t) > self.props.value

    @property
    def violation(self):  # type: ignore[override]
        return f"is longer than {self.props.value} characters"

    @property
    def shape_violation(self):  # type: ignore[override]
        return f"are longer than {self.props.value} characters"
