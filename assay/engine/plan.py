"""Fuse every active check of a container into ONE aggregate query.

For a container table ``t`` and its checks, :func:`evaluate` builds

    SELECT count(*)                                   AS n,
           sum(<filter_1>)                             AS c0_asserted,
           sum(<filter_1> AND <fails_1>)               AS c0_failed,
           ...                                         -- one pair per row rule
           <metric expressions of aggregate rules>
    FROM (SELECT *, <window columns some rules need> FROM t)

with Ibis, so the container is read once whatever the number of checks. Only for the
checks that failed does it then fetch at most ``example_limit`` failing rows each (one
bounded, deterministically ordered query per failing check).

Isolation: a check that cannot be compiled (unknown field, bad expression, wrong type)
is reported as ``unasserted`` with its error before the query runs. When the fused
query itself fails at run time (e.g. an overflow or a cast error in one check), the
group is split in halves and each half retried, down to the single broken check, so
every other check still gets its result.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import ibis
import ibis.expr.types as ir

from .expressions import ExpressionError, to_ibis_predicate
from .rules import AggregateRule, CheckSpec, Rule, RowRule, get_rule

log = logging.getLogger(__name__)

#: How many failing rows to fetch per failing check at most, whatever the caller asks.
MAX_EXAMPLE_ROWS = 100_000
#: How many columns, at most, order the example rows (deterministic choice of examples).
ORDER_COLUMNS = 16


@dataclass
class CheckOutcome:
    """The result of one check on one container read.

    ``result`` is ``passed``, ``failed`` or ``unasserted`` (the check could not run:
    ``error`` says why). For row rules, ``asserted`` is the number of rows the check saw
    (after its filter) and ``failed`` the number that broke it; ``examples`` holds up to
    the requested number of failing rows as dicts. For aggregate rules ``message`` is
    the shape message.
    """

    check_id: int
    rule_type: str
    kind: str
    result: str
    asserted: int = 0
    failed: int = 0
    message: str | None = None
    error: str | None = None
    examples: list[dict[str, Any]] = field(default_factory=list)
    rule: Rule | None = None


@dataclass
class _Compiled:
    spec: CheckSpec
    rule: Rule
    key: str
    where: ir.BooleanValue | None
    derived: dict[str, ir.Value] = field(default_factory=dict)
    metrics: dict[str, ir.Scalar] = field(default_factory=dict)


@dataclass
class ContainerResult:
    """Rows read (``records``) and one :class:`CheckOutcome` per check, in input order."""

    records: int
    outcomes: list[CheckOutcome]


def _compile(spec: CheckSpec, t: ir.Table, index: int) -> _Compiled:
    try:
        rule_cls = get_rule(spec.rule_type)
    except KeyError:
        raise ExpressionError(f"unknown rule type '{spec.rule_type}'") from None
    rule = rule_cls(spec)
    missing = [f for f in spec.fields if f not in t.columns]
    if missing:
        raise ExpressionError(f"field(s) not found in the container: {', '.join(missing)}")
    key = f"__assay_c{index}"
    where = to_ibis_predicate(spec.filter, t) if spec.filter else None
    compiled = _Compiled(spec=spec, rule=rule, key=key, where=where)
    if isinstance(rule, RowRule):
        compiled.derived = rule.derived(t, key, where)
        view = t.mutate(**compiled.derived) if compiled.derived else t
        # compile once here so a broken check is reported before the fused query runs
        if not rule.failing(view, key).type().is_boolean():
            raise ExpressionError(f"rule {spec.rule_type} produced a non-boolean predicate")
    elif isinstance(rule, AggregateRule):
        compiled.metrics = rule.metrics(t, where)
    return compiled


def _run_fused(t: ir.Table, group: list[_Compiled]) -> dict[str, Any]:
    derived: dict[str, ir.Value] = {}
    for c in group:
        derived.update(c.derived)
    base = t.mutate(**derived) if derived else t
    columns: dict[str, ir.Scalar] = {"__assay_n": base.count()}
    for c in group:
        if isinstance(c.rule, RowRule):
            # Rebind the predicates to `base` (which carries every derived column).
            fails = c.rule.failing(base, c.key)
            where = to_ibis_predicate(c.spec.filter, base) if c.spec.filter else None
            columns[f"{c.key}_failed"] = (fails if where is None else where & fails).sum()
            if where is not None:
                columns[f"{c.key}_asserted"] = where.sum()
        else:
            where = to_ibis_predicate(c.spec.filter, base) if c.spec.filter else None
            for name, m in c.rule.metrics(base, where).items():
                columns[f"{c.key}_{name}"] = m
    row = base.aggregate(**columns).to_pyarrow().to_pylist()[0]
    return row


def _as_int(v: Any) -> int:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return 0
    return int(v)


def evaluate(
    t: ir.Table,
    checks: list[CheckSpec],
    *,
    example_limit: int = 10,
    on_query: Callable[[str], None] | None = None,
    resolver: Any = None,
) -> ContainerResult:
    """Assert ``checks`` on table ``t`` with one fused aggregate query.

    Args:
        t: the container's Ibis table, already restricted to the rows to read.
        checks: the active checks of the container.
        example_limit: failing rows to fetch per failing row check (capped at
            ``MAX_EXAMPLE_ROWS``); 0 fetches none.
        on_query: called with a short label before each query runs (progress/abort hook).
        resolver: how cross-container rules reach the other container
            (``operations.resolver.ContainerResolver``); None when there is none.

    Returns: rows read and one outcome per check, in the order given.
    Raises: whatever the engine raises when even the bare row count cannot be computed
        (the container itself is unreadable).
    """
    outcomes: dict[int, CheckOutcome] = {}
    compiled: list[_Compiled] = []
    for i, spec in enumerate(checks):
        try:
            c = _compile(spec, t, i)
            compiled.append(c)
        except Exception as e:  # noqa: BLE001 - any compile error belongs to this check
            outcomes[i] = CheckOutcome(spec.id, spec.rule_type, _kind(spec), "unasserted", error=_describe(e))

    values: dict[str, Any] = {}
    records: int | None = None

    def run(group: list[_Compiled]) -> None:
        nonlocal records
        if on_query:
            on_query(f"aggregate over {len(group)} checks")
        try:
            row = _run_fused(t, group)
        except Exception as e:  # noqa: BLE001
            if len(group) == 1:
                idx = int(group[0].key.removeprefix("__assay_c"))
                outcomes[idx] = CheckOutcome(
                    group[0].spec.id, group[0].spec.rule_type, _kind(group[0].spec), "unasserted",
                    error=_describe(e), rule=group[0].rule,
                )
                return
            mid = len(group) // 2
            log.info("fused query over %d checks failed (%s); splitting", len(group), _describe(e))
            run(group[:mid])
            run(group[mid:])
            return
        records = _as_int(row.pop("__assay_n"))
        values.update(row)

    if compiled:
        run(compiled)
    if records is None:
        if on_query:
            on_query("row count")
        records = _as_int(t.count().to_pyarrow().as_py())

    for c in compiled:
        idx = int(c.key.removeprefix("__assay_c"))
        if idx in outcomes:
            continue
        spec, rule = c.spec, c.rule
        if isinstance(rule, RowRule):
            failed = _as_int(values.get(f"{c.key}_failed"))
            asserted = _as_int(values.get(f"{c.key}_asserted")) if spec.filter else records
            out = CheckOutcome(spec.id, spec.rule_type, "row", "passed", asserted=asserted, failed=failed, rule=rule)
            if failed:
                coverage = spec.coverage if spec.coverage is not None else 1.0
                # Passing share >= coverage, i.e. failing share <= 1 - coverage, written so
                # the boundary is exact (1 - 0.9 == 0.09999999999999998 < 1/10).
                if coverage < 1.0 and asserted and (asserted - failed) / asserted >= coverage:
                    out.result = "passed"
                else:
                    out.result = "failed"
                    out.message = rule.shape_message(failed, asserted)
            outcomes[idx] = out
        else:
            metrics = {name: values.get(f"{c.key}_{name}") for name in c.metrics}
            try:
                message = rule.assess(metrics)
            except Exception as e:  # noqa: BLE001
                outcomes[idx] = CheckOutcome(spec.id, spec.rule_type, "aggregate", "unasserted", error=_describe(e))
                continue
            outcomes[idx] = CheckOutcome(
                spec.id, spec.rule_type, "aggregate", "failed" if message else "passed",
                asserted=records, failed=records if message else 0, message=message, rule=rule,
            )

    limit = min(max(example_limit, 0), MAX_EXAMPLE_ROWS)
    if limit:
        for c in compiled:
            idx = int(c.key.removeprefix("__assay_c"))
            out = outcomes[idx]
            if out.kind == "row" and out.result == "failed":
                if on_query:
                    on_query(f"examples of check {c.spec.id}")
                try:
                    out.examples = failing_rows(t, c, limit)
                except Exception as e:  # noqa: BLE001
                    log.warning("could not fetch examples of check %s: %s", c.spec.id, _describe(e))
    return ContainerResult(records=records, outcomes=[outcomes[i] for i in range(len(checks))])


def cap_rows(t: ir.Table, cap: int, partition_column: str | None = None) -> ir.Table:
    """At most ``cap`` rows of ``t`` — per partition when ``partition_column`` is given.

    Per partition, the rows kept are the first ``cap`` in the order of up to
    ``ORDER_COLUMNS`` orderable columns, so a rerun reads the same rows. Without a
    partition column it is a plain LIMIT (the engine's cheapest read of ``cap`` rows).
    """
    if partition_column is None:
        return t.limit(cap)
    order = [t[name] for name, dtype in t.schema().items() if name != partition_column and _orderable(dtype)]
    rank = ibis.row_number().over(ibis.window(group_by=t[partition_column], order_by=order[:ORDER_COLUMNS]))
    return t.mutate(__assay_rank=rank).filter(lambda r: r.__assay_rank < cap).drop("__assay_rank")


def failing_rows(t: ir.Table, c: _Compiled, limit: int) -> list[dict[str, Any]]:
    """At most ``limit`` rows of ``t`` that fail compiled check ``c``, as dicts of the
    source columns, in a deterministic order (by up to ``ORDER_COLUMNS`` orderable columns).
    """
    base = t.mutate(**c.derived) if c.derived else t
    fails = c.rule.failing(base, c.key)
    where = to_ibis_predicate(c.spec.filter, base) if c.spec.filter else None
    pred = fails if where is None else where & fails
    order = [t[name] for name, dtype in t.schema().items() if _orderable(dtype)][:ORDER_COLUMNS]
    q = base.filter(pred).select(*t.columns)
    if order:
        q = q.order_by([q[col.get_name()] for col in order])
    return q.limit(limit).to_pyarrow().to_pylist()


def _orderable(dtype) -> bool:
    return dtype.is_numeric() or dtype.is_string() or dtype.is_temporal() or dtype.is_boolean()


def _kind(spec: CheckSpec) -> str:
    try:
        return "row" if issubclass(get_rule(spec.rule_type), RowRule) else "aggregate"
    except KeyError:
        return "row"


def _describe(e: BaseException) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return f"{type(e).__name__}: {text}" if not isinstance(e, (ExpressionError, ValueError)) else text
