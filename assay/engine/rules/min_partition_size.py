from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from . import register
from .base import AggregateRule


class MinPartitionSizeProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_size: int = Field(ge=0, description="the fewest rows a scanned partition may hold")

    @model_validator(mode="before")
    @classmethod
    def _alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and "value" in data and "min_size" not in data:
            data = {**data, "min_size": data["value"]}
            data.pop("value")
        return data


@register
class MinPartitionSize(AggregateRule[MinPartitionSizeProperties]):
    """The scanned partition holds at least ``min_size`` rows (after the check's filter).

    Property ``value`` is accepted as an alias of ``min_size``.
    """

    name = "minPartitionSize"
    description = "Asserts the minimum number of records that should be loaded from each file or table partition."
    fields = "none"
    Properties = MinPartitionSizeProperties

    def metrics(self, t, where):
        return {"rows": t.count() if where is None else t.count(where=where)}

    def assess(self, values):
        rows = int(values["rows"] or 0)
        if rows < self.props.min_size:
            return f"The partition holds {rows} records, fewer than the minimum of {self.props.min_size}"
        return None
