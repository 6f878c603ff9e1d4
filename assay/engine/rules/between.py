from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from . import register
from ._compare import FiniteFloat
from .base import NUMERIC, RowRule


class BetweenProperties(BaseModel):
    """``min``/``max`` bounds; ``inclusive_min``/``inclusive_max`` (default true).

    ``inclusive`` sets both bounds' inclusiveness at once; ``min_value``/``max_value``
    are accepted as the older spellings of ``min``/``max``.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    min: FiniteFloat
    max: FiniteFloat
    inclusive_min: bool = True
    inclusive_max: bool = True

    @model_validator(mode="before")
    @classmethod
    def _aliases(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            if "min_value" in data and "min" not in data:
                data["min"] = data.pop("min_value")
            if "max_value" in data and "max" not in data:
                data["max"] = data.pop("max_value")
            if "inclusive" in data:
                both = data.pop("inclusive")
                data.setdefault("inclusive_min", both)
                data.setdefault("inclusive_max", both)
        return data

    @model_validator(mode="after")
    def _ordered(self):
        if self.min > self.max:
            raise ValueError("min must be less than or equal to max")
        return self


@register
class Between(RowRule[BetweenProperties]):
    """``min ≤ value ≤ max`` (each bound inclusive unless told otherwise). NULLs are skipped.

    NaN compares as greater than every number on most engines, so it fails.
    """

    name = "between"
    description = "Asserts that values are equal to or between two numbers."
    field_types = NUMERIC
    Properties = BetweenProperties

    def failing(self, t, key):
        v, p = t[self.field_name], self.props
        low_ok = v >= p.min if p.inclusive_min else v > p.min
        high_ok = v <= p.max if p.inclusive_max else v < p.max
        return v.notnull() & ~(low_ok & high_ok)

    @property
    def violation(self) -> str:  # type: ignore[override]
        p = self.props
        return f"is not between {p.min:g} and {p.max:g}"

    @property
    def shape_violation(self) -> str:  # type: ignore[override]
        p = self.props
        return f"are not between {p.min:g} and {p.max:g}"
