"""Check inference: turn a container's field profile into quality checks.

Levels (``inference_threshold`` 0–5, ``ai_effort`` off…max; each level includes the lower
ones; qualytics-api.md §1.3 and the Inf column of §2.3):

| level | rules inferred |
|---|---|
| 0 | none |
| 1 | ``notNull``, ``anyNotNull``, ``expectedValues``, ``notNegative``, ``notFuture``, ``expectedSchema`` |
| 2 | ``between``, ``betweenTimes``, ``matchesPattern``, ``unique`` |
| 3 | ``afterDateTime``, ``beforeDateTime``, ``greaterThan``, ``lessThan``, ``greaterThanField``, ``lessThanField``, ``equalToField``, ``timeDistributionSize`` |
| 4 | ``predictedBy``, ``existsIn``, ``notExistsIn``, ``dataDiff`` (:func:`regressions`, :func:`references_for`) |
| 5 | shape variants of ``notNull``, ``expectedValues``, ``matchesPattern`` with ``coverage`` < 1 |

How (all deterministic):

1. **Split** the profile's bounded sample into a *training* set (2/3) and a *hold-out* set
   (1/3, at most ``max_count_testing_sample`` rows) by a hash of each row's values, so the
   split does not depend on the order the engine returned the rows in.
2. **Propose** from the training set (e.g. ``between`` with the training min/max, a
   ``matchesPattern`` generalising the training strings, ``greaterThanField`` when the
   training rows always order two fields).
3. **Test** each proposal on the hold-out set: it is kept when the share of hold-out
   records (that it applies to) breaking it is at most ``percent_testing_threshold``
   (a fraction 0…1, default 0.4). A proposal that does not generalise from the training
   rows to unseen rows is dropped here.
4. **Fit** the kept proposals to the whole data read: bounds and value lists come from the
   profile's aggregate pass over every row read (min/max, the complete histogram), not
   from the sample. Shape variants get ``coverage`` = the measured passing share, rounded
   down to 0.01.
5. **Verify** with :func:`engine.plan.evaluate` on the container's table (the same rows the
   profile read): only checks that PASS are returned, so a scan of the same data finds no
   anomaly in them.

A proposal whose rule type is not in the catalogue (``engine/rules``) is skipped.

``expectedSchema`` (level 1): the container's fields as read, with their types
(``sources.base.field_type_of``; Unknown types are not listed) and ``allow_other_fields``
true. It is identified by rule alone (:func:`check_key`), so a re-profile after a schema
change updates its field list in place.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from .plan import evaluate
from .profile import ProfileResult
from .rules import AggregateRule, CheckSpec, get_rule

#: Profile level at which each rule type is inferred.
RULE_LEVEL = {
    "notNull": 1,
    "anyNotNull": 1,
    "expectedValues": 1,
    "notNegative": 1,
    "notFuture": 1,
    "between": 2,
    "betweenTimes": 2,
    "matchesPattern": 2,
    "unique": 2,
    "afterDateTime": 3,
    "beforeDateTime": 3,
    "greaterThan": 3,
    "lessThan": 3,
    "greaterThanField": 3,
    "lessThanField": 3,
    "equalToField": 3,
    "timeDistributionSize": 3,
    "existsIn": 4,
    "notExistsIn": 4,
    "predictedBy": 4,
    "dataDiff": 4,
    "expectedSchema": 1,
}
#: Rules inferred once per container: their identity is the rule alone, not rule + fields.
CONTAINER_RULES = ("expectedSchema",)
#: Level-4 rules that need the other containers' profiles (inferred after all are profiled).
REFERENCE_RULES = ("existsIn", "notExistsIn", "dataDiff")
#: Rules with a level-5 shape variant (``coverage`` < 1).
SHAPE_RULES = ("notNull", "expectedValues", "matchesPattern")

#: ``expectedValues`` is inferred for fields with at most this many distinct values…
MAX_EXPECTED_VALUES = 20
#: …each seen on average at least this many times.
MIN_ROWS_PER_EXPECTED_VALUE = 5
#: ``matchesPattern``: strings at most this long, at most this many alternative shapes.
MAX_PATTERN_LENGTH = 64
MAX_PATTERN_ALTERNATIVES = 3
#: Training values needed before a pattern, a field comparison or uniqueness is proposed.
MIN_TRAINING_VALUES = 20
#: Fields compared pairwise per type group (numbers; dates/times) at most.
MAX_COMPARED_FIELDS = 40
#: ``unique`` is proposed from this approximate distinct ratio (HyperLogLog is a few per cent
#: off on small tables; the check is verified exactly before it is kept).
UNIQUE_RATIO = 0.9
#: ``unique`` proposals per container at most (each costs a window in the scan query).
MAX_UNIQUE = 8
#: ``timeDistributionSize``: temporal fields measured at most (one query each).
MAX_TIME_DISTRIBUTION_FIELDS = 2
#: Field comparisons need the two fields' ranges to overlap on this share of their union.
MIN_RANGE_OVERLAP = 0.1
#: The shape variant of expectedValues needs its values to cover this share of the records.
MIN_SHAPE_VALUES_SHARE = 0.9
#: Shape variants need at least this passing share.
MIN_SHAPE_COVERAGE = 0.5
#: ``predictedBy``: regressions proposed per container at most.
MAX_PREDICTIONS = 10
#: ``predictedBy``: the tolerance is this factor times the largest absolute residual…
TOLERANCE_MARGIN = 1.1
#: …plus this share of the largest absolute value of the predicted field (float rounding
#: across engines), rounded up to 3 significant digits.
TOLERANCE_EPSILON = 1e-9
#: ``predictedBy``: a regression is proposed only when its training tolerance is below this
#: share of the predicted field's observed range (a wider one says less than ``between``).
MAX_TOLERANCE_SHARE = 0.25
#: Container names that mark a copy: a ``dataDiff`` is inferred on the copy, towards the original.
COPY_WORDS = ("backup", "bak", "copy", "replica", "mirror", "snapshot", "clone", "archive", "old")
#: ``notExistsIn``: two container names are related when they share a word of at least this
#: many characters (words: split on ``_``, ``-``, ``.``, spaces and digits).
MIN_SHARED_WORD = 4
#: ``notExistsIn``: a field is an identifier when its name ends with one of these words
#: (``id``, ``user_id``, ``userId``, ``o_orderkey``, ``sku_code``, ``invoice_no``).
ID_SUFFIXES = ("id", "key", "uuid", "guid", "code", "number", "num", "no")


def check_key(rule: str, fields) -> tuple[str, tuple[str, ...]]:
    """Identity of an inferred check within its container: rule + fields (the rule alone
    for ``CONTAINER_RULES``)."""
    return (rule, ()) if rule in CONTAINER_RULES else (rule, tuple(fields or ()))


def check_level(rule: str, coverage: float | None) -> int:
    """The profile level that infers a check of ``rule`` with ``coverage`` (6: never)."""
    if coverage is not None and coverage < 1 and rule in SHAPE_RULES:
        return 5
    return RULE_LEVEL.get(rule, 6)


@dataclass
class Proposal:
    """An inferred check: ``rule``, ``fields``, ``properties``, ``coverage`` (None = 1)."""

    rule: str
    fields: list[str]
    properties: dict[str, Any] = field(default_factory=dict)
    coverage: float | None = None
    description: str = ""

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        """Identity of an inferred check within its container (:func:`check_key`)."""
        return check_key(self.rule, self.fields)


@dataclass
class InferenceOptions:
    """``level`` 0–5; ``percent_testing_threshold`` 0…1; ``max_count_testing_sample`` ≥ 1;
    ``now``: the time ``notFuture`` is inferred against (default: now, UTC);
    ``references``: for level 4, key fields of the other containers of the datastore as
    ``(container_id, container_name, field_name, field_type)``; ``others``: for level 4,
    the profiled containers of the datastore as ``(container_id, container_name, profile)``
    (``notExistsIn`` and ``dataDiff``); ``container_name``: the name of the container
    inferred (``notExistsIn`` and ``dataDiff`` compare names)."""

    level: int = 2
    percent_testing_threshold: float = 0.4
    max_count_testing_sample: int = 100_000
    now: dt.datetime | None = None
    references: list[tuple[int, str, str, str]] = field(default_factory=list)
    others: list[tuple[int, str, Any]] = field(default_factory=list)
    container_name: str = ""


def _available(rule: str) -> bool:
    try:
        get_rule(rule)
        return True
    except KeyError:
        return False


# -- training / hold-out -----------------------------------------------------------------


def split(sample: pd.DataFrame, holdout_cap: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training, hold-out): a row goes to the hold-out set when the hash of its values is
    0 modulo 3; the hold-out set keeps at most ``holdout_cap`` rows."""
    if sample is None or sample.empty:
        empty = sample if sample is not None else pd.DataFrame()
        return empty, empty
    h = np.zeros(len(sample), dtype="uint64")
    for name in sample.columns:
        try:
            col = pd.util.hash_pandas_object(sample[name].astype(str), index=False).to_numpy()
        except (TypeError, ValueError):  # e.g. bytes that are not UTF-8: hash their repr
            try:
                col = pd.util.hash_pandas_object(sample[name].map(repr), index=False).to_numpy()
            except (TypeError, ValueError):
                continue
        h = h * np.uint64(1_000_003) ^ col
    # identical rows get distinct hashes by their occurrence number (order-independent: they
    # are indistinguishable), so a table of one repeated row is still split
    occurrence = pd.Series(h).groupby(h).cumcount().to_numpy().astype("uint64")
    h = pd.util.hash_array(h ^ (occurrence * np.uint64(0x9E3779B97F4A7C15)))
    hold = (h % np.uint64(3)) == 0
    training, holdout = sample[~hold], sample[hold]
    return training, holdout.iloc[:holdout_cap]


