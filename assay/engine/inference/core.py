"""What every part of check inference shares: the level of each rule type and the
limits of inference (constants), :class:`Proposal`, :class:`InferenceOptions`, and the
training / hold-out split of the profile's sample with the helpers that test a proposal on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..rules import get_rule

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


#: A row of the profile's sample is held out when the hash of its values is 0 modulo this:
#: about 1 / HOLDOUT_MODULUS of the sample tests the proposals (``percent_testing_holdout``).
HOLDOUT_MODULUS = 3


def split(sample: pd.DataFrame, holdout_cap: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training, hold-out): a row goes to the hold-out set when the hash of its values is
    0 modulo ``HOLDOUT_MODULUS`` (3); the hold-out set keeps at most ``holdout_cap`` rows."""
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
    hold = (h % np.uint64(HOLDOUT_MODULUS)) == 0
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
