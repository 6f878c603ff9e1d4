"""Field statistics of a container from ONE aggregate pass (split only when very wide).

Per field (``None`` where a statistic does not apply to the type):

| statistic | definition |
|---|---|
| ``completeness`` | non-NULL values / rows (0…1; NaN counts as a value) |
| ``approximate_distinct_values`` | the engine's approximate distinct count (HyperLogLog on DuckDB) |
| ``unique_distinct_ratio`` | approximate distinct values / non-NULL values |
| ``min`` / ``max`` | smallest / largest value (numbers, dates, times, strings by collation) |
| ``mean`` / ``sum`` | arithmetic mean / sum of the finite numeric values (NaN and ±Infinity left out) |
| ``std_dev`` | population standard deviation of the finite numeric values |
| ``min_length`` / ``max_length`` | shortest / longest string, in characters |
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from .anomalies import jsonable

#: Fields per aggregate query; wider containers are profiled in several queries.
MAX_FIELDS_PER_QUERY = 150


def _field_metrics(col: ir.Column, key: str) -> dict[str, ir.Scalar]:
    dtype = col.type()
    m: dict[str, ir.Scalar] = {f"{key}__nonnull": col.count()}
    if dtype.is_numeric() or dtype.is_temporal() or dtype.is_string() or dtype.is_boolean():
        m[f"{key}__distinct"] = col.approx_nunique()
    if dtype.is_numeric() and not dtype.is_boolean():
        as_float = col.cast("float64")
        if dtype.is_floating():  # NaN and ±Infinity would poison mean/sum/std: finite values only
            as_float = (as_float.isnan() | as_float.isinf()).ifelse(ibis.null("float64"), as_float)
        m.update({f"{key}__min": col.min(), f"{key}__max": col.max(), f"{key}__mean": as_float.mean(),
                  f"{key}__sum": as_float.sum(), f"{key}__std_dev": as_float.std(how="pop")})
    elif dtype.is_temporal():
        m.update({f"{key}__min": col.min(), f"{key}__max": col.max()})
    elif dtype.is_string():
        length = col.length()
        m.update({f"{key}__min": col.min(), f"{key}__max": col.max(),
                  f"{key}__min_length": length.min(), f"{key}__max_length": length.max()})
    return m


def profile_table(t: ir.Table, field_types: dict[str, str] | None = None) -> tuple[int, dict[str, dict[str, Any]]]:
    """Profile every column of ``t``.

    Returns: (row count, field name → statistics dict, JSON-safe).
    Raises: whatever the engine raises when the container cannot be read.
    """
    names = list(t.columns)
    records: int | None = None
    values: dict[str, Any] = {}
    for start in range(0, max(len(names), 1), MAX_FIELDS_PER_QUERY):
        chunk = names[start : start + MAX_FIELDS_PER_QUERY]
        metrics: dict[str, ir.Scalar] = {"__rows": t.count()}
        for i, name in enumerate(chunk, start):
            metrics.update(_field_metrics(t[name], f"f{i}"))
        row = t.aggregate(**metrics).to_pyarrow().to_pylist()[0]
        records = int(row.pop("__rows") or 0)
        values.update(row)
    out: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(names):
        def get(stat: str) -> Any:
            return values.get(f"f{i}__{stat}")

        nonnull = int(get("nonnull") or 0)
        distinct = get("distinct")
        out[name] = jsonable({
            "field_type": (field_types or {}).get(name),
            "completeness": (nonnull / records) if records else None,
            "approximate_distinct_values": distinct,
            "unique_distinct_ratio": (distinct / nonnull) if nonnull and distinct is not None else None,
            "min": get("min"), "max": get("max"), "mean": get("mean"), "sum": get("sum"),
            "std_dev": get("std_dev"), "min_length": get("min_length"), "max_length": get("max_length"),
            "median": None, "q1": None, "q3": None, "skewness": None, "kurtosis": None, "entropy": None,
            "histogram_buckets": [], "field_correlations": [],
        })
    return records or 0, out
