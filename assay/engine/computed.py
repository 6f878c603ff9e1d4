"""Computed files and computed joins as one SELECT (a sqlglot tree).

A **computed file** is ``SELECT <select_clause> FROM <source container> [WHERE <where_clause>]
[GROUP BY <group_by_clause>]``. A **computed join** joins two containers on one key field
each: every field ``f`` of the left container is visible as ``<left_prefix>_f`` and every
field of the right one as ``<right_prefix>_f`` (prefixes default to ``left`` / ``right``), so
the select, where and group-by clauses name fields without ambiguity; ``join_type`` is
``inner`` (default), ``left``, ``right`` or ``full``. The clauses are Spark SQL, as in
Qualytics; the query is rendered in the datastore's dialect and then read like a computed
table's query.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlglot
from sqlglot import exp

from .expressions import ExpressionError, _parse_all, check_functions

JOIN_TYPES = ("inner", "left", "right", "full")
CLAUSE_DIALECT = "spark"


def _expression_list(clause: str, what: str) -> list[exp.Expression]:
    """The comma-separated expressions of a select or group-by clause.

    Raises: ExpressionError when the clause is empty or is more than a list of expressions
    (a FROM, a second statement, …)."""
    if clause is None or not str(clause).strip():
        raise ExpressionError(f"the {what} clause is empty")
    trees = _parse_all("SELECT " + str(clause), CLAUSE_DIALECT)
    tree = trees[0] if len(trees) == 1 else None
    if not isinstance(tree, exp.Select) or {k for k, v in tree.args.items() if v} != {"expressions"}:
        raise ExpressionError(f"the {what} clause must be a list of expressions")
    check_functions(tree)
    return list(tree.expressions)


def _condition(clause: str) -> exp.Expression:
    trees = _parse_all(str(clause), CLAUSE_DIALECT)
    if len(trees) != 1 or isinstance(trees[0], (exp.Query, exp.DML, exp.DDL, exp.Command)):
        raise ExpressionError("the where clause must be one boolean expression")
    check_functions(trees[0])
    return trees[0]


def _finish(query: exp.Select, where_clause: str | None, group_by_clause: str | None) -> exp.Select:
    if where_clause and str(where_clause).strip():
        query = query.where(_condition(where_clause))
    if group_by_clause and str(group_by_clause).strip():
        query = query.group_by(*_expression_list(group_by_clause, "group by"))
    return query


def table_ref(name: str, schema: str | None) -> exp.Table:
    """A (schema-qualified when ``schema``) quoted table reference."""
    return exp.table_(name, db=schema, quoted=True)


def with_computed(
    source: exp.Table, fields: Sequence[str], computed: Sequence[tuple[str, str | None]] = ()
) -> tuple[exp.Expression, list[str]]:
    """``source`` as a relation with its container's computed fields as columns, and the
    names of its columns. The relation is ``source`` itself when there are no computed
    fields, else ``SELECT <fields>, <expression> AS <name> … FROM source`` (one layer per
    computed field, in order, so one may use an earlier one). ``fields``: the container's
    physical fields; ``computed``: ``(name, Spark-SQL expression)``. A computed field whose
    expression does not parse is left out (as a scan leaves it out), so the relation still
    serves clauses that do not use it."""
    names = list(fields)
    if not computed:
        return source.copy(), names
    relation: exp.Select = exp.select(*[exp.column(f, quoted=True) for f in fields]).from_(source.copy())
    for i, (name, expression) in enumerate(computed):
        try:
            value = _condition(expression or "")
        except ExpressionError:
            continue
        relation = exp.select(exp.Star(), value.as_(name, quoted=True)).from_(relation.subquery(f"_cf{i}"))
        names.append(name)
    return relation.subquery("_computed"), names


def file_query(
    source: exp.Expression, select_clause: str, where_clause: str | None = None, group_by_clause: str | None = None
) -> exp.Select:
    """The SELECT of a computed file over ``source`` (a table, or :func:`with_computed`'s
    relation). Raises ExpressionError for a bad clause."""
    query = exp.select(*_expression_list(select_clause, "select")).from_(source)
    return _finish(query, where_clause, group_by_clause)


def join_query(
    left: exp.Expression,
    left_fields: Sequence[str],
    left_key: str,
    right: exp.Expression,
    right_fields: Sequence[str],
    right_key: str,
    select_clause: str,
    *,
    left_prefix: str = "left",
    right_prefix: str = "right",
    join_type: str = "inner",
    where_clause: str | None = None,
    group_by_clause: str | None = None,
) -> exp.Select:
    """The SELECT of a computed join (see the module docstring). ``left`` / ``right``: a
    table, or :func:`with_computed`'s relation of one (then ``*_fields`` include the
    computed fields, visible with the prefix like the others).

    Raises: ExpressionError for a bad clause, an unknown join type, a key that is not a field
    of its container, or prefixes that make two visible names equal."""
    if join_type not in JOIN_TYPES:
        raise ExpressionError(f"join_type must be one of {', '.join(JOIN_TYPES)}, not '{join_type}'")
    if left_key not in left_fields:
        raise ExpressionError(f"left_join_field_name: '{left_key}' is not a field of the left container")
    if right_key not in right_fields:
        raise ExpressionError(f"right_join_field_name: '{right_key}' is not a field of the right container")
    left_names = {f: f"{left_prefix}_{f}" for f in left_fields}
    right_names = {f: f"{right_prefix}_{f}" for f in right_fields}
    clash = set(left_names.values()) & set(right_names.values())
    if clash:
        raise ExpressionError(f"left_prefix and right_prefix give the same field name: {', '.join(sorted(clash))}")

    def side(table: exp.Expression, names: dict[str, str], alias: str) -> exp.Subquery:
        columns = [exp.column(f, quoted=True).as_(n, quoted=True) for f, n in names.items()]
        return exp.select(*columns).from_(table.copy()).subquery(alias)

    on = exp.EQ(
        this=exp.column(left_names[left_key], table="l", quoted=True),
        expression=exp.column(right_names[right_key], table="r", quoted=True),
    )
    query = (
        exp.select(*_expression_list(select_clause, "select"))
        .from_(side(left, left_names, "l"))
        .join(side(right, right_names, "r"), on=on, join_type=join_type)
    )
    return _finish(query, where_clause, group_by_clause)


def sources_query(query: str, sources: dict[str, tuple[exp.Table, str | None]]) -> exp.Expression:
    """A computed join in SQL mode: ``query`` (Spark SQL) reads its sources by alias; each
    alias becomes the source's table (filtered by the source's ``where_clause`` when given).

    Raises: ExpressionError when the query is not one SELECT or reads a table that is not
    one of the aliases."""
    trees = _parse_all(str(query or ""), CLAUSE_DIALECT)
    if len(trees) != 1 or not isinstance(trees[0], exp.Query):
        raise ExpressionError("the query must be one SELECT")
    tree = trees[0]
    check_functions(tree)
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    for table in list(tree.find_all(exp.Table)):
        name = table.name
        if name in ctes and not table.db:
            continue
        if table.db or name not in sources:
            raise ExpressionError(f"the query reads '{table.sql(dialect=CLAUSE_DIALECT)}', which is not a source alias")
        source, where = sources[name]
        alias = table.alias or name
        if where and str(where).strip():
            replacement: exp.Expression = exp.select("*").from_(source.copy()).where(_condition(where)).subquery(alias)
        else:
            replacement = source.copy().as_(alias)
        table.replace(replacement)
    return tree


def render(query: exp.Expression, dialect: str) -> str:
    """``query`` as SQL text in ``dialect`` (sqlglot's name)."""
    try:
        return query.sql(dialect=dialect)
    except sqlglot.errors.SqlglotError as e:
        raise ExpressionError(str(e).splitlines()[0]) from None
