"""Field statistics of a container: ONE aggregate pass for every scalar statistic of every
field (split only when the container is very wide), plus a bounded number of extra queries.

Queries per container, whatever the number of fields ``F``:

1. ``count(*)``;
2. a bounded **sample** of at most ``sample_size`` rows (every row when the container is
   that small, else every ``ceil(rows / sample_size)``-th row in the engine's scan order:
   spread over the whole container, deterministic, the same on every engine; capped at
   ``MAX_SAMPLE_CELLS`` values so a 1,000-column table stays small), plus for decimal
   fields a ``LIMIT 100`` read of their values as text (the exact centre of the moments).
   The sample gives the correlations, the quantiles where the engine has no approximate quantile, and the
   training / hold-out data of check inference (``engine/inference/``);
3. the **aggregate pass**: ``ceil(F / MAX_FIELDS_PER_QUERY)`` queries (one below 150 fields);
   when the engine rejects an optional statistic (approximate quantiles on SQLite/MySQL, an
   overflow in the moment sums) the pass is run again once without it;
4. the **histograms** of the fields with few distinct values: counted on the sample when it
   holds the whole container (no query), else ``ceil(F' / HISTOGRAM_FIELDS_PER_QUERY)``
   queries (a UNION ALL of one GROUP BY per field) for at most ``MAX_HISTOGRAM_FIELDS`` fields.

Per field (``None`` where a statistic does not apply to the type or there is no value):

| statistic | definition |
|---|---|
| ``field_type`` | the synced type: Integral, Fractional, Boolean, String, Date, Timestamp, Unknown |
| ``completeness`` | non-NULL values / rows (0…1; NaN counts as a value) |
| ``approximate_distinct_values`` | exact ``COUNT(DISTINCT)`` on DuckDB and for containers up to ``EXACT_DISTINCT_ROWS`` rows, else the engine's approximate count (HyperLogLog); the exact count when the histogram holds every value |
| ``unique_distinct_ratio`` | approximate distinct values / non-NULL values (capped at 1) |
| ``min`` / ``max`` | smallest / largest value: numbers (finite values only for floating point; decimals as text with every digit), dates, times, strings by collation (strings cut to ``MAX_SHOWN_CHARS`` characters) |
| ``mean`` / ``sum`` | arithmetic mean / sum of the finite numeric values (NaN and ±Infinity left out) |
| ``std_dev`` | population standard deviation of the finite numeric values |
| ``skewness`` | population skewness ``μ3 / μ2^1.5`` of the finite values (``None`` when the variance is 0) |
| ``kurtosis`` | population excess kurtosis ``μ4 / μ2² − 3`` (``None`` when the variance is 0) |
| ``q1`` / ``median`` / ``q3`` | 25th / 50th / 75th percentile: the engine's approximate quantiles (``quantile_source: "engine"``), or on engines without them (SQLite, MySQL) the exact quantiles of the sample (``"sample"``); for integer fields values of the field (rounded half to even / nearest rank, within min…max) |
| ``entropy`` | Shannon entropy, in bits, of the distribution of the non-NULL values: exact from the histogram when it holds every distinct value, else estimated on the sample |
| ``min_length`` / ``max_length`` | shortest / longest string, in characters |
| ``histogram_buckets`` | ``[{value, count, ratio}]``, most frequent first, at most ``histogram_max_distinct_values``, for fields with at most twice that many (approximate) distinct values; ``ratio`` = count / non-NULL values; values are shown as text. Empty for other fields |
| ``histogram_complete`` | true when the buckets hold every distinct non-NULL value |
| ``field_correlations`` | ``[{correlated_field_profile, bivariate_correlation}]``: numeric fields whose Pearson correlation with this one, on the sample, has an absolute value ≥ ``high_correlation_threshold`` (at most ``MAX_CORRELATED_FIELDS`` numeric fields are compared) |

The moments (and ``std_dev``) are means of powers of ``(x − c)``: ``c`` is the sample mean
for floating point, an exact value of the field for integers and decimals (subtracted in
the field's own type before the cast to float), so they do not lose their digits when the
values are large compared with their spread (years, epoch seconds, 28-digit decimals).

A field the engine or the driver cannot profile is profiled as text or left empty, with
``profile_message`` (see :func:`profile_table`); the container is never failed for one field.
"""

