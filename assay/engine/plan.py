"""Fuse every active check of a container into ONE aggregate query.

For a container table ``t`` and its checks, :func:`evaluate` builds

    SELECT count(*)                                   AS n,
           sum(<filter_1>)                             AS c0_asserted,
           sum(<filter_1> AND <fails_1>)               AS c0_failed,
           ...                                         -- one pair per row rule
           <metric expressions of aggregate rules>,
           (SELECT sum(n) FROM (SELECT count(*) AS n FROM t WHERE <filter>
              GROUP BY <fields> HAVING count(*) > 1))  AS c8_failed  -- grouped rules (unique)
    FROM (SELECT *, <window columns a rule's ``derived`` adds> FROM t)

with Ibis, so the container is read once for its row checks whatever their number (plus
one aggregation per grouped rule, as a hand-written query would). Each ``sum(<pred>)`` is
written in the engine's cheapest counting form (``Dialect.count_where``: PostgreSQL's
``count(*) FILTER (WHERE <pred>)``). Only for the checks
that failed does it then fetch at most ``example_limit`` failing rows each, in a
deterministic order: one query for the failing row checks together when their failing rows
are few (at most ``MAX_SHARED_EXAMPLE_ROWS``, known from the fused query's counts: one read
of the container, a sort of just those rows), else one bounded query per failing check (a
top-N of its failing rows, never a sort of the container). A grouped rule's failing groups are computed once into a
temporary table where the engine allows (``Dialect.caches_relations``): its count and
its example rows (a semi-join) then share one ``GROUP BY``. Where it does not (Assay's
read-only PostgreSQL sessions), the check is left out of the fused query and one query
returns its count and its example rows, the ``GROUP BY`` written once as a common table
expression (``Dialect.shares_common_subqueries``).

Isolation: a check that cannot be compiled (unknown field, bad expression, wrong type)
is reported as ``unasserted`` with its error before the query runs. When the fused
query itself fails at run time (e.g. an overflow or a cast error in one check), the
group is split in halves and each half retried, down to the single broken check, so
every other check still gets its result.

Wide containers: one fused query holds at most ``MAX_AGGREGATES_PER_QUERY`` aggregate
expressions and at most ``MAX_WINDOW_CHECKS_PER_QUERY`` checks that need window columns
(a rule's ``derived``) or a grouped subquery (``unique``); past that the checks are split, in order, into several such bounded
queries (a 1,000-column container with 500 checks runs as a few queries, same results).

Cross-container rules (existsIn, dataDiff, aggregationComparison, …) get their reference
container from ``resolver``. When it lives on the same Ibis backend connection as the
scanned table, the rule is fused into the same query (IN-subquery, anti-join or scalar
subquery); otherwise, and for rules that need their own pass (entityResolution), the
rule runs "apart" with its own bounded queries (see ``rules/_reference.py``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir

from ..domain import CheckResult
from . import variables
from .dialects import dialect_of
from .expressions import ExpressionError, to_ibis_predicate
from .rules import AggregateRule, CheckSpec, RowRule, Rule, get_rule

log = logging.getLogger(__name__)

#: How many failing rows to fetch per failing check at most, whatever the caller asks.
MAX_EXAMPLE_ROWS = 100_000
#: How many columns, at most, order the example rows (deterministic choice of examples).
ORDER_COLUMNS = 16
#: Aggregate expressions in one fused query, at most (wide containers are split).
MAX_AGGREGATES_PER_QUERY = 200
#: Checks that add window columns (``RowRule.derived``) or a grouped subquery (``unique``)
#: in one fused query, at most.
MAX_WINDOW_CHECKS_PER_QUERY = 16
#: Failing rows, at most, that one query reads to give several failing checks their example
#: rows: the sum of the checks' failed counts (a row failing two checks counts twice, so the
#: rows read are at most that many) ...
MAX_SHARED_EXAMPLE_ROWS = 100_000
#: ... and those rows' values (rows × columns), at most: a wide container's rows are read
#: with a query per check instead (the shared read holds its rows in memory to split them).
MAX_SHARED_EXAMPLE_VALUES = 2_000_000
#: Rows read above which an engine that pushes filters into its scans
#: (``Dialect.filters_in_scan``) reads each failing check's example rows with a query of
#: its own: each then reads little (DuckDB, 6 M rows: 1–5 ms a check where the filter is
#: pushed into the scan, against 0.38 s for the failing rows of 10 checks in one query).
SHARED_EXAMPLES_ABOVE_ROWS = 1_000_000
#: Rows read above which, on an engine that pushes a filter on one column into its scan
#: (``Dialect.filters_in_scan``), a failing check whose own predicate it cannot push (a
#: semi-join against ``unique``'s groups, a comparison of two columns) reads its example
#: rows in two steps (:func:`_bounded_by_first_column`). DuckDB, 6 M rows: ``unique``
#: 155 → 37 ms, ``l_receiptdate >= l_shipdate`` 130 → 20 ms; on a small table the second
#: query costs more than it saves.
BOUNDED_EXAMPLES_ABOVE_ROWS = 1_000_000
#: Keys per batch when a cross-container rule moves keys between two engines.
DEFAULT_BATCH_SIZE = 10_000


@dataclass
class CheckOutcome:
    """The result of one check on one container read.

    ``result`` is ``passed``, ``failed`` or ``unasserted`` (the check could not run:
    ``error`` says why). For row rules, ``asserted`` is the number of rows the check saw
    (after its filter) and ``failed`` the number that broke it; ``examples`` holds up to
    the requested number of failing rows as dicts; ``examples_error`` says why they could
    not be read (the check still failed, with its count). For aggregate rules ``message``
    is the shape message.
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
    examples_error: str | None = None