def _numbers(s: pd.Series) -> pd.Series:
    out = pd.to_numeric(s.astype(object).where(s.notna(), None), errors="coerce").astype("float64")
    return out.where(np.isfinite(out))


def _times(s: pd.Series) -> pd.Series:
    """A date/time column as UTC datetimes (naive values are UTC)."""
    try:
        return pd.to_datetime(s, utc=True, errors="coerce")
    except (TypeError, ValueError):
        return pd.to_datetime(s.astype(str), utc=True, errors="coerce")


def _holds(fails: pd.Series, applies: pd.Series, threshold: float) -> bool:
    """True when the share of applicable hold-out rows that fail is ≤ ``threshold``."""
    n = int(applies.sum())
    return n == 0 or int((fails & applies).sum()) / n <= threshold


# -- patterns ----------------------------------------------------------------------------

_META = set(".^$*+?()[]{}|\\/")


def _char_class(c: str, coarse: bool) -> str:
    if c.isascii() and c.isalnum():
        if coarse:
            return "W"
        return "A" if c.isupper() else ("a" if c.islower() else "9")
    return c


def _runs(value: str, coarse: bool) -> list[tuple[str, int, set[str]]]:
    out: list[tuple[str, int, set[str]]] = []
    for c in value:
        k = _char_class(c, coarse)
        fine = _char_class(c, False)
        if out and out[-1][0] == k:
            out[-1] = (k, out[-1][1] + 1, out[-1][2] | {fine})
        else:
            out.append((k, 1, {fine}))
    return out