from __future__ import annotations

import decimal
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, cast

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from ..sources.base import field_type_of
from .anomalies import jsonable
from .dialects import dialect_of

#: Fields per aggregate query; wider containers are profiled in several queries.
MAX_FIELDS_PER_QUERY = 150
#: Fields per histogram query (one GROUP BY per field, UNION ALL-ed).
HISTOGRAM_FIELDS_PER_QUERY = 50
#: Fields whose histogram is counted by the engine at most (the first ones, in order).
MAX_HISTOGRAM_FIELDS = 300
#: Values (rows × columns) the sample may hold at most.
MAX_SAMPLE_CELLS = 4_000_000
#: Numeric fields compared pairwise for correlations at most (the first ones, in order).
MAX_CORRELATED_FIELDS = 100
#: Longest string kept as a field's min / max in the stored profile.
MAX_SHOWN_CHARS = 256
#: Containers up to this many rows get the exact distinct count (DuckDB always: it is cheap there).
EXACT_DISTINCT_ROWS = 10_000_000


@dataclass
class ProfileOptions:
    """``histogram_max_distinct_values``: cap on histogram buckets (≥ 1);
    ``high_correlation_threshold``: |r| from which a correlation is listed (0…1);
    ``sample_size``: rows fetched for the sample (≥ 0)."""

    histogram_max_distinct_values: int = 100
    high_correlation_threshold: float = 0.5
    sample_size: int = 20_000


@dataclass
class ProfileResult:
    """``records``: rows of the container read; ``fields``: field name → JSON-safe
    statistics (as stored and served); ``raw``: the same statistics with native Python
    values (datetimes, Decimals) and full histograms for inference; ``sample``: the
    bounded sample as a pandas DataFrame (columns as in the table); ``types``: field name →
    field type."""

    records: int
    fields: dict[str, dict[str, Any]]
    raw: dict[str, dict[str, Any]] = field(default_factory=dict)
    sample: pd.DataFrame | None = None
    types: dict[str, str] = field(default_factory=dict)


def _is_number(dtype) -> bool:
    return dtype.is_numeric() and not dtype.is_boolean()


#: Largest finite float64: beyond it is ±Infinity (a comparison every engine compiles).
_MAX_FLOAT = 1.7976931348623157e308


def _finite(col: ir.Column, nan: bool = True) -> ir.NumericColumn:
    """The column as float64, with NaN (when the engine has NaN: ``nan``) and ±Infinity
    turned into NULL."""
    as_float = col.cast("float64")
    if col.type().is_floating():
        bad = (as_float > _MAX_FLOAT) | (as_float < -_MAX_FLOAT)
        if nan:
            bad = bad | as_float.isnan()
        as_float = bad.ifelse(ibis.null("float64"), as_float)
    return as_float


def has_nan(t: ir.Table) -> bool:
    """Whether the engine of ``t`` stores NaN (``Dialect.has_nan``: SQLite and MySQL turn
    it into NULL or reject it; an unbound table runs on DuckDB, which has NaN)."""
    return dialect_of(t).has_nan


def _field_metrics(
    col: ir.Column, key: str, shift: Any, quantiles: bool, moments: bool, nan: bool = True, exact_distinct: bool = False
) -> dict[str, ir.Scalar]:
    dtype = col.type()
    m: dict[str, ir.Scalar] = {f"{key}__nonnull": col.count()}
    if dtype.is_numeric() or dtype.is_temporal() or dtype.is_string() or dtype.is_boolean():
        m[f"{key}__distinct"] = col.nunique() if exact_distinct else col.approx_nunique()
    if _is_number(dtype):
        fin = _finite(col, nan)
        lo, hi = (fin.min(), fin.max()) if dtype.is_floating() else (col.min(), col.max())
        if dtype.is_decimal():  # exact digits: the extremes as the engine's text of the value
            lo, hi = col.min().cast("string"), col.max().cast("string")
        m.update(
            {
                f"{key}__min": lo,
                f"{key}__max": hi,
                f"{key}__mean": fin.mean(),
                f"{key}__sum": fin.sum(),
                f"{key}__std_dev": fin.std(how="pop"),
            }
        )
        if moments:
            # centred in the column's own type (exact for integers and decimals) before
            # the cast to float: no digits lost when the values are large next to their spread
            d = fin - float(shift) if dtype.is_floating() else (col - ibis.literal(shift, type=dtype)).cast("float64")
            d2 = d * d
            m.update(
                {
                    f"{key}__m1": d.mean(),
                    f"{key}__m2": d2.mean(),
                    f"{key}__m3": (d2 * d).mean(),
                    f"{key}__m4": (d2 * d2).mean(),
                }
            )
        if quantiles:
            m[f"{key}__quantiles"] = fin.approx_quantile([0.25, 0.5, 0.75])
    elif dtype.is_temporal():
        m.update({f"{key}__min": col.min(), f"{key}__max": col.max()})
    elif dtype.is_string():
        length = col.length()
        m.update(
            {
                f"{key}__min": col.min(),
                f"{key}__max": col.max(),
                f"{key}__min_length": length.min(),
                f"{key}__max_length": length.max(),
            }
        )
    return m