@dataclass
class _Compiled:
    spec: CheckSpec
    rule: Rule
    key: str
    where: ir.BooleanValue | None
    derived: dict[str, ir.Value] = field(default_factory=dict)
    metrics: dict[str, ir.Scalar] = field(default_factory=dict)
    #: runs with its own queries (``rule.evaluate_apart``), not in the fused query
    apart: bool = False
    #: source columns a row check reads (None: unknown, the fused query reads them all)
    columns: set[str] | None = None
    #: a row rule counted by groups (``RowRule.grouped_failures``): a scalar subquery
    grouped: bool = False
    #: its failing groups over the scanned table, once built (a temporary table where the
    #: engine caches relations: computed once for the count and the example rows)
    groups: ir.Table | None = None
    #: ``groups`` is that temporary table
    groups_cached: bool = False
    #: when its groups are not cached, the fused query leaves the check out and
    #: :func:`_count_with_examples` counts it with its example rows in one query
    #: (``Dialect.shares_common_subqueries``, and example rows asked for)
    counts_with_examples: bool = False


@dataclass
class ContainerResult:
    """Rows read (``records``) and one :class:`CheckOutcome` per check, in input order."""

    records: int
    outcomes: list[CheckOutcome]


def _compile(spec: CheckSpec, t: ir.Table, index: int, resolver: Any = None) -> _Compiled:
    spec = variables.apply(spec, spec.variables)
    try:
        rule_cls = get_rule(spec.rule_type)
    except KeyError:
        raise ExpressionError(f"unknown rule type '{spec.rule_type}'") from None
    rule = rule_cls(spec)
    # expectedSchema (fields_must_exist = False) reports a missing field as its own finding
    missing = [f for f in spec.fields if f not in t.columns] if rule.fields_must_exist else []
    if missing:
        raise ExpressionError(f"field(s) not found in the container: {', '.join(missing)}")
    key = f"__assay_c{index}"
    where = to_ibis_predicate(spec.filter, t) if spec.filter else None
    compiled = _Compiled(spec=spec, rule=rule, key=key, where=where)
    if rule.needs_reference:
        if resolver is None:
            raise ExpressionError(f"rule {spec.rule_type} needs a reference container, and none can be reached here")
        rule.bind(resolver.resolve(rule.props.ref_datastore_id, rule.props.ref_container_id), t)
    if rule.apart:
        compiled.apart = True
    elif isinstance(rule, RowRule) and rule.grouped_failures(t, where) is not None:
        # counted by a GROUP BY … HAVING subquery (unique): compiled here so a broken check
        # is reported before the fused query runs
        compiled.grouped = True
        compiled.columns = set(spec.fields) | _referenced(t, [where])
    elif isinstance(rule, RowRule):
        compiled.derived = rule.derived(t, key, where)
        view = t
        if compiled.derived:
            # A narrow view (the check's fields, its filter's columns and the window
            # columns) is much cheaper to build than t.mutate() on a very wide table.
            needed = set(spec.fields) | _referenced(t, [*compiled.derived.values(), where])
            view = t.select(*[n for n in t.columns if n in needed], **compiled.derived)
        # compile once here so a broken check is reported before the fused query runs
        try:
            fails = rule.failing(view, key)
        except Exception:  # noqa: BLE001 - the rule needs more than the narrow view
            if view is t:
                raise
            view = t.mutate(**compiled.derived)
            fails = rule.failing(view, key)
        if not fails.type().is_boolean():
            raise ExpressionError(f"rule {spec.rule_type} produced a non-boolean predicate")
        # the source columns this check reads: the fused query projects only those
        compiled.columns = (
            set(spec.fields)
            | _referenced(t, [*compiled.derived.values(), where])
            | (_referenced(view, [fails]) - set(compiled.derived))
        )
    elif isinstance(rule, AggregateRule):
        compiled.metrics = rule.metrics(t, where)
    return compiled