_CLASS_RE = {"A": "A-Z", "a": "a-z", "9": "0-9"}


def _run_regex(k: str, fines: set[str], lo: int, hi: int) -> str:
    if k in ("A", "a", "9", "W"):
        body = "[" + "".join(_CLASS_RE[f] for f in ("A", "a", "9") if f in (fines if k == "W" else {k})) + "]"
    else:
        body = "\\" + k if k in _META else k
    if lo == hi:
        return body if lo == 1 else f"{body}{{{lo}}}"
    return f"{body}{{{lo},{hi}}}"


def infer_pattern(values: list[str]) -> str | None:
    """A regular expression (``^…$``) every value matches, generalising character classes
    (A-Z, a-z, 0-9, other characters literally) and run lengths, with at most
    ``MAX_PATTERN_ALTERNATIVES`` alternative shapes; None when the values have no common shape."""
    if not values:
        return None
    for coarse in (False, True):
        shapes: dict[tuple[str, ...], list[list[tuple[str, int, set[str]]]]] = {}
        for v in values:
            runs = _runs(v, coarse)
            shapes.setdefault(tuple(r[0] for r in runs), []).append(runs)
            if len(shapes) > MAX_PATTERN_ALTERNATIVES:
                break
        if len(shapes) > MAX_PATTERN_ALTERNATIVES:
            continue
        alternatives = []
        for sig, members in sorted(shapes.items()):
            parts = []
            for i, k in enumerate(sig):
                lengths = [m[i][1] for m in members]
                fines = set().union(*(m[i][2] for m in members))
                parts.append(_run_regex(k, fines, min(lengths), max(lengths)))
            alternatives.append("".join(parts))
        if len(alternatives) == 1:
            return f"^{alternatives[0]}$"
        return "^(?:" + "|".join(alternatives) + ")$"
    return None