def _sample(t: ir.Table, records: int, size: int) -> pd.DataFrame:
    """At most ``size`` rows of ``t`` as a DataFrame: all rows when ``t`` is that small, else a
    systematic sample spread over the whole container: every ``ceil(records / size)``-th row in
    the engine's scan order (``row_number() % step == 0``), the same on every engine and
    the same rows on a rerun of unchanged data."""
    if size <= 0 or records <= 0:
        return t.limit(0).to_pyarrow().to_pandas()
    if records <= size:
        return t.limit(size).to_pyarrow().to_pandas()
    step = -(-records // size)
    numbered = t.mutate(__assay_rn=ibis.row_number())
    q = numbered.filter(numbered.__assay_rn % step == 0).drop("__assay_rn").limit(size)
    return q.to_pyarrow().to_pandas()


def _numeric_series(s: pd.Series) -> pd.Series[float]:
    """Finite float values of a sample column (NaN for NULL, NaN and ±Infinity)."""
    out = pd.to_numeric(s.astype(object).where(s.notna(), None), errors="coerce").astype("float64")
    return out.where(np.isfinite(out))


def _shown(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_SHOWN_CHARS:
        return value[:MAX_SHOWN_CHARS]
    return value


def _entropy(counts: list[int]) -> float | None:
    total = sum(counts)
    if not total:
        return None
    return float(-sum((c / total) * math.log2(c / total) for c in counts if c) + 0.0)


def _reason(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0][:300] if text else type(e).__name__


def _failing(try_fields, names: list[str]) -> dict[str, str]:
    """The fields of ``names`` that make ``try_fields`` raise, by bisection: field → reason.
    ``try_fields(subset)`` raises when the subset cannot be profiled."""
    try:
        try_fields(names)
        return {}
    except Exception as e:  # noqa: BLE001 - narrowed down below
        if len(names) == 1:
            return {names[0]: _reason(e)}
    half = len(names) // 2
    return {**_failing(try_fields, names[:half]), **_failing(try_fields, names[half:])}


def profile_table(
    t: ir.Table, field_types: dict[str, str] | None = None, options: ProfileOptions | None = None
) -> ProfileResult:
    """Profile every column of ``t`` (see the module docstring for the statistics).

    A field whose statistics the engine or the driver cannot compute (e.g. a type Arrow
    cannot hold, a value whose storage class differs from the declared type on SQLite) does
    not fail the container: it is found by bisection over the fields, profiled as text
    (``statistics_as_text: true``) and left out of the sample (no check is inferred for it);
    when even its text cannot be read its statistics are ``None``. Either way its statistics
    carry ``profile_message`` (why).

    Args:
        t: the container's table, already restricted to the rows to read.
        field_types: field name → synced field type (the Ibis type decides otherwise).
        options: histogram cap, correlation threshold and sample size.

    Returns: a :class:`ProfileResult`.
    Raises: whatever the engine raises when the container cannot be read (even its row count).
    """
    opts = options or ProfileOptions()
    types = {n: (field_types or {}).get(n) or field_type_of(t.schema()[n]) for n in t.columns}
    try:
        return _profile_once(t, types, opts)
    except Exception as first:  # noqa: BLE001 - isolate the fields that fail
        t.count().to_pyarrow()  # the container itself cannot be read: raise that
        names = list(t.columns)
        bad = _failing(lambda sub: _profile_once(t.select(*sub), types, opts), names)
        if not bad:
            raise first
    as_text = t.mutate(**{n: t[n].cast("string") for n in bad})
    unreadable = _failing(lambda sub: _profile_once(as_text.select(*sub), types, opts), list(bad))
    readable = [n for n in t.columns if n not in unreadable]
    prof = _profile_once(as_text.select(*readable), types, opts)
    if prof.sample is not None:
        prof.sample = prof.sample.drop(columns=[n for n in bad if n in prof.sample.columns])
    for n, why in bad.items():
        if n in unreadable:
            st = {"field_type": types[n], "profile_message": f"statistics not computed: {unreadable[n]}"}
            prof.raw[n] = {**st, "non_null_count": 0}
            prof.fields[n] = jsonable(st)
        else:
            msg = f"statistics computed on the values as text: {why}"
            prof.raw[n].update(profile_message=msg, statistics_as_text=True)
            prof.fields[n].update(profile_message=msg, statistics_as_text=True)
    # the container's field order
    prof.fields = {n: prof.fields[n] for n in t.columns}
    prof.raw = {n: prof.raw[n] for n in t.columns}
    prof.types = types
    return prof


def _profile_once(t: ir.Table, types: dict[str, str], opts: ProfileOptions) -> ProfileResult:
    schema = t.schema()
    names = list(t.columns)
    types = {n: types[n] for n in names}
    records = int(t.count().to_pyarrow().as_py() or 0)
    size = min(opts.sample_size, max(1_000, MAX_SAMPLE_CELLS // max(len(names), 1)))
    sample = _sample(t, records, size)

    shifts: dict[str, Any] = {}
    numeric_sample: dict[str, pd.Series[float]] = {}
    for n in names:
        if _is_number(schema[n]):
            s = _numeric_series(sample[n] if n in sample else pd.Series([], dtype="float64"))
            numeric_sample[n] = s
            mean = s.mean()
            shifts[n] = float(mean) if pd.notna(mean) else 0.0
            if schema[n].is_integer():  # an exact value of the column: its sample minimum
                exact = sample[n].dropna().tolist() if n in sample else []
                try:
                    shifts[n] = int(min(exact)) if exact else 0
                except (TypeError, ValueError):
                    shifts[n] = 0
    decimals = [n for n in names if schema[n].is_decimal()]
    if decimals and records:
        # exact decimal values, read as text (a driver may round them through a float): the
        # first value found of each column (LIMIT 100, no full pass)
        for n in decimals:
            shifts[n] = decimal.Decimal(0)
        try:
            firsts = (
                t.select(**{f"c{i}": t[n].cast("string") for i, n in enumerate(decimals)})
                .limit(100)
                .to_pyarrow()
                .to_pylist()
            )
            for i, n in enumerate(decimals):
                found = next((r[f"c{i}"] for r in firsts if r[f"c{i}"] is not None), None)
                if found is not None:
                    shifts[n] = decimal.Decimal(found)
        except Exception:  # noqa: BLE001 - centred on 0 (the moments then lose digits)
            pass

    values: dict[str, Any] = {}
    engine_quantiles = True
    nan = has_nan(t)
    exact_distinct = records <= EXACT_DISTINCT_ROWS or dialect_of(t).cheap_exact_distinct
    for start in range(0, len(names), MAX_FIELDS_PER_QUERY):
        chunk = list(enumerate(names[start : start + MAX_FIELDS_PER_QUERY], start))
        narrow = t.select(*[name for _, name in chunk]) if len(names) > MAX_FIELDS_PER_QUERY else t
        row = None
        for quantiles, moments in ((engine_quantiles, True), (False, True), (False, False)):
            metrics: dict[str, ir.Scalar] = {}
            for i, name in chunk:
                metrics.update(
                    _field_metrics(
                        narrow[name], f"f{i}", shifts.get(name, 0.0), quantiles, moments, nan, exact_distinct
                    )
                )
            try:
                row = narrow.aggregate(**metrics).to_pyarrow().to_pylist()[0]
                engine_quantiles = quantiles
                break
            except Exception:  # noqa: BLE001 - retry without the optional statistics
                if not quantiles and not moments:
                    raise
        values.update(row or {})

    raw: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(names):

        def get(stat: str, i=i) -> Any:
            return values.get(f"f{i}__{stat}")

        nonnull = int(get("nonnull") or 0)
        distinct = get("distinct")
        if distinct is not None and nonnull:
            distinct = min(int(distinct), nonnull)
        stats: dict[str, Any] = {
            "field_type": types[name],
            "completeness": (nonnull / records) if records else None,
            "approximate_distinct_values": distinct,
            "unique_distinct_ratio": (distinct / nonnull) if nonnull and distinct is not None else None,
            "min": get("min"),
            "max": get("max"),
            "mean": get("mean"),
            "sum": get("sum"),
            "std_dev": get("std_dev"),
            "min_length": get("min_length"),
            "max_length": get("max_length"),
            "median": None,
            "q1": None,
            "q3": None,
            "quantile_source": None,
            "skewness": None,
            "kurtosis": None,
            "entropy": None,
            "histogram_buckets": [],
            "histogram_complete": False,
            "field_correlations": [],
            "non_null_count": nonnull,
        }
        if name in numeric_sample and nonnull:
            _moments(stats, get("m1"), get("m2"), get("m3"), get("m4"))
            q = get("quantiles")
            integral = schema[name].is_integer()
            if q and all(v is not None and math.isfinite(v) for v in q):
                if integral:  # values of the field: the nearest integer
                    q = [int(round(v)) for v in q]
                stats.update(q1=q[0], median=q[1], q3=q[2], quantile_source="engine")
            else:
                s = numeric_sample[name].dropna()
                if len(s):
                    qs = s.quantile([0.25, 0.5, 0.75], interpolation="nearest" if integral else "linear").tolist()
                    if integral:
                        qs = [int(v) for v in qs]
                    stats.update(q1=qs[0], median=qs[1], q3=qs[2], quantile_source="sample")
            lo, hi = stats["min"], stats["max"]
            if integral and lo is not None and hi is not None and stats["median"] is not None:
                # within min…max (a float near 2^63 or 2^64 rounds past the extremes)
                for k in ("q1", "median", "q3"):
                    stats[k] = min(max(stats[k], lo), hi)
        raw[name] = stats

    _histograms(t, names, schema, raw, opts.histogram_max_distinct_values, sample, records)
    for name in names:
        st = raw[name]
        if st["entropy"] is None and st["non_null_count"] and name in sample:
            col = sample[name].dropna()
            try:
                st["entropy"] = _entropy(list(Counter(col.tolist()).values()))
            except TypeError:  # unhashable values (arrays, structs)
                st["entropy"] = None
    _correlations(numeric_sample, raw, opts.high_correlation_threshold)

    fields = {}
    for name, st in raw.items():
        shown = {k: v for k, v in st.items() if k not in ("non_null_count", "all_values")}
        shown["min"], shown["max"] = _shown(st["min"]), _shown(st["max"])
        fields[name] = jsonable(shown)
    return ProfileResult(records=records, fields=fields, raw=raw, sample=sample, types=types)


def _moments(stats: dict[str, Any], m1, m2, m3, m4) -> None:
    """Population std_dev, skewness and kurtosis from the raw moments ``m1…m4`` of the
    centred values ``x − c``."""
    if m1 is None or m2 is None or m3 is None or m4 is None:
        return
    d = m1
    mu2 = m2 - d * d
    mu3 = m3 - 3 * d * m2 + 2 * d**3
    mu4 = m4 - 4 * d * m3 + 6 * d * d * m2 - 3 * d**4
    if not all(math.isfinite(v) for v in (mu2, mu3, mu4)):
        return
    stats["std_dev"] = math.sqrt(max(mu2, 0.0))
    scale = max(abs(m1), math.sqrt(max(m2, 0.0)), 1.0)
    if mu2 <= 1e-12 * scale * scale:
        return
    stats["skewness"] = mu3 / mu2**1.5
    stats["kurtosis"] = mu4 / (mu2 * mu2) - 3.0


def _set_histogram(st: dict[str, Any], buckets: list[tuple[Any, int]], cap: int) -> None:
    buckets.sort(key=lambda b: (-b[1], str(b[0])))
    nonnull = st["non_null_count"]
    st["histogram_complete"] = len(buckets) <= cap
    st["histogram_buckets"] = [
        {"value": _shown(v if isinstance(v, str) else str(v)), "count": c, "ratio": c / nonnull if nonnull else None}
        for v, c in buckets[:cap]
    ]
    st["all_values"] = [v for v, _ in buckets]  # every distinct value (inference)
    if st["histogram_complete"]:
        st["entropy"] = _entropy([c for _, c in buckets])
        # every distinct value is known: the exact count replaces the sketch's estimate
        st["approximate_distinct_values"] = len(buckets)
        st["unique_distinct_ratio"] = len(buckets) / nonnull if nonnull else None


def _histograms(
    t: ir.Table, names: list[str], schema, raw: dict[str, dict[str, Any]], cap: int, sample: pd.DataFrame, records: int
) -> None:
    """Value histograms of the fields with at most ``2 × cap`` approximate distinct values:
    counted on the sample when it holds the whole container (no query), else in UNION ALL
    queries of ``HISTOGRAM_FIELDS_PER_QUERY`` GROUP BYs each, for at most
    ``MAX_HISTOGRAM_FIELDS`` fields."""
    wanted = [
        n
        for n in names
        if raw[n]["non_null_count"]
        and raw[n]["approximate_distinct_values"] is not None
        and raw[n]["approximate_distinct_values"] <= 2 * cap
        and (schema[n].is_numeric() or schema[n].is_string() or schema[n].is_temporal() or schema[n].is_boolean())
    ]
    if records and len(sample) >= records:
        for n in wanted:
            try:
                counts = Counter(v.item() if hasattr(v, "item") else v for v in sample[n].dropna().tolist())
            except TypeError:
                continue
            _set_histogram(raw[n], list(counts.items()), cap)
        return
    wanted = wanted[:MAX_HISTOGRAM_FIELDS]
    for start in range(0, len(wanted), HISTOGRAM_FIELDS_PER_QUERY):
        chunk = wanted[start : start + HISTOGRAM_FIELDS_PER_QUERY]
        parts = []
        # a narrow view first: binding and compiling against a 1,000-column table is slow
        sub = t.select(*chunk).view() if len(names) > HISTOGRAM_FIELDS_PER_QUERY else t
        for i, n in enumerate(chunk, start):
            one = sub.select(__assay_v=sub[n].cast("string"))
            parts.append(
                one.filter(one.__assay_v.notnull())
                .group_by("__assay_v")
                .aggregate(__assay_n=ibis._.__assay_v.count())
                .mutate(__assay_f=ibis.literal(i, type="int64"))
                .select("__assay_f", "__assay_v", "__assay_n")
            )
        rows = (
            ibis.union(*parts, distinct=False).to_pyarrow().to_pylist()
            if len(parts) > 1
            else parts[0].to_pyarrow().to_pylist()
        )
        per: dict[str, list[tuple[str, int]]] = {}
        for r in rows:
            per.setdefault(wanted[r["__assay_f"]], []).append((r["__assay_v"], int(r["__assay_n"])))
        for n, buckets in per.items():
            _set_histogram(raw[n], buckets, cap)


def _correlations(numeric: dict[str, pd.Series], raw: dict[str, dict[str, Any]], threshold: float) -> None:
    cols = [n for n, s in numeric.items() if s.notna().sum() >= 3][:MAX_CORRELATED_FIELDS]
    if len(cols) < 2:
        return
    frame = pd.DataFrame({n: numeric[n].reset_index(drop=True) for n in cols})
    with np.errstate(all="ignore"):
        corr = frame.corr(method="pearson", min_periods=3)
    for a in cols:
        out = []
        for b in cols:
            if a == b:
                continue
            r = cast(float, corr.at[a, b])
            if pd.notna(r) and abs(r) >= threshold:
                out.append({"correlated_field_profile": b, "bivariate_correlation": float(r)})
        out.sort(key=lambda c: -abs(cast(float, c["bivariate_correlation"])))
        raw[a]["field_correlations"] = out
