from __future__ import annotations

import math
from typing import Any

import ibis
from pydantic import Field, field_validator, model_validator

from . import ALIASES, register
from ._reference import ApartResult, CrossContainerMixin, ReferenceProperties, Scratch, aligned, memtable, stream, total
from .base import AggregateRule

_ROWS = "__assay_rows"


class DataDiffProperties(ReferenceProperties):
    """``ref_container_id``, optional ``ref_datastore_id``; optional ``row_identifiers``
    (fields that pair a container row with its reference row) and ``numeric_tolerance``
    (the largest absolute difference of two numeric values still taken as equal; needs
    ``row_identifiers``)."""

    row_identifiers: list[str] | None = Field(None, description="fields that pair rows of the two containers")
    numeric_tolerance: float | None = Field(None, ge=0, description="largest absolute difference of equal numbers")

    @field_validator("row_identifiers")
    @classmethod
    def _names(cls, v):
        if v is not None and (not v or any(not isinstance(n, str) or not n for n in v)):
            raise ValueError("must be a non-empty list of field names")
        return v

    @field_validator("numeric_tolerance")
    @classmethod
    def _finite(cls, v):
        if v is not None and not math.isfinite(v):
            raise ValueError("must be a finite number")
        return v

    @model_validator(mode="after")
    def _tolerance_pairs(self):
        if self.numeric_tolerance is not None and not self.row_identifiers:
            raise ValueError("numeric_tolerance needs row_identifiers (rows are paired before values are compared)")
        return self