# -- proposals ---------------------------------------------------------------------------


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


def _as_text(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _shape_pattern(strings: list[str]) -> str | None:
    """The pattern of the most common shapes covering ≥ 90 % of the values, if any."""
    counts: dict[tuple, list[str]] = {}
    for s in strings:
        counts.setdefault(tuple(r[0] for r in _runs(s, True)), []).append(s)
    top = sorted(counts.values(), key=len, reverse=True)[:MAX_PATTERN_ALTERNATIVES]
    covered = sum(len(v) for v in top)
    if covered < 0.9 * len(strings):
        return None
    return infer_pattern([s for group in top for s in group])


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


def _field_comparisons(profile: ProfileResult, training, holdout, thr) -> list[Proposal]:
    """greaterThanField / lessThanField / equalToField for pairs of fields of one kind
    (numbers; dates and times) whose observed ranges overlap and whose training rows
    always order them the same way."""
    out = []
    groups = {"number": ("Integral", "Fractional"), "time": ("Date", "Timestamp")}
    sample = pd.concat([training, holdout])
    for kind, types in groups.items():
        names = [
            n
            for n, t in profile.types.items()
            if t in types and n in training.columns and profile.raw[n].get("non_null_count")
        ][:MAX_COMPARED_FIELDS]
        conv: Callable = _numbers if kind == "number" else _times
        tr = {n: conv(training[n]) for n in names}
        ho = {n: conv(holdout[n]) for n in names}
        al = {n: conv(sample[n]) for n in names}
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                sa, sb = profile.raw[a], profile.raw[b]
                if not _overlapping(sa["min"], sa["max"], sb["min"], sb["max"]):
                    continue  # (nearly) disjoint ranges: the ordering says nothing
                both = tr[a].notna() & tr[b].notna()
                if both.sum() < MIN_TRAINING_VALUES:
                    continue
                da, db = tr[a][both], tr[b][both]
                hboth = ho[a].notna() & ho[b].notna()
                aboth = al[a].notna() & al[b].notna()
                equal_seen = bool((al[a][aboth] == al[b][aboth]).any())
                if (da == db).all():
                    if _holds(ho[a] != ho[b], hboth, thr):
                        out.append(Proposal("equalToField", [a], {"field_name": b}, description=f"{a} equals {b}"))
                elif (da >= db).all():
                    if _holds(ho[a] < ho[b], hboth, thr):
                        out.append(
                            Proposal(
                                "greaterThanField",
                                [a],
                                {"field_name": b, "inclusive": equal_seen},
                                description=f"{a} is greater than {b}",
                            )
                        )
                elif (da <= db).all() and _holds(ho[a] > ho[b], hboth, thr):
                    out.append(
                        Proposal(
                            "lessThanField",
                            [a],
                            {"field_name": b, "inclusive": equal_seen},
                            description=f"{a} is less than {b}",
                        )
                    )
    return out


def _overlapping(a_lo, a_hi, b_lo, b_hi) -> bool:
    """Whether the ranges overlap on at least ``MIN_RANGE_OVERLAP`` of their union."""
    try:
        union = max(a_hi, b_hi) - min(a_lo, b_lo)
        common = min(a_hi, b_hi) - max(a_lo, b_lo)
        if isinstance(union, dt.timedelta):
            union, common = union.total_seconds(), common.total_seconds()
        return float(common) > 0 and float(common) >= MIN_RANGE_OVERLAP * float(union)
    except TypeError:
        return False


# -- predictedBy ---------------------------------------------------------------------------


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _coef(v: float) -> str:
    text = f"{v:.12g}"
    return text if "e" not in text else f"{v:.12e}"


def _linear(x: str, slope: float, intercept: float) -> tuple[str, float, float]:
    """The Spark-SQL expression ``slope * x + intercept`` with coefficients cut to 12
    significant digits, and those coefficients as floats."""
    a, b = float(_coef(slope)), float(_coef(abs(intercept)))
    expr = f"{_coef(a)} * {_quote(x)}"
    if b:
        expr += f" {'-' if intercept < 0 else '+'} {_coef(b)}"
    return expr, a, (-b if intercept < 0 else b)


def _tolerance(residual: float, scale: float) -> float:
    """``TOLERANCE_MARGIN`` × residual + ``TOLERANCE_EPSILON`` × scale, rounded up to 3
    significant digits."""
    v = TOLERANCE_MARGIN * residual + TOLERANCE_EPSILON * max(abs(scale), 1.0)
    unit = 10.0 ** (math.floor(math.log10(v)) - 2)
    return float(f"{math.ceil(v / unit) * unit:.3g}")


def regressions(profile: ProfileResult, training, holdout, thr) -> list[Proposal]:
    """Level 4 ``predictedBy``: for each pair of numeric fields whose correlation (listed
    by the profile: abs(r) ≥ ``high_correlation_threshold``) the later field (in column
    order) is predicted from the earlier one by the least-squares line fitted on the
    training rows where both are finite: ``expression`` = ``a * x + b``; ``tolerance`` =
    :func:`_tolerance` of the largest absolute training residual. Proposed when the fit
    has at least ``MIN_TRAINING_VALUES`` rows, its tolerance is below
    ``MAX_TOLERANCE_SHARE`` of the field's observed range, and at most
    ``percent_testing_threshold`` of the hold-out rows fall outside it. At most
    ``MAX_PREDICTIONS`` per container; :func:`infer` then widens the tolerance to the
    largest residual over every row read (:func:`fit_tolerances`)."""
    out: list[Proposal] = []
    order = {n: i for i, n in enumerate(profile.types)}
    numeric = {n for n, ty in profile.types.items() if ty in ("Integral", "Fractional") and n in training.columns}
    for x in profile.types:
        if x not in numeric:
            continue
        for corr in profile.raw[x].get("field_correlations") or []:
            y = corr["correlated_field_profile"]
            if len(out) >= MAX_PREDICTIONS:
                return out
            if y not in numeric or order[y] <= order[x]:
                continue
            tx, ty = _numbers(training[x]), _numbers(training[y])
            both = tx.notna() & ty.notna()
            if both.sum() < MIN_TRAINING_VALUES:
                continue
            xs, ys = tx[both].to_numpy(), ty[both].to_numpy()
            var = float(np.var(xs))
            if not var or not math.isfinite(var):
                continue
            slope = float(np.mean((xs - xs.mean()) * (ys - ys.mean()))) / var
            intercept = float(ys.mean() - slope * xs.mean())
            if not (math.isfinite(slope) and math.isfinite(intercept)):
                continue
            expr, a, b = _linear(x, slope, intercept)
            residual = float(np.max(np.abs(ys - (a * xs + b))))
            lo, hi = profile.raw[y].get("min"), profile.raw[y].get("max")
            if lo is None or hi is None:
                continue
            tol = _tolerance(residual, float(np.max(np.abs(ys))))
            if not math.isfinite(tol) or tol >= MAX_TOLERANCE_SHARE * (float(hi) - float(lo)):
                continue
            hx, hy = _numbers(holdout[x]), _numbers(holdout[y])
            if not _holds((hy - (a * hx + b)).abs() > tol, hx.notna() & hy.notna(), thr):
                continue
            out.append(
                Proposal(
                    "predictedBy",
                    [y],
                    {"expression": expr, "tolerance": tol},
                    description=f"{y} follows a linear function of {x}",
                )
            )
    return out


def fit_tolerances(t, proposals: list[Proposal]) -> list[Proposal]:
    """Widen each ``predictedBy`` tolerance to :func:`_tolerance` of the largest absolute
    residual over every row of ``t`` (one aggregate query for all of them); a proposal
    whose residuals are not all finite (NaN, ±Infinity) is dropped, and all of them when
    the engine rejects the query."""
    from .expressions import to_ibis

    preds = [p for p in proposals if p.rule == "predictedBy"]
    if not preds:
        return proposals
    metrics = {}
    try:
        for i, p in enumerate(preds):
            v = t[p.fields[0]].cast("float64")
            diff = (v - to_ibis(p.properties["expression"], t).cast("float64")).abs()
            metrics[f"r{i}"] = diff.max()
            metrics[f"s{i}"] = v.abs().max()
        row = t.aggregate(**metrics).to_pyarrow().to_pylist()[0]
    except Exception:  # noqa: BLE001 - an engine that cannot compute them: no predictedBy
        return [p for p in proposals if p.rule != "predictedBy"]
    dropped = set()
    for i, p in enumerate(preds):
        r, scale = row[f"r{i}"], row[f"s{i}"]
        if r is None or scale is None or not math.isfinite(r) or not math.isfinite(scale):
            dropped.add(id(p))
            continue
        p.properties = {**p.properties, "tolerance": max(p.properties["tolerance"], _tolerance(r, scale))}
    return [p for p in proposals if id(p) not in dropped]


def expected_schema(t) -> Proposal | None:
    """Level 1 ``expectedSchema``: every column of ``t`` (computed fields included), typed
    as the rule reads them; ``allow_other_fields`` true."""
    from ..sources.base import field_type_of as read_type

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
    from .rules.time_distribution_size import intervals_between

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


def references_for(profile: ProfileResult, opts: InferenceOptions, own_container_id: int) -> list[Proposal]:
    """Level 4 proposals towards the other containers of the datastore (verified by the
    caller with a resolver): ``existsIn`` (below), ``notExistsIn`` (:func:`disjoint_keys`)
    and ``dataDiff`` (:func:`replicas`).

    ``existsIn``: a field that is not a key of its own container and whose name, or name
    after its ``x_`` prefix (``l_orderkey`` ~ ``o_orderkey``), equals that of a key field
    (every value present and distinct) of another container of the datastore, with the
    same type."""
    if opts.level < 4:
        return []
    out = disjoint_keys(profile, opts, own_container_id) + replicas(profile, opts, own_container_id)
    if not _available("existsIn"):
        return out

    def stem(n: str) -> str:
        return n.split("_", 1)[1].lower() if "_" in n else n.lower()

    for name, st in profile.raw.items():
        if not st.get("non_null_count"):
            continue
        if st.get("completeness") == 1 and (st.get("unique_distinct_ratio") or 0) >= UNIQUE_RATIO:
            continue  # a key of its own container, not a reference to another one
        ftype = profile.types.get(name)
        for cid, cname, ref_field, ref_type in opts.references:
            if cid == own_container_id or ref_type != ftype or ftype not in ("Integral", "String"):
                continue
            if ref_field == name or (
                stem(ref_field) == stem(name) and "_" in ref_field and "_" in name and len(stem(name)) >= 4
            ):
                out.append(
                    Proposal(
                        "existsIn",
                        [name],
                        {"ref_container_id": cid, "field_name": ref_field},
                        description=f"{name} values exist in {cname}.{ref_field}",
                    )
                )
                break
    return out


def _is_key(profile: ProfileResult, name: str) -> bool:
    st = profile.raw.get(name) or {}
    return (
        profile.types.get(name) in ("Integral", "String")
        and st.get("completeness") == 1
        and (st.get("unique_distinct_ratio") or 0) >= UNIQUE_RATIO
    )


def _is_identifier(name: str) -> bool:
    last = re.split(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])", name.strip())[-1].lower()
    return any(last == w or (len(last) >= 6 and last.endswith(w) and w in ("id", "key")) for w in ID_SUFFIXES)