def _run_fused(t: ir.Table, group: list[_Compiled]) -> dict[str, Any]:
    derived: dict[str, ir.Value] = {}
    for c in group:
        derived.update(c.derived)
    needed: set[str] | None = set()
    for c in group:
        needed = None if needed is None or c.columns is None else needed | c.columns
    if needed:
        # only row checks: read just the columns they use (a wide table's other columns
        # would be carried through every window operator)
        base = t.select(*[n for n in t.columns if n in needed], **derived)
    else:
        base = t.mutate(**derived) if derived else t
    dialect = dialect_of(t)
    columns: dict[str, ir.Scalar] = {"__assay_n": base.count()}
    for c in group:
        if c.grouped:
            groups = _groups_of(t, c)
            if c.groups_cached or not c.counts_with_examples:
                columns[f"{c.key}_failed"] = groups["n"].sum().as_scalar()
            where = to_ibis_predicate(c.spec.filter, base) if c.spec.filter else None
            if where is not None:
                columns[f"{c.key}_asserted"] = dialect.count_where(base, where)
        elif isinstance(c.rule, RowRule):
            # Rebind the predicates to `base` (which carries every derived column).
            fails = c.rule.failing(base, c.key)
            where = to_ibis_predicate(c.spec.filter, base) if c.spec.filter else None
            columns[f"{c.key}_failed"] = dialect.count_where(base, fails if where is None else where & fails)
            if where is not None:
                columns[f"{c.key}_asserted"] = dialect.count_where(base, where)
        else:
            assert isinstance(c.rule, AggregateRule)
            where = to_ibis_predicate(c.spec.filter, base) if c.spec.filter else None
            for name, m in c.rule.metrics(base, where).items():
                columns[f"{c.key}_{name}"] = m
    row = base.aggregate(**columns).to_pyarrow().to_pylist()[0]
    return row


def _groups_of(t: ir.Table, c: _Compiled) -> ir.Table:
    """The failing groups of grouped check ``c`` over ``t`` (``RowRule.grouped_failures``),
    built once per evaluation: into a temporary table where the engine caches relations
    cheaply (``Dialect.caches_relations``), so the count and the example rows share one
    ``GROUP BY``; elsewhere (or when the temporary table cannot be made) the same
    expression, computed by each query that needs it."""
    if c.groups is None:
        assert isinstance(c.rule, RowRule)
        where = to_ibis_predicate(c.spec.filter, t) if c.spec.filter else None
        # the GROUP BY reads only the check's fields and its filter's: on a wide container,
        # every Ibis node over the whole table costs time proportional to its width
        used = set(c.spec.fields) | _referenced(t, [where])
        if used and len(used) < len(t.columns):
            t = t.select(*[n for n in t.columns if n in used])
            where = to_ibis_predicate(c.spec.filter, t) if c.spec.filter else None
        groups = c.rule.grouped_failures(t, where)
        assert groups is not None
        c.groups = groups
        if dialect_of(t).caches_relations:
            try:
                c.groups = groups.cache()
                c.groups_cached = True
            except Exception as e:  # noqa: BLE001 - e.g. a database that refuses temporary tables
                log.info("could not cache the groups of check %s (%s); computed by each query", c.spec.id, _describe(e))
    return c.groups


