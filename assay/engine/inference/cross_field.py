"""Cross-field proposals (level 3): ``greaterThanField``, ``lessThanField`` and
``equalToField`` when the training rows always order or equal two fields.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd

from ..profile import ProfileResult
from .core import MAX_COMPARED_FIELDS, MIN_RANGE_OVERLAP, MIN_TRAINING_VALUES, Proposal, _holds, _numbers, _times


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