def _words(name: str) -> set[str]:
    return {w for w in re.split(r"[^A-Za-z]+", name.lower()) if len(w) >= MIN_SHARED_WORD}


def disjoint_keys(profile: ProfileResult, opts: InferenceOptions, own_container_id: int) -> list[Proposal]:
    """Level 4 ``notExistsIn``, conservatively: a key field (complete, distinct ratio ≥
    ``UNIQUE_RATIO``, Integral or String, named as an identifier: its last word is one of
    ``ID_SUFFIXES``, or has 6 letters or more and ends with ``id``/``key``) of this
    container and a key field with the **same name and type** of another container whose name shares a word of at least
    ``MIN_SHARED_WORD`` letters with this one (``orders_2023`` / ``orders_2024``,
    ``active_users`` / ``deleted_users``): the two containers split one entity, and an id
    must not be in both. Proposed on the container whose name sorts last (one check per
    pair) when no training value of the field is in the other container's sample and at
    most ``percent_testing_threshold`` of the hold-out values are; never between replicas
    (containers whose profiles match, see :func:`replicas`). Other field pairs are never
    proposed: disjoint values of unrelated fields are a coincidence, not a rule."""
    if not _available("notExistsIn") or profile.sample is None or not opts.container_name:
        return []
    training, holdout = split(profile.sample, opts.max_count_testing_sample)
    out = []
    words = _words(opts.container_name)
    for cid, cname, other in opts.others:
        if cid == own_container_id or cname >= opts.container_name or not (words & _words(cname)):
            continue
        if other.sample is None or _same_contents(profile, other):
            continue
        for name in profile.types:
            if not (
                _is_identifier(name)
                and _is_key(profile, name)
                and name in other.types
                and other.types[name] == profile.types[name]
                and _is_key(other, name)
                and name in training.columns
                and name in other.sample.columns
            ):
                continue
            theirs = set(other.sample[name].dropna().map(_as_text))
            if not theirs or training[name].dropna().map(_as_text).isin(theirs).any():
                continue
            ho = holdout[name]
            if _holds(ho.map(_as_text).isin(theirs), ho.notna(), opts.percent_testing_threshold):
                out.append(
                    Proposal(
                        "notExistsIn",
                        [name],
                        {"ref_container_id": cid, "field_name": name},
                        description=f"{name} values are not in {cname}.{name}",
                    )
                )
    return out