def _release(compiled: list[_Compiled]) -> None:
    """Drop the temporary tables :func:`_groups_of` made (best effort)."""
    for c in compiled:
        release = getattr(c.groups, "release", None)
        if release is not None:
            try:
                release()
            except Exception as e:  # noqa: BLE001 - a temporary table goes with the connection anyway
                log.debug("could not drop a cached relation: %s", e)
        c.groups = None
        c.groups_cached = False


def _referenced(t: ir.Table, exprs) -> set[str]:
    """Names of the columns of ``t`` that the Ibis expressions ``exprs`` read (None skipped)."""
    import ibis.expr.operations as ops

    rel = t.op()
    names: set[str] = set()
    for e in exprs:
        if e is None:
            continue
        for f in e.op().find(ops.Field):
            if f.rel == rel:
                names.add(f.name)
    return names


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
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> ContainerResult:
    """Assert ``checks`` on table ``t`` with one fused aggregate query.

    Args:
        t: the container's Ibis table, already restricted to the rows to read.
        checks: the active checks of the container.
        example_limit: failing rows to fetch per failing row check (capped at
            ``MAX_EXAMPLE_ROWS``); 0 fetches none.
        on_query: called with a short label before each query runs (progress/abort hook).
        resolver: how cross-container rules reach the other container: an object with
            ``resolve(ref_datastore_id, ref_container_id)`` returning an
            ``operations.resolver.Reference`` (``ContainerResolver``); None when there is
            none (cross-container checks are then unasserted).
        batch_size: keys per batch when a cross-container rule moves keys between two
            engines (at least 1).

    Returns: rows read and one outcome per check, in the order given.
    Raises: whatever the engine raises when even the bare row count cannot be computed
        (the container itself is unreadable).
    """
    compiled: list[_Compiled] = []
    try:
        return _evaluate(t, checks, compiled, example_limit, on_query, resolver, batch_size)
    finally:
        _release(compiled)


