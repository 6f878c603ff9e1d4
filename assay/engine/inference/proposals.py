"""Proposals of the single-field rules (levels 1–3 and the level-5 shape variants),
of ``expectedSchema`` and ``timeDistributionSize``, from the training rows and the profile.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from typing import Any, cast

import pandas as pd

from ..profile import ProfileResult
from ..rules import AggregateRule, CheckSpec, get_rule
from .core import (
    MAX_COMPARED_FIELDS,
    MAX_EXPECTED_VALUES,
    MAX_PATTERN_LENGTH,
    MAX_TIME_DISTRIBUTION_FIELDS,
    MAX_UNIQUE,
    MIN_ROWS_PER_EXPECTED_VALUE,
    MIN_SHAPE_COVERAGE,
    MIN_SHAPE_VALUES_SHARE,
    MIN_TRAINING_VALUES,
    UNIQUE_RATIO,
    InferenceOptions,
    Proposal,
    _available,
    _holds,
    _numbers,
    _times,
    split,
)
from .cross_field import _field_comparisons
from .patterns import _as_text, _shape_pattern, infer_pattern
from .regressions import regressions


def _typed_values(values: list[Any], field_type: str) -> list[Any] | None:
    """Histogram values (text from the engine, or native from the sample) as the field's type."""
    out: list[Any] = []
    for v in values:
        try:
            if field_type == "Integral":
                out.append(int(v) if not isinstance(v, str) else int(float(v)) if "." in v else int(v))
            elif field_type == "Fractional":
                f = float(v)
                if not math.isfinite(f):
                    return None
                out.append(f)
            elif field_type == "Boolean":
                out.append(v if isinstance(v, bool) else str(v).lower() in ("true", "1", "t"))
            elif field_type == "String":
                out.append(str(v))
            else:
                return None
        except (TypeError, ValueError):
            return None
    return sorted(set(out), key=lambda x: (str(type(x)), x))


