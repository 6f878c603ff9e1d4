from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from . import register
from .base import AggregateRule


class MaxPartitionSizeProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_size: int = Field(ge=0, description="the most rows a scanned partition may hold")

    @model_validator(mode="before")
    @classmethod
    def _alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and "value" in data and "max_size" not in data:
            data = {**data, "max_size": data["value"]}
            data.pop("value")
        return data


@register
class MaxPartitionSize(AggregateRule[MaxPartitionSizeProperties]):
    """The scanned partition holds at most ``max_size`` rows (after the check's filter).

    Property ``value`` is accepted as an alias of ``max_size``. An empty partition passes.
    """

    name = "maxPartitionSize"
    description = "Asserts the maximum number of records that should be loaded from each file or table partition."
    fields = "none"
    Properties = MaxPartitionSizeProperties

    def metrics(self, t, where):
        return {"rows": t.count() if where is None else t.count(where=where)}

    def assess(self, values):
        rows = int(values["rows"] or 0)
        if rows > self.props.max_size:
            return f"The partition holds {rows} records, more than the maximum of {self.props.max_size}"
        return None