def _evaluate(
    t: ir.Table,
    checks: list[CheckSpec],
    compiled: list[_Compiled],
    example_limit: int,
    on_query: Callable[[str], None] | None,
    resolver: Any,
    batch_size: int,
) -> ContainerResult:
    outcomes: dict[int, CheckOutcome] = {}
    for i, spec in enumerate(checks):
        try:
            c = _compile(spec, t, i, resolver)
            compiled.append(c)
        except Exception as e:  # noqa: BLE001 - any compile error belongs to this check
            outcomes[i] = CheckOutcome(spec.id, spec.rule_type, _kind(spec), CheckResult.UNASSERTED, error=_describe(e))

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
                    group[0].spec.id,
                    group[0].spec.rule_type,
                    _kind(group[0].spec),
                    CheckResult.UNASSERTED,
                    error=_describe(e),
                    rule=group[0].rule,
                )
                return
            mid = len(group) // 2
            log.info("fused query over %d checks failed (%s); splitting", len(group), _describe(e))
            run(group[:mid])
            run(group[mid:])
            return
        records = _as_int(row.pop("__assay_n"))
        values.update(row)

    limit = min(max(example_limit, 0), MAX_EXAMPLE_ROWS)
    fused = [c for c in compiled if not c.apart]
    for c in fused:
        c.counts_with_examples = c.grouped and limit > 0 and dialect_of(t).shares_common_subqueries
    for group in bounded_groups(fused):
        run(group)
    apart: dict[int, Any] = {}
    for c in compiled:
        if c.apart:
            idx = int(c.key.removeprefix("__assay_c"))
            try:
                apart[idx] = _run_apart(t, c, batch_size, min(max(example_limit, 0), MAX_EXAMPLE_ROWS), on_query)
            except _HookError as e:
                raise e.original from None
            except Exception as e:  # noqa: BLE001 - this check's own queries failed
                outcomes[idx] = CheckOutcome(
                    c.spec.id, c.spec.rule_type, _kind(c.spec), CheckResult.UNASSERTED, error=_describe(e), rule=c.rule
                )
    grouped_examples: dict[str, list[dict[str, Any]]] = {}  # read with their count
    grouped_errors: dict[str, str] = {}  # why those example rows could not be read
    for c in fused:
        if not c.counts_with_examples or c.groups_cached or _index(c) in outcomes:
            continue
        if on_query:
            on_query(f"count and examples of check {c.spec.id}")
        try:
            values[f"{c.key}_failed"], grouped_examples[c.key] = _count_with_examples(t, c, limit)
            continue
        except Exception as e:  # noqa: BLE001 - e.g. the statement timeout, or a value that cannot be read
            # the example rows cost more than the count (they are sorted, and every column
            # is read): the count alone, as the fused query would have made it
            grouped_errors[c.key] = _describe(e)
        if on_query:
            on_query(f"count of check {c.spec.id}")
        try:
            values[f"{c.key}_failed"] = _as_int(_groups_of(t, c)["n"].sum().to_pyarrow().as_py())
        except Exception as e:  # noqa: BLE001 - this check's own query failed
            outcomes[_index(c)] = CheckOutcome(
                c.spec.id, c.spec.rule_type, _kind(c.spec), CheckResult.UNASSERTED, error=_describe(e), rule=c.rule
            )
    if records is None:
        if on_query:
            on_query("row count")
        records = _as_int(t.count().to_pyarrow().as_py())

    for c in compiled:
        idx = int(c.key.removeprefix("__assay_c"))
        if idx in outcomes:
            continue
        spec, rule = c.spec, c.rule
        done = apart.get(idx)
        if isinstance(rule, RowRule):
            if done is not None:
                failed, asserted = done.failed, done.asserted
            else:
                failed = _as_int(values.get(f"{c.key}_failed"))
                asserted = _as_int(values.get(f"{c.key}_asserted")) if spec.filter else records
            out = CheckOutcome(
                spec.id, spec.rule_type, "row", CheckResult.PASSED, asserted=asserted, failed=failed, rule=rule
            )
            if failed:
                coverage = spec.coverage if spec.coverage is not None else 1.0
                # Passing share >= coverage, i.e. failing share <= 1 - coverage, written so
                # the boundary is exact (1 - 0.9 == 0.09999999999999998 < 1/10).
                if coverage < 1.0 and asserted and (asserted - failed) / asserted >= coverage:
                    out.result = CheckResult.PASSED
                else:
                    out.result = CheckResult.FAILED
                    out.message = rule.shape_message(failed, asserted)
            outcomes[idx] = out
        else:
            assert isinstance(rule, AggregateRule)
            if done is not None:
                metrics = done.metrics or {}
            else:
                metrics = {name: values.get(f"{c.key}_{name}") for name in c.metrics}
            try:
                message = rule.assess(metrics)
            except Exception as e:  # noqa: BLE001
                outcomes[idx] = CheckOutcome(
                    spec.id, spec.rule_type, "aggregate", CheckResult.UNASSERTED, error=_describe(e)
                )
                continue
            failed = records if message else 0
            if message:  # rules that count their own failing records say how many
                counted = rule.failed_records(metrics)
                if counted is not None:
                    failed = _as_int(counted)
            outcomes[idx] = CheckOutcome(
                spec.id,
                spec.rule_type,
                "aggregate",
                CheckResult.FAILED if message else CheckResult.PASSED,
                asserted=records,
                failed=failed,
                message=message,
                rule=rule,
            )

    if limit:
        failing = [
            c
            for c in compiled
            if outcomes[_index(c)].kind == "row" and outcomes[_index(c)].result == CheckResult.FAILED
        ]
        shared = _shared_examples(t, failing, outcomes, records, limit, on_query)
        for c in failing:
            out = outcomes[_index(c)]
            if c.key in shared or c.key in grouped_examples:
                out.examples = shared[c.key] if c.key in shared else grouped_examples[c.key]
                continue
            if c.key in grouped_errors:
                out.examples, out.examples_error = [], grouped_errors[c.key]
                log.warning("could not fetch examples of check %s: %s", c.spec.id, out.examples_error)
                continue
            if on_query:
                on_query(f"examples of check {c.spec.id}")
            try:
                if c.apart:
                    examples = apart[_index(c)].examples
                    out.examples = _ordered_rows(t, examples, limit) if examples is not None else []
                else:
                    out.examples = failing_rows(t, c, limit, records=records)
            except Exception as e:  # noqa: BLE001
                out.examples, out.examples_error = [], _describe(e)
                log.warning("could not fetch examples of check %s: %s", c.spec.id, out.examples_error)
    return ContainerResult(records=records, outcomes=[outcomes[i] for i in range(len(checks))])


def _index(c: _Compiled) -> int:
    """The position of compiled check ``c`` among the checks evaluated."""
    return int(c.key.removeprefix("__assay_c"))