_COMPARED_STATS = (
    "field_type",
    "completeness",
    "approximate_distinct_values",
    "min",
    "max",
    "min_length",
    "max_length",
    "histogram_buckets",
)


def _same_contents(a: ProfileResult, b: ProfileResult) -> bool:
    """Whether two profiles describe the same rows: same record count (> 0), same field
    names and types, equal statistics (``_COMPARED_STATS`` exactly, mean and sum within a
    relative 1e-9) and, when both samples hold every row, the same multiset of rows."""
    if not a.records or a.records != b.records or a.types != b.types:
        return False
    for name in a.types:
        fa, fb = a.fields.get(name) or {}, b.fields.get(name) or {}
        if any(fa.get(k) != fb.get(k) for k in _COMPARED_STATS):
            return False
        for k in ("mean", "sum"):
            va, vb = fa.get(k), fb.get(k)
            if (va is None) != (vb is None) or (
                va is not None and vb is not None and not math.isclose(va, vb, rel_tol=1e-9)
            ):
                return False
    if a.sample is not None and b.sample is not None and len(a.sample) == len(b.sample) == a.records:
        return bool(np.array_equal(_row_hashes(a.sample[list(a.types)]), _row_hashes(b.sample[list(a.types)])))
    return True


def _row_hashes(df: pd.DataFrame) -> np.ndarray:
    h = np.zeros(len(df), dtype="uint64")
    for name in df.columns:
        col = pd.util.hash_pandas_object(
            df[name].map(_as_text).where(df[name].notna(), "\x00null"), index=False
        ).to_numpy()
        h = h * np.uint64(1_000_003) ^ col
    return np.sort(h)