@register
class DataDiff(CrossContainerMixin[DataDiffProperties], AggregateRule[DataDiffProperties]):
    """The container's rows (projected on the check's fields) match the reference container.

    Compared columns: the check's fields plus the ``row_identifiers`` (same names in both
    containers). NULL equals NULL. The check's ``filter`` applies to the container only.

    * Without ``row_identifiers``: a container row is **unmatched** when no reference row
      has identical values in every compared column; a reference row is **missing** when
      no container row has identical values. Duplicates are not counted apart (a row
      appearing twice on one side and once on the other matches).
    * With ``row_identifiers``: a container row is **unmatched** when no reference row has
      the same identifiers and equal values in the other compared fields (numeric fields
      within ``numeric_tolerance`` when given, as ``|a - b| <= tolerance``); a reference row
      is **missing** when no container row has its identifiers.

    Fails (one shape anomaly) when unmatched + missing > 0; that sum is the anomaly's
    record count. Same backend: two anti-joins as scalar subqueries of the fused query.
    Two backends: each side's distinct rows (with their row counts) are streamed in
    batches of ``batch_size`` and anti-joined, as a memtable, on the other engine (on a
    copy of that engine's distinct compared rows in an in-process DuckDB database when it
    takes no memtables: a read-only PostgreSQL session, ``_reference.Scratch``).
    """

    name = "dataDiff"
    on_incremental = (
        "compares the rows the scan reads with the whole reference, so on an incremental scan the "
        "reference's older rows count as missing: use it in full scans"
    )
    description = "Asserts that the dataset created by the targeted field(s) matches a reference container."
    fields = "multi"
    Properties = DataDiffProperties

    @property
    def identifiers(self) -> list[str]:
        return list(self.props.row_identifiers or [])

    @property
    def columns(self) -> list[str]:
        return list(dict.fromkeys([*self.check.fields, *self.identifiers]))

    def _verify(self, t) -> None:
        for name in self.columns:
            if name not in t.columns:
                raise ValueError(f"field '{name}' not found in the container")
            self.ref_column(name)

    def _match(self, a, b, names: list[str]):
        """Join predicates: rows of ``a`` and ``b`` agree on ``names``."""
        preds = []
        tol = self.props.numeric_tolerance
        ids = set(self.identifiers)
        for name in names:
            x, y = aligned(a[name], b[name])
            if tol is not None and name not in ids and x.type().is_numeric() and y.type().is_numeric():
                preds.append((x.isnull() & y.isnull()) | ((x - y).abs() <= tol))
            else:
                preds.append(x.identical_to(y))
        return preds

    def _sides(self, t, where):
        self._verify(t)
        base = t if where is None else t.filter(where)
        return base, self.ref

    def metrics(self, t, where):
        base, ref = self._sides(t, where)
        back = self.identifiers or self.columns
        return {
            "rows": t.count() if where is None else t.count(where=where),
            "unmatched": base.anti_join(ref, self._match(base, ref, self.columns)).count().as_scalar(),
            "missing": ref.anti_join(base, self._match(ref, base, back)).count().as_scalar(),
        }

    def evaluate_apart(self, t, where, *, batch_size, example_limit, on_query):
        base, ref = self._sides(t, where)
        back = self.identifiers or self.columns
        on_query("rows of the checked container")
        rows = total(base.count())
        self.batches = 0
        unmatched = 0
        with Scratch(batch_size, on_query) as scratch:
            # a side whose engine takes no memtables: its distinct compared rows, copied
            ref_side = scratch.side(ref.select(self.columns).distinct(), f"distinct rows of {self.ref_label}")
            groups = base.group_by(self.columns).aggregate(**{_ROWS: ibis._.count()})
            for batch in stream(groups, batch_size):
                self.batches += 1
                on_query(f"batch {self.batches}: {batch.num_rows} distinct rows probed in {self.ref_label}")
                m = memtable(batch, ref_side)
                unmatched += total(m.anti_join(ref_side, self._match(m, ref_side, self.columns))[_ROWS].sum())
            missing = 0
            base_side = scratch.side(base.select(self.columns).distinct(), "distinct rows of the container")
            groups = ref.group_by(back).aggregate(**{_ROWS: ibis._.count()})
            for batch in stream(groups, batch_size):
                self.batches += 1
                on_query(
                    f"batch {self.batches}: {batch.num_rows} distinct rows of {self.ref_label} probed in the container"
                )
                m = memtable(batch, base_side)
                missing += total(m.anti_join(base_side, self._match(m, base_side, back))[_ROWS].sum())
        return ApartResult(rows, metrics={"rows": rows, "unmatched": unmatched, "missing": missing})

    def _describe(self) -> str:
        text = f"compared on {self.field_list}"
        if self.identifiers:
            text += " with rows paired by " + ", ".join(f"`{n}`" for n in self.identifiers)
        return text

    def assess(self, values: dict[str, Any]) -> str | None:
        rows, unmatched, missing = (int(values.get(k) or 0) for k in ("rows", "unmatched", "missing"))
        if not unmatched and not missing:
            return None
        return (
            f"{unmatched} of {rows} filtered records have no matching record in {self.ref_label} and "
            f"{missing} records of {self.ref_label} are missing from the container ({self._describe()})"
        )

    def failed_records(self, values: dict[str, Any]) -> int:
        return int(values.get("unmatched") or 0) + int(values.get("missing") or 0)


# isReplicaOf is the older name of dataDiff: the API stores and answers ``dataDiff``.
ALIASES["isReplicaOf"] = "dataDiff"


@register
class IsNotReplicaOf(DataDiff):
    """The container is NOT a replica of the reference container: fails when the two
    datasets are identical in the sense of ``dataDiff`` (no unmatched container row and no
    missing reference row, on the same compared fields). The anomaly counts the filtered
    container rows."""

    name = "isNotReplicaOf"
    description = (
        "Asserts that the dataset created by the targeted field(s) is not replicated in a reference container."
    )

    def assess(self, values: dict[str, Any]) -> str | None:
        rows, unmatched, missing = (int(values.get(k) or 0) for k in ("rows", "unmatched", "missing"))
        if unmatched or missing:
            return None
        return f"The {rows} filtered records are a replica of {self.ref_label} ({self._describe()})"

    def failed_records(self, values: dict[str, Any]) -> int:
        return int(values.get("rows") or 0)