def _shared_examples(
    t: ir.Table,
    failing: list[_Compiled],
    outcomes: dict[int, CheckOutcome],
    records: int,
    limit: int,
    on_query: Callable[[str], None] | None,
) -> dict[str, list[dict[str, Any]]]:
    """The example rows of several failing row checks from ONE query, ``{check key: rows}``
    (each as :func:`failing_rows` gives them: its first ``limit`` failing rows in the same
    order), or ``{}`` when each check's own query is the better plan:

    * fewer than two such checks (grouped and apart checks read their own);
    * more failing rows in all than ``MAX_SHARED_EXAMPLE_ROWS`` (the query sorts them), or
      more of their values than ``MAX_SHARED_EXAMPLE_VALUES`` (it holds them in memory);
    * more rows read than ``SHARED_EXAMPLES_ABOVE_ROWS`` on an engine that pushes a
      check's filter into its scan (``Dialect.filters_in_scan``).

    The query reads the rows that fail any of the checks with one flag column per check,
    in the examples' order; each check takes its first ``limit`` flagged rows. When it
    fails, ``{}`` too: each check's own query then reports its own error."""
    group = [c for c in failing if not c.apart and not c.grouped and isinstance(c.rule, RowRule)]
    rows_read = sum(outcomes[_index(c)].failed for c in group)
    if len(group) < 2 or rows_read > MAX_SHARED_EXAMPLE_ROWS:
        return {}
    if rows_read * len(t.columns) > MAX_SHARED_EXAMPLE_VALUES:
        return {}
    dialect = dialect_of(t)
    if dialect.filters_in_scan and records > SHARED_EXAMPLES_ABOVE_ROWS:
        return {}
    if on_query:
        on_query(f"examples of {len(group)} checks")
    try:
        derived: dict[str, ir.Value] = {}
        for c in group:
            derived.update(c.derived)
        base = t.mutate(**derived) if derived else t
        flags: dict[str, ir.BooleanValue] = {}
        for n, c in enumerate(group):
            assert isinstance(c.rule, RowRule)
            fails = c.rule.failing(base, c.key)
            where = to_ibis_predicate(c.spec.filter, base) if c.spec.filter else None
            flags[f"__assay_e{n}"] = fails if where is None else where & fails
        q = base.filter(ibis.or_(*flags.values())).select(*t.columns, **flags)
        order = _order_columns(t)
        if order:
            q = q.order_by([q[name] for name in order])
        q = q.select(*[dialect.example_value(q[name]) for name in t.columns], *flags)
        rows = q.to_pyarrow()
    except Exception as e:  # noqa: BLE001 - each check's own query says what is wrong
        log.info("the example rows of %d checks could not be read together (%s)", len(group), _describe(e))
        return {}
    import pyarrow as pa
    import pyarrow.compute as pc

    shared: dict[str, list[dict[str, Any]]] = {}
    for n, c in enumerate(group):
        flagged = pc.fill_null(rows[f"__assay_e{n}"].cast(pa.bool_()), False)
        shared[c.key] = rows.filter(flagged).slice(0, limit).select(list(t.columns)).to_pylist()
    return shared


def bounded_groups(compiled: list[_Compiled]) -> list[list[_Compiled]]:
    """Split ``compiled`` (in order) into groups of at most ``MAX_AGGREGATES_PER_QUERY``
    aggregate expressions and ``MAX_WINDOW_CHECKS_PER_QUERY`` window-using or grouped checks each.

    A row check costs 1 expression (2 with a filter), an aggregate check one per metric;
    a single check costlier than the bound still gets a group of its own.
    """
    groups: list[list[_Compiled]] = []
    current: list[_Compiled] = []
    cost = windows = 0
    for c in compiled:
        c_cost = (2 if c.spec.filter else 1) if isinstance(c.rule, RowRule) else max(len(c.metrics), 1)
        c_windows = 1 if c.derived or c.grouped else 0
        if current and (cost + c_cost > MAX_AGGREGATES_PER_QUERY or windows + c_windows > MAX_WINDOW_CHECKS_PER_QUERY):
            groups.append(current)
            current, cost, windows = [], 0, 0
        current.append(c)
        cost += c_cost
        windows += c_windows
    if current:
        groups.append(current)
    return groups


