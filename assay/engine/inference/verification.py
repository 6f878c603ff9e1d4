"""The last step of inference: only proposals that pass on the data read are kept."""

from __future__ import annotations

import math
from typing import Any

from ...domain import CheckResult
from ..plan import evaluate
from ..rules import CheckSpec
from .core import MIN_SHAPE_COVERAGE, Proposal


def verify(t, proposals: list[Proposal], resolver: Any = None) -> list[Proposal]:
    """Keep the proposals that pass on ``t``: one fused query measures them all (shape
    variants get their ``coverage`` from it, floored to the hundredth), and a kept one
    must pass on those same counts with that coverage (the plan's own rule)."""
    if not proposals:
        return []
    specs = [CheckSpec(i, p.rule, list(p.fields), dict(p.properties), None, None) for i, p in enumerate(proposals)]
    first = evaluate(t, specs, example_limit=0, resolver=resolver)
    kept: list[Proposal] = []
    counts: dict[int, Any] = {}
    for p, o in zip(proposals, first.outcomes, strict=False):
        counts[id(p)] = o
        if p.coverage is not None:
            if o.result == CheckResult.UNASSERTED or not o.asserted:
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
        elif o.result == CheckResult.PASSED:
            kept.append(p)
    # Each kept proposal passes on these same counts with its final coverage, decided as the
    # scan plan decides it (``plan.evaluate``): no second read of the container.
    return [p for p in kept if _passes(counts[id(p)], p.coverage)]


def _passes(outcome, coverage: float | None) -> bool:
    """Whether a check with ``coverage`` passes given ``outcome``'s counts, exactly as
    ``plan.evaluate`` decides it: no failing row, or a passing share of at least
    ``coverage`` (< 1) of the asserted rows; an aggregate rule passes when it did."""
    if outcome.kind != "row":
        return outcome.result == CheckResult.PASSED
    if not outcome.failed:
        return True
    cover = coverage if coverage is not None else 1.0
    return cover < 1.0 and bool(outcome.asserted) and (outcome.asserted - outcome.failed) / outcome.asserted >= cover