def _is_copy_of(copy: str, original: str) -> bool:
    """Whether container ``copy`` is taken as the copy of ``original``: only ``copy``'s
    name has a word of ``COPY_WORDS``; or neither or both have, and ``copy``'s name is
    longer (equal lengths: sorts last)."""

    def marked(n: str) -> bool:
        return bool(set(re.split(r"[^a-z]+", n.lower())) & set(COPY_WORDS))

    if marked(copy) != marked(original):
        return marked(copy)
    return (len(copy), copy) > (len(original), original)


def replicas(profile: ProfileResult, opts: InferenceOptions, own_container_id: int) -> list[Proposal]:
    """Level 4 ``dataDiff``, conservatively: on a container whose profile matches that of
    another container of the datastore (:func:`_same_contents`: same row count, fields,
    types and statistics, same rows when the samples hold them all), towards the one it
    is a copy of (:func:`_is_copy_of`: ``orders_backup`` → ``orders``); compared on every
    field, without row identifiers. At most one per container, and none for containers of
    fewer than ``MIN_TRAINING_VALUES`` rows (small lookup tables match by coincidence)."""
    if not _available("dataDiff") or profile.records < MIN_TRAINING_VALUES:
        return []
    for cid, cname, other in opts.others:
        if cid == own_container_id or not _is_copy_of(opts.container_name, cname):
            continue
        if _same_contents(profile, other):
            return [
                Proposal(
                    "dataDiff",
                    list(profile.types),
                    {"ref_container_id": cid},
                    description=f"the container is a copy of {cname}",
                )
            ]
    return []