class _HookError(Exception):
    """Carries an exception raised by the caller's ``on_query`` hook (an abort) through a
    rule's own queries, so it is re-raised instead of being reported on the check."""

    def __init__(self, original: BaseException):
        super().__init__(str(original))
        self.original = original


def _run_apart(t: ir.Table, c: _Compiled, batch_size: int, limit: int, on_query):
    def hook(label: str) -> None:
        if on_query:
            try:
                on_query(f"check {c.spec.id}: {label}")
            except Exception as e:  # noqa: BLE001
                raise _HookError(e) from e

    where = to_ibis_predicate(c.spec.filter, t) if c.spec.filter else None
    return c.rule.evaluate_apart(t, where, batch_size=max(int(batch_size), 1), example_limit=limit, on_query=hook)


def _ordered_rows(t: ir.Table, rows: ir.Table, limit: int) -> list[dict[str, Any]]:
    """At most ``limit`` rows of ``rows`` (a relation with ``t``'s columns) as dicts, in the
    deterministic order :func:`failing_rows` uses."""
    return _read_examples(_in_example_order(t, rows).limit(limit))


def _in_example_order(t: ir.Table, rows: ir.Table) -> ir.Table:
    """``rows`` (a relation with ``t``'s columns) with just those columns, ordered as example
    rows are: by up to ``ORDER_COLUMNS`` orderable columns of ``t``."""
    q = rows if tuple(rows.columns) == tuple(t.columns) else rows.select(*t.columns)
    order = _order_columns(t)
    return q.order_by(order) if order else q


def _count_with_examples(t: ir.Table, c: _Compiled, limit: int) -> tuple[int, list[dict[str, Any]]]:
    """How many rows of ``t`` fail grouped check ``c`` and its first ``limit`` (at least 1)
    failing rows (as :func:`failing_rows` gives them), from ONE query, for a check whose
    failing groups are not in a temporary table (``_Compiled.groups_cached``: Assay's
    PostgreSQL sessions are read-only) on an engine that computes a common table
    expression once (``Dialect.shares_common_subqueries``).

    The groups' ``GROUP BY … HAVING`` appears twice in that query, in the count and in the
    semi-join that finds the rows; Ibis writes it once, as a common table expression, which
    PostgreSQL computes once (with a parallel plan) for both. The fused query leaves such a
    check out; as its scalar subquery plus a semi-join of their own, the ``GROUP BY`` ran
    twice, the second time serially (TPC-H SF 1, 6 M rows on PostgreSQL: 10.7 s for this
    query, where the semi-join alone took 14.6 s).

    Returns: (failing rows, example rows). Raises: whatever the engine raises (the caller
    then counts the failing rows on their own, and reports why the example rows are missing)."""
    assert isinstance(c.rule, RowRule)
    groups = _groups_of(t, c)
    failed = groups["n"].sum().as_scalar()
    dialect = dialect_of(t)
    where = to_ibis_predicate(c.spec.filter, t) if c.spec.filter else None
    q = _in_example_order(t, c.rule.failing_rows(t, where, groups)).limit(limit)
    q = q.select(*[dialect.example_value(q[name]) for name in q.columns], __assay_failed=failed)
    rows = q.to_pyarrow()
    if not rows.num_rows:  # no failing row, so no failing group
        return 0, []
    return _as_int(rows["__assay_failed"][0].as_py()), rows.drop_columns(["__assay_failed"]).to_pylist()


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


def failing_rows(t: ir.Table, c: _Compiled, limit: int, records: int | None = None) -> list[dict[str, Any]]:
    """At most ``limit`` rows of ``t`` that fail compiled check ``c``, as dicts of the
    source columns, in a deterministic order (by up to ``ORDER_COLUMNS`` orderable columns).

    ``records`` (the rows of ``t``, when known) decides whether the rows are read in two
    steps (:func:`_bounded_by_first_column`); the rows are the same either way.
    """
    assert isinstance(c.rule, RowRule)
    if c.grouped:
        where = to_ibis_predicate(c.spec.filter, t) if c.spec.filter else None
        # a semi-join against the failing groups (their temporary table where the engine
        # keeps one; on PostgreSQL _count_with_examples read these rows with the count)
        rows = c.rule.failing_rows(t, where, _groups_of(t, c))
        pushed = False
    else:
        base = t.mutate(**c.derived) if c.derived else t
        fails = c.rule.failing(base, c.key)
        where = to_ibis_predicate(c.spec.filter, base) if c.spec.filter else None
        pred = fails if where is None else where & fails
        rows = base.filter(pred)
        # a window column would be computed twice; a filter on one column reaches the scan
        pushed = bool(c.derived) or len(_referenced(base, [pred])) < 2
    if not pushed and records is not None and records > BOUNDED_EXAMPLES_ABOVE_ROWS and dialect_of(t).filters_in_scan:
        bounded = _bounded_by_first_column(t, rows, limit)
        if bounded is not rows:
            try:
                return _ordered_rows(t, bounded, limit)
            except Exception as e:  # noqa: BLE001 - the one-step read reports its own error
                log.info("the bounded example rows of check %s could not be read (%s)", c.spec.id, _describe(e))
    return _ordered_rows(t, rows, limit)


