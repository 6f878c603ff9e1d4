"""Quality scores: the definition (pure functions, no metadata store).

A **quality score** is a number from 0 to 100 (higher is better) computed for a
container and for a datastore from eight **dimensions**, each itself 0–100 or unmeasured
(``None``). The full definition, with a worked example, is ``docs/quality-score.md``;
in short:

* The inputs are what happened in the **decay window**: the ``decay_period_days``
  (default 180) days up to the moment the score is computed ("as of").
* Dimensions of a container (each ``None`` when its inputs are missing):

  - ``completeness``: 100 × the mean ``completeness`` (non-NULL share) of the fields in
    the container's latest profile in the window;
  - ``coverage``: 100 × the mean over the container's fields of
    ``min(checks on the field, 3) / 3`` (Qualytics expects three checks per field);
    counts the active checks that exist as of the moment;
  - ``conformity``, ``consistency``, ``precision``, ``timeliness``, ``volumetrics``,
    ``accuracy``: 100 × the weighted share of passing assertions among the assertions
    (passed or failed) of the checks whose rule type belongs to the dimension
    (``RULE_DIMENSIONS``; every other rule type counts for ``accuracy``), over the
    successful container scans of the window. An assertion weighs its check's ``weight``.

* Container score: ``70 × Π factor(d_i, w_i)`` over the measured dimensions, clamped to
  0…100, where ``factor(d, w) = max(0, 1 + w × (d − 70) / 578)`` and ``w`` is the
  dimension's weight (0.0–2.0, default 1.0; 0 disables it). A dimension at 70 is
  neutral; at 100 it raises the score by 5.2 % (× ``w``), at 0 it lowers it by 12.1 %
  (× ``w``). With no measured dimension the score is the baseline, 70.
* Datastore score: the mean of the scores of its containers that have a successful
  container scan in the window (``None`` when none has); each datastore dimension is
  the mean of the containers' measured values of it.

Every value is rounded to 2 decimals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: The eight quality dimensions, in Qualytics' order.
DIMENSIONS = (
    "completeness",
    "coverage",
    "conformity",
    "consistency",
    "precision",
    "timeliness",
    "volumetrics",
    "accuracy",
)
#: Dimensions computed from check assertions.
CHECK_DIMENSIONS = ("conformity", "consistency", "precision", "timeliness", "volumetrics", "accuracy")

#: The score of a container whose dimensions are all neutral (or unmeasured).
BASELINE = 70.0
#: A dimension value that neither raises nor lowers the score.
NEUTRAL = 70.0
#: How far a dimension moves its factor: ``(d − NEUTRAL) / SPAN`` per unit of weight. Chosen
#: so that the one field score Qualytics publishes (user guide, enrichment API payload
#: examples: completeness 74.93, coverage 66.67, consistency, precision and accuracy 100,
#: the rest unmeasured → total 81.70) comes out the same to 2 decimals.
SPAN = 578.0
#: Checks per field for full coverage.
CHECKS_PER_FIELD = 3
DEFAULT_DECAY_PERIOD_DAYS = 180
DEFAULT_WEIGHT = 1.0

#: The dimension each rule type measures; a rule type not listed counts for ``accuracy``.
RULE_DIMENSIONS: dict[str, str] = {
    # formats, patterns and allowed values
    **dict.fromkeys(
        (
            "matchesPattern",
            "containsEmail",
            "containsUrl",
            "containsCreditCard",
            "containsSocialSecurityNumber",
            "isCreditCard",
            "isAddress",
            "minLength",
            "maxLength",
            "expectedValues",
            "requiredValues",
        ),
        "conformity",
    ),
    # type and shape stay the same
    **dict.fromkeys(("isType", "expectedSchema", "fieldCount", "isNotReplicaOf", "dataDiff"), "consistency"),
    # value ranges and resolution
    **dict.fromkeys(
        (
            "between",
            "minValue",
            "maxValue",
            "positive",
            "notNegative",
            "equalTo",
            "greaterThan",
            "lessThan",
            "sum",
            "distinctCount",
        ),
        "precision",
    ),
    # data arrives on time
    **dict.fromkeys(
        ("freshness", "notFuture", "afterDateTime", "beforeDateTime", "betweenTimes", "timeDistributionSize"),
        "timeliness",
    ),
    # size and shape over time
    **dict.fromkeys(
        (
            "volumetric",
            "minPartitionSize",
            "maxPartitionSize",
            "absoluteChangeLimit",
            "relativeChangeLimit",
            "metric",
        ),
        "volumetrics",
    ),
}


def dimension_of(rule_type: str) -> str:
    """The dimension a check of ``rule_type`` measures (``accuracy`` when not listed)."""
    return RULE_DIMENSIONS.get(rule_type, "accuracy")


@dataclass(frozen=True)
class ScoreSettings:
    """A datastore's settings: decay period in days (7–180) and a weight per dimension (0–2)."""

    decay_period_days: int = DEFAULT_DECAY_PERIOD_DAYS
    weights: dict[str, float] = field(default_factory=lambda: dict.fromkeys(DIMENSIONS, DEFAULT_WEIGHT))

    def window(self, as_of: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        """The decay window ``(as_of − decay_period_days, as_of]``."""
        return as_of - dt.timedelta(days=self.decay_period_days), as_of


# -- the inputs, as read from the metadata store (store/repositories/scores.py) ----------
@dataclass(frozen=True)
class CheckInfo:
    """A quality check as the score sees it. ``deleted_at``: archived since then."""

    id: int
    container_id: int
    rule_type: str
    fields: tuple[str, ...]
    weight: int
    active: bool
    created: dt.datetime
    deleted_at: dt.datetime | None


@dataclass(frozen=True)
class ProfileInfo:
    """A container profile: when, and the mean completeness (0…1) of its fields (None: no field)."""

    container_id: int
    created: dt.datetime
    completeness: float | None


@dataclass(slots=True)
class Assertion:
    """The check results of one successful container scan, ended at ``at``, summed per
    dimension: the weight of the passing assertions and of all (passed or failed) ones."""

    container_id: int
    at: dt.datetime
    passed: dict[str, float] = field(default_factory=dict)
    asserted: dict[str, float] = field(default_factory=dict)

    def add(self, rule_type: str, weight: float, passed: bool) -> None:
        """Count one check's result (``passed`` or failed) of weight ``weight``."""
        dim = dimension_of(rule_type)
        self.asserted[dim] = self.asserted.get(dim, 0.0) + weight
        if passed:
            self.passed[dim] = self.passed.get(dim, 0.0) + weight


@dataclass
class ScoreInputs:
    """Everything the scores of one datastore need over a span of time (indexed by container
    on first use, so scoring many containers or days reads each input once per container)."""

    containers: dict[int, tuple[str, ...]]  # container id -> its field names
    checks: list[CheckInfo]
    profiles: list[ProfileInfo]
    assertions: list[Assertion]
    scans: list[tuple[int, dt.datetime]]  # (container id, end time) of each successful container scan
    _index: dict[str, dict[int, list[Any]]] | None = field(default=None, repr=False)

    def of(self, kind: str, container_id: int) -> list[Any]:
        """The ``checks`` / ``profiles`` / ``assertions`` / ``scans`` of one container."""
        if self._index is None:
            index: dict[str, dict[int, list[Any]]] = {k: {} for k in ("checks", "profiles", "assertions", "scans")}
            for c in self.checks:
                index["checks"].setdefault(c.container_id, []).append(c)
            for p in self.profiles:
                index["profiles"].setdefault(p.container_id, []).append(p)
            for a in self.assertions:
                index["assertions"].setdefault(a.container_id, []).append(a)
            for scan in self.scans:
                index["scans"].setdefault(scan[0], []).append(scan)
            self._index = index
        return self._index[kind].get(container_id, [])


# -- the definition ------------------------------------------------------------------------
def factor(value: float, weight: float) -> float:
    """The multiplicative adjustment of a dimension: ``max(0, 1 + weight × (value − 70) / 578)``."""
    return max(0.0, 1.0 + weight * (value - NEUTRAL) / SPAN)


def combine(dimensions: dict[str, float | None], weights: dict[str, float]) -> float:
    """The container score of ``dimensions`` (0–100 or None): ``70 × Π factor``, clamped to 0…100."""
    total = BASELINE
    for name, value in dimensions.items():
        if value is not None:
            total *= factor(value, weights.get(name, DEFAULT_WEIGHT))
    return min(100.0, max(0.0, total))


def _in(at: dt.datetime, start: dt.datetime, end: dt.datetime) -> bool:
    return start < at <= end


def container_dimensions(
    inputs: ScoreInputs, container_id: int, start: dt.datetime, end: dt.datetime
) -> dict[str, float | None]:
    """The eight dimensions (0–100, unrounded, or None) of one container in the window ``(start, end]``."""
    dims: dict[str, float | None] = dict.fromkeys(DIMENSIONS)
    profiles = [p for p in inputs.of("profiles", container_id) if _in(p.created, start, end)]
    if profiles:
        latest = max(profiles, key=lambda p: p.created)
        if latest.completeness is not None:
            dims["completeness"] = 100.0 * latest.completeness
    fields = inputs.containers.get(container_id, ())
    if fields:
        live = [
            c
            for c in inputs.of("checks", container_id)
            if c.active and c.created <= end and (c.deleted_at is None or c.deleted_at > end)
        ]
        per_field = [min(sum(1 for c in live if name in c.fields), CHECKS_PER_FIELD) for name in fields]
        dims["coverage"] = 100.0 * sum(per_field) / (CHECKS_PER_FIELD * len(fields))
    passed: dict[str, float] = {}
    asserted: dict[str, float] = {}
    for a in inputs.of("assertions", container_id):
        if not _in(a.at, start, end):
            continue
        for dim, weight in a.asserted.items():
            asserted[dim] = asserted.get(dim, 0.0) + weight
        for dim, weight in a.passed.items():
            passed[dim] = passed.get(dim, 0.0) + weight
    for dim, weight in asserted.items():
        if weight > 0:
            dims[dim] = 100.0 * passed.get(dim, 0.0) / weight
    return dims


@dataclass(frozen=True)
class Score:
    """A quality score: ``total`` and the eight dimensions (each rounded to 2 decimals);
    ``created``: when the latest scan or profile it reflects happened (None: neither in the window)."""

    created: dt.datetime | None
    total: float | None
    dimensions: dict[str, float | None]


def _rounded(dims: dict[str, float | None]) -> dict[str, float | None]:
    return {k: (None if v is None else round(v, 2)) for k, v in dims.items()}


def latest_input(
    inputs: ScoreInputs, container_ids: Iterable[int], start: dt.datetime, end: dt.datetime
) -> dt.datetime | None:
    """When the latest container scan or profile of ``container_ids`` in ``(start, end]`` happened, or None."""
    times: list[dt.datetime] = []
    for cid in set(container_ids):
        times += [at for _cid, at in inputs.of("scans", cid) if _in(at, start, end)]
        times += [p.created for p in inputs.of("profiles", cid) if _in(p.created, start, end)]
    return max(times, default=None)


def container_score(inputs: ScoreInputs, container_id: int, settings: ScoreSettings, as_of: dt.datetime) -> Score:
    """The score of one container as of ``as_of`` (see the module docstring)."""
    start, end = settings.window(as_of)
    dims = container_dimensions(inputs, container_id, start, end)
    created = latest_input(inputs, [container_id], start, end)
    return Score(created, round(combine(dims, settings.weights), 2), _rounded(dims))


def scanned(inputs: ScoreInputs, start: dt.datetime, end: dt.datetime) -> list[int]:
    """Containers with a successful container scan in ``(start, end]``."""
    return sorted({cid for cid, at in inputs.scans if _in(at, start, end)} & set(inputs.containers))


def datastore_score(
    inputs: ScoreInputs, settings: ScoreSettings, as_of: dt.datetime, scanned_ids: Iterable[int]
) -> Score:
    """The score of a datastore as of ``as_of``: the mean over ``scanned_ids`` (its containers
    with a successful container scan in the window) of their scores; ``total`` None when empty."""
    start, end = settings.window(as_of)
    ids = list(scanned_ids)
    per_container = [container_dimensions(inputs, cid, start, end) for cid in ids]
    if not per_container:
        return Score(None, None, dict.fromkeys(DIMENSIONS))
    totals = [combine(d, settings.weights) for d in per_container]
    dims: dict[str, float | None] = {}
    for name in DIMENSIONS:
        values = [v for d in per_container if (v := d[name]) is not None]
        dims[name] = sum(values) / len(values) if values else None
    return Score(latest_input(inputs, ids, start, end), round(sum(totals) / len(totals), 2), _rounded(dims))


def days(start: dt.date, end: dt.date) -> Sequence[dt.date]:
    """Every date from ``start`` to ``end``, both included."""
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