def verify(t, proposals: list[Proposal], resolver: Any = None) -> list[Proposal]:
    """Keep the proposals that pass on ``t``: one fused query measures them all (shape
    variants get their ``coverage`` from it), a second confirms the kept ones pass."""
    if not proposals:
        return []
    specs = [CheckSpec(i, p.rule, list(p.fields), dict(p.properties), None, None) for i, p in enumerate(proposals)]
    first = evaluate(t, specs, example_limit=0, resolver=resolver)
    kept: list[Proposal] = []
    for p, o in zip(proposals, first.outcomes, strict=False):
        if p.coverage is not None:
            if o.result == "unasserted" or not o.asserted:
                continue
            share = (o.asserted - o.failed) / o.asserted
            coverage = math.floor(share * 100) / 100
            if share >= 1 and p.rule != "notNull":
                p.coverage = None  # holds everywhere after all: a plain check
            elif MIN_SHAPE_COVERAGE <= coverage < 1:
                p.coverage = coverage
            else:
                continue
            kept.append(p)
        elif o.result == "passed":
            kept.append(p)
    if not kept:
        return []
    specs = [CheckSpec(i, p.rule, list(p.fields), dict(p.properties), None, p.coverage) for i, p in enumerate(kept)]
    second = evaluate(t, specs, example_limit=0, resolver=resolver)
    return [p for p, o in zip(kept, second.outcomes, strict=False) if o.result == "passed"]


def infer(
    t, profile: ProfileResult, opts: InferenceOptions, *, container_id: int = 0, resolver: Any = None
) -> list[Proposal]:
    """Propose (levels up to ``opts.level``), then verify on ``t``. Returns the checks to keep."""
    if opts.level <= 0 or not profile.records:
        return []
    proposals = propose(profile, opts)
    schema = expected_schema(t)
    if schema is not None:
        proposals.append(schema)
    if opts.level >= 4:
        proposals = fit_tolerances(t, proposals)
    if opts.level >= 3:
        proposals.extend(time_distribution(t, profile))
    if opts.level >= 4 and resolver is not None:
        proposals.extend(references_for(profile, opts, container_id))
    seen, unique = set(), []
    for p in proposals:
        if p.key not in seen and check_level(p.rule, p.coverage) <= opts.level:
            seen.add(p.key)
            unique.append(p)
    return verify(t, unique, resolver)