def _bounded_by_first_column(t: ir.Table, rows: ir.Table, limit: int) -> ir.Table:
    """``rows`` (failing rows of ``t``) restricted to those whose first order column is at
    most the ``limit``-th smallest value it takes in ``rows``: the same first ``limit`` rows
    in the examples' order (which sorts on that column first, NULLs last), read cheaply.

    Why: DuckDB pushes a filter on one column into its table scan, which then reads the
    other columns only for the rows that pass; a semi-join or a predicate on two columns is
    applied after the scan has read every column of every row. The first step reads just
    the first order column of the failing rows (and what the predicate needs); the second
    gets a constant bound on that column, which DuckDB pushes into its scan.

    ``rows`` is returned unchanged when no such bound is sure to keep the same rows: a NULL
    among the first ``limit`` values (the bound would drop the NULL rows), a first column
    that is not an integer, a date or a decimal (a float or a timestamp may not come back
    to Python exactly; a string column may be a DuckDB ENUM, which sorts by its position
    but compares with a string literal as text), no rows, or a failed first step (logged;
    the plain query then says what is wrong)."""
    order = _order_columns(t)
    if not order:
        return rows
    first = order[0]
    dtype = t.schema()[first]
    if not (dtype.is_integer() or dtype.is_date() or dtype.is_decimal()):
        return rows
    try:
        values = rows.select(first).order_by(first).limit(limit).to_pyarrow()[first].to_pylist()
    except Exception as e:  # noqa: BLE001 - the one-step read reports its own error
        log.info("could not bound the example rows by %s (%s)", first, _describe(e))
        return rows
    if not values or values[-1] is None:
        return rows
    return rows.filter(rows[first] <= ibis.literal(values[-1], type=dtype))


def _read_examples(q: ir.Table) -> list[dict[str, Any]]:
    """The rows of ``q`` as dicts, each column read as the dialect reads example values
    (:meth:`Dialect.example_value`: PostgreSQL's unscaled NUMERIC as its exact text).

    The query gets no projection of its own where every column is read as it is: each
    Ibis node costs compile time (a scan's example rows are a query per failing check,
    each a few milliseconds of work for DuckDB and, with those nodes, 25–40 ms for Ibis)."""
    return as_example_rows(q).to_pyarrow().to_pylist()


def as_example_rows(q: ir.Table) -> ir.Table:
    """``q`` with each column as example rows read it (:meth:`Dialect.example_value`), or
    ``q`` itself where that changes no column (a projection costs Ibis compile time)."""
    dialect = dialect_of(q)
    columns = [q[name] for name in q.columns]
    values = [dialect.example_value(column) for column in columns]
    if any(value is not column for value, column in zip(values, columns, strict=True)):
        return q.select(*values)
    return q


def example_schema(t: ir.Table) -> ibis.Schema:
    """The types of ``t``'s example rows (:func:`_read_examples`), column by column: the
    table's own, but where :meth:`Dialect.example_value` reads a column as something else
    (an INTERVAL or PostgreSQL's unscaled NUMERIC as text). A remediation table holds
    example rows, so it takes these types."""
    dialect = dialect_of(t)
    return ibis.schema({name: dialect.example_value(t[name]).type() for name in t.columns})


def _order_columns(t: ir.Table) -> list[str]:
    """The columns that order example rows, in the table's order: its first
    ``ORDER_COLUMNS`` orderable ones (:func:`_orderable`)."""
    return [name for name, dtype in t.schema().items() if _orderable(dtype)][:ORDER_COLUMNS]


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
