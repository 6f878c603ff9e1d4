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
    variants get their ``coverage`` from it), a second confirms the kept ones pass."""
    if not proposals:
        return []
    specs = [CheckSpec(i, p.rule, list(p.fields), dict(p.properties), None, None) for i, p in enumerate(proposals)]
    first = evaluate(t, specs, example_limit=0, resolver=resolver)
    kept: list[Proposal] = []
    for p, o in zip(proposals, first.outcomes, strict=False):
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
    if not kept:
        return []
    specs = [CheckSpec(i, p.rule, list(p.fields), dict(p.properties), None, p.coverage) for i, p in enumerate(kept)]
    second = evaluate(t, specs, example_limit=0, resolver=resolver)
    return [p for p, o in zip(kept, second.outcomes, strict=False) if o.result == CheckResult.PASSED]
