"""``predictedBy`` proposals (level 4): a least-squares line between two numeric fields
when it predicts the hold-out rows, with a tolerance fitted to the whole data read.
"""

from __future__ import annotations

import math

import numpy as np

from ..profile import ProfileResult
from .core import (
    MAX_PREDICTIONS,
    MAX_TOLERANCE_SHARE,
    MIN_TRAINING_VALUES,
    TOLERANCE_EPSILON,
    TOLERANCE_MARGIN,
    Proposal,
    _holds,
    _numbers,
)


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
    from ..expressions import to_ibis

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
