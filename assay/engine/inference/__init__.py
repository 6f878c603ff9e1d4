"""Check inference: turn a container's field profile into quality checks.

Levels (``inference_threshold`` 0–5, ``ai_effort`` off…max; each level includes the lower
ones; the Qualytics API's inference levels, see docs/semantics.md "Profile and inferred checks"):

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

The package, by step: ``core`` (levels, limits, :class:`Proposal`,
:class:`InferenceOptions`, the training / hold-out split), ``patterns``
(``matchesPattern``), ``proposals`` (single-field rules, ``expectedSchema``,
``timeDistributionSize``), ``cross_field`` (field comparisons), ``regressions``
(``predictedBy``), ``references`` (``existsIn``, ``notExistsIn``, ``dataDiff``) and
``verification``; :func:`infer` runs them in order.
"""

from __future__ import annotations

from typing import Any

from ..profile import ProfileResult
from .core import (
    CONTAINER_RULES,
    COPY_WORDS,
    ID_SUFFIXES,
    MAX_COMPARED_FIELDS,
    MAX_EXPECTED_VALUES,
    MAX_PATTERN_ALTERNATIVES,
    MAX_PATTERN_LENGTH,
    MAX_PREDICTIONS,
    MAX_TIME_DISTRIBUTION_FIELDS,
    MAX_TOLERANCE_SHARE,
    MAX_UNIQUE,
    MIN_RANGE_OVERLAP,
    MIN_ROWS_PER_EXPECTED_VALUE,
    MIN_SHAPE_COVERAGE,
    MIN_SHAPE_VALUES_SHARE,
    MIN_SHARED_WORD,
    MIN_TRAINING_VALUES,
    REFERENCE_RULES,
    RULE_LEVEL,
    SHAPE_RULES,
    TOLERANCE_EPSILON,
    TOLERANCE_MARGIN,
    UNIQUE_RATIO,
    InferenceOptions,
    Proposal,
    check_key,
    check_level,
    split,
)
from .patterns import infer_pattern
from .proposals import expected_schema, propose, time_distribution
from .references import disjoint_keys, references_for, replicas
from .regressions import fit_tolerances, regressions
from .verification import verify

__all__ = [
    "CONTAINER_RULES",
    "COPY_WORDS",
    "ID_SUFFIXES",
    "MAX_COMPARED_FIELDS",
    "MAX_EXPECTED_VALUES",
    "MAX_PATTERN_ALTERNATIVES",
    "MAX_PATTERN_LENGTH",
    "MAX_PREDICTIONS",
    "MAX_TIME_DISTRIBUTION_FIELDS",
    "MAX_TOLERANCE_SHARE",
    "MAX_UNIQUE",
    "MIN_RANGE_OVERLAP",
    "MIN_ROWS_PER_EXPECTED_VALUE",
    "MIN_SHAPE_COVERAGE",
    "MIN_SHAPE_VALUES_SHARE",
    "MIN_SHARED_WORD",
    "MIN_TRAINING_VALUES",
    "REFERENCE_RULES",
    "RULE_LEVEL",
    "SHAPE_RULES",
    "TOLERANCE_EPSILON",
    "TOLERANCE_MARGIN",
    "UNIQUE_RATIO",
    "InferenceOptions",
    "Proposal",
    "check_key",
    "check_level",
    "disjoint_keys",
    "expected_schema",
    "fit_tolerances",
    "infer",
    "infer_pattern",
    "propose",
    "references_for",
    "regressions",
    "replicas",
    "split",
    "time_distribution",
    "verify",
]


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