def _iso(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC).isoformat()
    if isinstance(value, str):
        try:
            return _iso(dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def _exact_float(value: Any) -> bool:
    """Whether ``value`` (a number or the text of a decimal) is exactly a float64."""
    try:
        f = float(value)
        return math.isfinite(f) and decimal.Decimal(f) == decimal.Decimal(str(value))
    except (TypeError, ValueError, decimal.InvalidOperation):
        return False


def propose(profile: ProfileResult, opts: InferenceOptions) -> list[Proposal]:
    """Proposals for one container from its profile (steps 1–4 of the module docstring);
    not yet verified against the data."""
    if opts.level <= 0 or not profile.records:
        return []
    thr = opts.percent_testing_threshold
    sample = profile.sample if profile.sample is not None else pd.DataFrame()
    training, holdout = split(sample, opts.max_count_testing_sample)
    now = opts.now or dt.datetime.now(dt.UTC)
    out: list[Proposal] = []
    lvl = opts.level
    uniques = 0

    for name, st in profile.raw.items():
        ftype = profile.types.get(name, "Unknown")
        nonnull = st.get("non_null_count") or 0
        completeness = st.get("completeness")
        if name not in sample.columns:
            continue
        tr, ho = training[name], holdout[name]

        # -- completeness
        if completeness == 1 and tr.notna().all() and _holds(ho.isna(), pd.Series(True, index=ho.index), thr):
            out.append(Proposal("notNull", [name], description=f"{name} is always present"))
        elif lvl >= 5 and completeness is not None and MIN_SHAPE_COVERAGE <= completeness < 1:
            out.append(
                Proposal(
                    "notNull",
                    [name],
                    coverage=math.floor(completeness * 100) / 100,
                    description=f"{name} is present in at least this share of records",
                )
            )
        if not nonnull:
            continue

        # -- categorical values
        values = st.get("all_values")
        if ftype in ("String", "Integral", "Boolean") and values is not None and st.get("histogram_complete"):
            n_distinct = len(values)
            if n_distinct <= MAX_EXPECTED_VALUES and nonnull >= MIN_ROWS_PER_EXPECTED_VALUE * n_distinct:
                train_set = set(map(str, tr.dropna().map(_as_text)))
                if train_set and _holds(~ho.map(_as_text).isin(train_set), ho.notna(), thr):
                    typed = _typed_values(values, ftype)
                    if typed:
                        out.append(
                            Proposal(
                                "expectedValues",
                                [name],
                                {"list": typed},
                                description=f"{name} takes one of {len(typed)} values",
                            )
                        )
            elif lvl >= 5 and st.get("histogram_buckets"):
                top = st["histogram_buckets"][:MAX_EXPECTED_VALUES]
                share = sum(b["ratio"] or 0 for b in top)
                typed = _typed_values([b["value"] for b in top], ftype)
                if typed and MIN_SHAPE_VALUES_SHARE <= share < 1:
                    out.append(
                        Proposal(
                            "expectedValues",
                            [name],
                            {"list": typed},
                            coverage=math.floor(share * 100) / 100,
                            description=f"{name} mostly takes one of {len(typed)} values",
                        )
                    )

        # -- numbers
        if ftype in ("Integral", "Fractional"):
            lo, hi = st.get("min"), st.get("max")
            trn, hon = _numbers(tr), _numbers(ho)
            if lo is not None and hi is not None:
                lo_f, hi_f = float(lo), float(hi)
                if lo_f >= 0 and _holds(hon < 0, hon.notna(), thr):
                    out.append(Proposal("notNegative", [name], description=f"{name} is never negative"))
                t_lo, t_hi = trn.min(), trn.max()
                # bounds are floats (between, greaterThan, lessThan): only inferred when the
                # extremes are exact as floats (not for e.g. 28-digit decimals or int64 near 2^63)
                if (
                    pd.notna(t_lo)
                    and _exact_float(lo)
                    and _exact_float(hi)
                    and _holds((hon < t_lo) | (hon > t_hi), hon.notna(), thr)
                ):
                    if lvl >= 2:
                        out.append(
                            Proposal(
                                "between",
                                [name],
                                {"min": lo_f, "max": hi_f},
                                description=f"{name} lies in the observed range",
                            )
                        )
                    if lvl >= 3:
                        out.append(
                            Proposal(
                                "greaterThan",
                                [name],
                                {"value": lo_f, "inclusive": True},
                                description=f"{name} is at least the observed minimum",
                            )
                        )
                        out.append(
                            Proposal(
                                "lessThan",
                                [name],
                                {"value": hi_f, "inclusive": True},
                                description=f"{name} is at most the observed maximum",
                            )
                        )

        # -- dates and times
        if ftype in ("Date", "Timestamp"):
            lo, hi = _iso(st.get("min")), _iso(st.get("max"))
            trt, hot = _times(tr), _times(ho)
            if lo and hi:
                hi_dt = dt.datetime.fromisoformat(hi)
                if hi_dt <= now:
                    out.append(Proposal("notFuture", [name], description=f"{name} is never in the future"))
                t_lo, t_hi = trt.min(), trt.max()
                if lvl >= 2 and pd.notna(t_lo) and _holds((hot < t_lo) | (hot > t_hi), hot.notna(), thr):
                    out.append(
                        Proposal(
                            "betweenTimes",
                            [name],
                            {"min_time": lo, "max_time": hi},
                            description=f"{name} lies in the observed period",
                        )
                    )
                    if lvl >= 3:
                        lo_dt = dt.datetime.fromisoformat(lo)
                        day = dt.timedelta(days=1)
                        out.append(
                            Proposal(
                                "afterDateTime",
                                [name],
                                {"datetime": (lo_dt - day).isoformat()},
                                description=f"{name} is later than the day before the first value",
                            )
                        )
                        out.append(
                            Proposal(
                                "beforeDateTime",
                                [name],
                                {"datetime": (hi_dt + day).isoformat()},
                                description=f"{name} is earlier than the day after the last value",
                            )
                        )

        # -- strings
        if ftype == "String" and lvl >= 2 and (st.get("max_length") or 0) <= MAX_PATTERN_LENGTH:
            strings = [str(v) for v in tr.dropna().tolist()]
            if len(strings) >= MIN_TRAINING_VALUES:
                pattern = infer_pattern(strings)
                if pattern:
                    rx = re.compile(pattern)
                    hs = ho.dropna().map(lambda v, rx=rx: rx.search(str(v)) is None)
                    if _holds(hs, pd.Series(True, index=hs.index), thr):
                        out.append(
                            Proposal(
                                "matchesPattern",
                                [name],
                                {"pattern": pattern},
                                description=f"{name} has a regular shape",
                            )
                        )
                elif lvl >= 5:
                    shaped = _shape_pattern(strings)
                    if shaped:
                        out.append(
                            Proposal(
                                "matchesPattern",
                                [name],
                                {"pattern": shaped},
                                coverage=0.0,
                                description=f"{name} mostly has a regular shape",
                            )
                        )

        # -- uniqueness
        if (
            lvl >= 2
            and ftype in ("Integral", "String")
            and uniques < MAX_UNIQUE
            and completeness
            and (st.get("unique_distinct_ratio") or 0) >= UNIQUE_RATIO
            and tr.notna().sum() >= MIN_TRAINING_VALUES
        ):
            both = pd.concat([tr, ho]).dropna().map(_as_text)
            if not both.duplicated().any():
                uniques += 1
                out.append(Proposal("unique", [name], description=f"{name} identifies a record"))

    if lvl >= 1:
        out.extend(_any_not_null(profile, training, holdout, thr))
    if lvl >= 3:
        out.extend(_field_comparisons(profile, training, holdout, thr))
    if lvl >= 4:
        out.extend(regressions(profile, training, holdout, thr))
    return [p for p in out if _available(p.rule)]


def _any_not_null(profile: ProfileResult, training, holdout, thr) -> list[Proposal]:
    """``anyNotNull`` for pairs of sometimes-NULL fields that are never NULL together."""
    partial = [
        n
        for n, st in profile.raw.items()
        if st.get("completeness") is not None and 0 < st["completeness"] < 1 and n in training.columns
    ]
    partial = partial[:MAX_COMPARED_FIELDS]
    out = []
    for i, a in enumerate(partial):
        for b in partial[i + 1 :]:
            tr_both = training[a].isna() & training[b].isna()
            if (training[a].isna() | training[b].isna()).sum() < MIN_TRAINING_VALUES // 4 or tr_both.any():
                continue
            ho_both = holdout[a].isna() & holdout[b].isna()
            if _holds(ho_both, pd.Series(True, index=holdout.index), thr):
                out.append(Proposal("anyNotNull", [a, b], description=f"{a} or {b} is always present"))
    return out


def expected_schema(t) -> Proposal | None:
    """Level 1 ``expectedSchema``: every column of ``t`` (computed fields included), typed
    as the rule reads them; ``allow_other_fields`` true."""
    from ...sources.base import field_type_of as read_type

    schema = t.schema()
    names = list(schema.names)
    if not names or not _available("expectedSchema"):
        return None
    types = {n: read_type(schema[n]) for n in names}
    return Proposal(
        "expectedSchema",
        names,
        {"field_types": {n: ty for n, ty in types.items() if ty != "Unknown"}, "allow_other_fields": True},
        description=f"the container has its {len(names)} fields, with their types",
    )


def time_distribution(t, profile: ProfileResult) -> list[Proposal]:
    """``timeDistributionSize`` for the first ``MAX_TIME_DISTRIBUTION_FIELDS`` date/time
    fields: daily intervals when the values span at most 800 days, else monthly;
    ``min_size``/``max_size`` = the smallest/largest interval count (0 when an interval
    between the first and the last is empty). One query per field."""
    if not _available("timeDistributionSize"):
        return []
    rule_cls = cast("type[AggregateRule]", get_rule("timeDistributionSize"))
    from ..rules.time_distribution_size import intervals_between

    out = []
    names = [
        n for n, ty in profile.types.items() if ty in ("Date", "Timestamp") and profile.raw[n].get("non_null_count")
    ][:MAX_TIME_DISTRIBUTION_FIELDS]
    for name in names:
        lo, hi = profile.raw[name]["min"], profile.raw[name]["max"]
        if not isinstance(lo, (dt.date, dt.datetime)) or not isinstance(hi, (dt.date, dt.datetime)):
            continue
        span = (hi - lo).days if type(lo) is type(hi) else 0
        interval = "daily" if span <= 800 else "monthly"
        try:
            rule = rule_cls(CheckSpec(0, "timeDistributionSize", [name], {"interval_name": interval, "max_size": 0}))
            row = t.aggregate(**rule.metrics(t, None)).to_pyarrow().to_pylist()[0]
        except Exception:  # noqa: BLE001 - a field the engine cannot bucket gets no check
            continue
        if row["first"] is None:
            continue
        total = intervals_between(row["first"], row["last"], interval)
        if total < 7:
            continue
        empty = total - int(row["buckets"] or 0)
        smallest = 0 if empty else int(row["smallest"] or 0)
        out.append(
            Proposal(
                "timeDistributionSize",
                [name],
                {"interval_name": interval, "min_size": smallest, "max_size": int(row["largest"] or 0)},
                description=f"records per {interval[:-2] if interval == 'daily' else 'month'} "
                f"of {name} stay in the observed range",
            )
        )
    return out
