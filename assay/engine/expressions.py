"""User-supplied SQL (a check's ``filter`` or ``expression``) → an Ibis expression.

The text is parsed with sqlglot in the Spark SQL dialect (the dialect Qualytics users
write) and must be exactly **one scalar expression**: no statements, no ``;``, no
subqueries, no window or aggregate functions. The parsed tree is translated node by
node into an Ibis expression bound to the container's table, so Ibis compiles it to
whatever engine holds the data; nothing is ever pasted into SQL text.

Supported: column references (backquoted names with spaces work), numeric / string /
boolean / NULL literals, ``DATE '…'`` and ``TIMESTAMP '…'`` literals, comparison
(``= <> != < <= > >=``), ``AND OR NOT``, ``IS [NOT] NULL``, ``[NOT] IN (literals)``,
``BETWEEN``, ``LIKE``/``ILIKE``, ``RLIKE``/``REGEXP``, arithmetic ``+ - * / %``, unary
minus, ``CASE WHEN``, ``IF``, ``COALESCE``/``IFNULL``/``NVL``, ``CAST``, and the
functions ``LENGTH UPPER LOWER TRIM LTRIM RTRIM ABS ROUND FLOOR CEIL SUBSTRING CONCAT
CURRENT_DATE CURRENT_TIMESTAMP``.

``LIKE`` is case- and accent-sensitive on every engine, as in Spark (``'ABC' LIKE 'a%'``
is false even under MariaDB's case-insensitive collations; ``engine.exact.exact_like``).

Anything else raises :class:`ExpressionError` naming the unsupported construct; the API
turns it into a 422 on the field that carried the text.
"""

from __future__ import annotations

from collections.abc import Callable

import ibis
import ibis.expr.types as ir
import sqlglot
from sqlglot import exp


class ExpressionError(ValueError):
    """The SQL text is not one supported scalar expression (message says why)."""


_TYPE_MAP = {
    exp.DataType.Type.INT: "int32",
    exp.DataType.Type.BIGINT: "int64",
    exp.DataType.Type.SMALLINT: "int16",
    exp.DataType.Type.TINYINT: "int8",
    exp.DataType.Type.DOUBLE: "float64",
    exp.DataType.Type.FLOAT: "float32",
    exp.DataType.Type.DECIMAL: "decimal",
    exp.DataType.Type.VARCHAR: "string",
    exp.DataType.Type.TEXT: "string",
    exp.DataType.Type.CHAR: "string",
    exp.DataType.Type.BOOLEAN: "boolean",
    exp.DataType.Type.DATE: "date",
    exp.DataType.Type.TIMESTAMP: "timestamp",
    exp.DataType.Type.TIMESTAMPTZ: "timestamp('UTC')",
    exp.DataType.Type.DATETIME: "timestamp",
}


#: Deepest nesting of an expression or query (parentheses, operators, function calls):
#: deeper trees are refused before any recursive translation or compilation sees them.
MAX_NESTING = 100


def _parse_all(sql: str, dialect: str) -> list[exp.Expression]:
    """sqlglot's parse of ``sql``, refusing trees nested deeper than MAX_NESTING.

    Raises: ExpressionError for a syntax error or too deep a nesting."""
    try:
        trees = [t for t in sqlglot.parse(str(sql), read=dialect) if t is not None]
    except sqlglot.errors.SqlglotError as e:
        raise ExpressionError(f"cannot parse SQL: {str(e).splitlines()[0]}") from None
    except RecursionError:
        raise ExpressionError(f"nested more than {MAX_NESTING} levels deep") from None
    for tree in trees:
        stack = [(tree, 0)]
        while stack:  # iterative: a deep tree must not exhaust the stack here either
            node, depth = stack.pop()
            if depth > MAX_NESTING:
                raise ExpressionError(f"nested more than {MAX_NESTING} levels deep")
            stack.extend((child, depth + 1) for child in node.iter_expressions())
    return trees


def parse(sql: str) -> exp.Expression:
    """Parse ``sql`` into exactly one sqlglot expression.

    Raises:
        ExpressionError: empty text, a syntax error, several statements, or a statement
            (SELECT, DROP, …) instead of a scalar expression.
    """
    if sql is None or not str(sql).strip():
        raise ExpressionError("the expression is empty")
    trees = _parse_all(str(sql), "spark")
    if len(trees) != 1:
        raise ExpressionError("must be a single expression; ';' and several statements are not allowed")
    tree = trees[0]
    if isinstance(tree, (exp.Query, exp.Command, exp.DDL, exp.DML, exp.Drop, exp.Alias)) or tree.find(exp.Query):
        raise ExpressionError(f"must be a scalar expression, not a {type(tree).__name__.upper()} statement or subquery")
    return tree


def referenced_columns(sql: str) -> list[str]:
    """Names of the columns that ``sql`` references, in order of first appearance."""
    seen: list[str] = []
    for col in parse(sql).find_all(exp.Column):
        if col.name not in seen:
            seen.append(col.name)
    return seen


def to_ibis(sql: str, table: ir.Table) -> ir.Value:
    """Translate ``sql`` into an Ibis value expression over ``table``.

    Raises:
        ExpressionError: unparseable text, an unsupported construct, or a column that
            ``table`` does not have.
    """
    return _Translator(table).visit(parse(sql))


def to_ibis_predicate(sql: str, table: ir.Table) -> ir.BooleanValue:
    """Like :func:`to_ibis`, and the result must be boolean (a WHERE-style condition)."""
    value = to_ibis(sql, table)
    if not value.type().is_boolean():
        raise ExpressionError(f"must be a boolean condition, but it evaluates to {value.type()}")
    if not isinstance(value, ir.Column):
        raise ExpressionError("must reference at least one field; a constant condition checks nothing")
    return value


def to_ibis_aggregate(sql: str, table: ir.Table, where: ir.BooleanValue | None = None) -> ir.Scalar:
    """Translate an aggregate ``sql`` (e.g. ``sum(amount)``, ``count(*)``,
    ``max(a) - min(a)``) into one Ibis scalar over ``table``.

    Aggregate functions: ``SUM AVG MIN MAX COUNT(*) COUNT(x) COUNT(DISTINCT x)
    STDDEV STDDEV_SAMP STDDEV_POP VARIANCE VAR_SAMP VAR_POP``, combined with the scalar
    syntax of :func:`to_ibis`. Every field must be inside an aggregate; aggregates do not
    nest. ``where`` (a boolean over ``table``) restricts the rows every aggregate reads.

    Raises:
        ExpressionError: unparseable text, an unsupported construct, no aggregate, a field
            outside an aggregate, a nested aggregate or an unknown field.
    """
    tree = parse(sql)
    if tree.find(exp.AggFunc) is None:
        raise ExpressionError("must be an aggregate expression such as sum(field) or count(*)")
    value = _Translator(table, aggregates=True, where=where).visit(tree)
    if not isinstance(value, ir.Scalar):
        raise ExpressionError("every field must be inside an aggregate function")
    from .dialects import dialect_of

    return dialect_of(table).aggregate_value(value)


class _Translator:
    def __init__(self, table: ir.Table, *, aggregates: bool = False, where: ir.BooleanValue | None = None):
        self.table = table
        self._columns = set(table.columns)
        self._aggregates = aggregates  # aggregate functions allowed (to_ibis_aggregate)
        self._where = where
        self._in_aggregate = False

    def visit(self, node: exp.Expression):
        method: Callable | None = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            if isinstance(node, exp.Func):
                raise ExpressionError(
                    f"unsupported function '{function_name(node)}' in expressions ({node.sql(dialect='spark')})"
                )
            raise ExpressionError(f"unsupported SQL construct: {type(node).__name__} ({node.sql(dialect='spark')})")
        try:
            return method(node)
        except ExpressionError:
            raise
        except (TypeError, AttributeError, NotImplementedError, ValueError, ibis.common.exceptions.IbisError) as e:
            raise ExpressionError(f"invalid operands in '{node.sql(dialect='spark')}': {e}") from None

    # -- leaves -------------------------------------------------------------------
    def visit_Column(self, node: exp.Column):
        if node.table:
            raise ExpressionError(
                f"qualified column '{node.sql(dialect='spark')}' is not allowed; use the bare field name"
            )
        name = node.name
        if name not in self._columns:
            raise ExpressionError(f"unknown field '{name}'")
        return self.table[name]

    def visit_Identifier(self, node: exp.Identifier):
        return self.visit_Column(exp.Column(this=node))

    def visit_Literal(self, node: exp.Literal):
        if node.is_string:
            return ibis.literal(node.this)
        text = node.this
        try:
            return ibis.literal(int(text))
        except ValueError:
            return ibis.literal(float(text))

    def visit_Boolean(self, node: exp.Boolean):
        return ibis.literal(bool(node.this))

    def visit_Null(self, _node: exp.Null):
        return ibis.null()

    def visit_Paren(self, node: exp.Paren):
        return self.visit(node.this)

    # -- boolean logic --------------------------------------------------------------
    def visit_And(self, node):
        return self.visit(node.left) & self.visit(node.right)

    def visit_Or(self, node):
        return self.visit(node.left) | self.visit(node.right)

    def visit_Not(self, node):
        return ~self.visit(node.this)

    def visit_Is(self, node: exp.Is):
        if not isinstance(node.expression, exp.Null):
            raise ExpressionError("only IS NULL / IS NOT NULL are supported")
        return self.visit(node.this).isnull()

    # -- comparison -------------------------------------------------------------------
    def visit_EQ(self, node):
        return self.visit(node.left) == self.visit(node.right)

    def visit_NEQ(self, node):
        return self.visit(node.left) != self.visit(node.right)

    def visit_GT(self, node):
        return self.visit(node.left) > self.visit(node.right)

    def visit_GTE(self, node):
        return self.visit(node.left) >= self.visit(node.right)

    def visit_LT(self, node):
        return self.visit(node.left) < self.visit(node.right)

    def visit_LTE(self, node):
        return self.visit(node.left) <= self.visit(node.right)

    def visit_Between(self, node: exp.Between):
        return self.visit(node.this).between(self.visit(node.args["low"]), self.visit(node.args["high"]))

    def visit_In(self, node: exp.In):
        if node.args.get("query") or node.args.get("unnest"):
            raise ExpressionError("IN (subquery) is not allowed")
        literals = [e.this if isinstance(e, exp.Neg) else e for e in node.expressions]
        kinds = {lit.is_string for lit in literals if isinstance(lit, exp.Literal)}
        if len(kinds) > 1:
            # engines disagree on `id IN (1, 'x')` (cast, error or no match): refuse it
            raise ExpressionError(
                f"IN list mixes text and numbers: {node.sql(dialect='spark')}; give values of one type"
            )
        return self.visit(node.this).isin([self.visit(e) for e in node.expressions])

    def visit_Like(self, node: exp.Like):
        from .exact import exact_like

        # case- and accent-sensitive on every engine, MariaDB's _ci collations included
        return exact_like(self.visit(node.this), self._string_literal(node.expression, "LIKE"))

    def visit_ILike(self, node: exp.ILike):
        return self.visit(node.this).ilike(self._string_literal(node.expression, "ILIKE"))

    def visit_RegexpLike(self, node: exp.RegexpLike):
        from . import regex

        pattern = self._string_literal(node.expression, "RLIKE")
        try:
            # Assay's one regex flavour (engine/regex.py), written for the table's engine
            return regex.search(self.visit(node.this), pattern)
        except regex.RegexError as e:
            raise ExpressionError(f"RLIKE pattern: {e}") from None

    # -- arithmetic -------------------------------------------------------------------
    def visit_Add(self, node):
        return self.visit(node.left) + self.visit(node.right)

    def visit_Sub(self, node):
        return self.visit(node.left) - self.visit(node.right)

    def visit_Mul(self, node):
        return self.visit(node.left) * self.visit(node.right)

    def visit_Div(self, node):
        # `/` is fractional division (Spark SQL). Make the dividend an explicit float64:
        # otherwise sqlglot types integer division for PostgreSQL/SQLite by rewriting the
        # operand IN PLACE, and as Ibis shares one node per column across a fused query,
        # that cast can land on another use of the column, leaving an integer division.
        left = self.visit(node.left)
        if left.type().is_numeric() and not left.type().is_float64():
            left = left.cast("float64")
        return left / self.visit(node.right)

    def visit_Mod(self, node):
        return self.visit(node.left) % self.visit(node.right)

    def visit_Neg(self, node):
        return -self.visit(node.this)

    # -- conditionals -------------------------------------------------------------------
    def visit_Case(self, node: exp.Case):
        subject = self.visit(node.this) if node.this else None
        branches = []
        for when in node.args.get("ifs") or []:
            cond = self.visit(when.this)
            if subject is not None:
                cond = subject == cond
            branches.append((cond, self.visit(when.args["true"])))
        default = node.args.get("default")
        return ibis.cases(*branches, else_=self.visit(default) if default is not None else None)

    def visit_If(self, node: exp.If):
        false = node.args.get("false")
        return ibis.ifelse(
            self.visit(node.this),
            self.visit(node.args["true"]),
            self.visit(false) if false is not None else ibis.null(),
        )

    def visit_Coalesce(self, node: exp.Coalesce):
        return ibis.coalesce(self.visit(node.this), *[self.visit(e) for e in node.expressions])

    # -- casts and typed literals ---------------------------------------------------------
    def visit_Cast(self, node: exp.Cast, *, try_: bool = False):
        to = node.to.this
        target = _TYPE_MAP.get(to)
        if target is None:
            raise ExpressionError(f"CAST to {node.to.sql(dialect='spark')} is not supported")
        inner = node.this
        if isinstance(inner, exp.Literal) and inner.is_string and target in ("date", "timestamp"):
            return ibis.literal(inner.this, type=target)
        value = self.visit(inner)
        return value.try_cast(target) if try_ and self._can_try_cast() else value.cast(target)

    def _can_try_cast(self) -> bool:
        """Spark's CAST (parsed as TryCast) yields NULL on bad input; a backend without
        TRY_CAST (SQLite, whose CAST never fails anyway) gets a plain CAST."""
        try:
            backend = ibis.get_backend(self.table)
        except ibis.common.exceptions.IbisError:  # unbound table (validation): types only
            return True
        return backend.has_operation(ibis.expr.operations.TryCast)

    def visit_TryCast(self, node: exp.TryCast):
        return self.visit_Cast(node, try_=True)

    def visit_CurrentDate(self, _node):
        return ibis.today()

    def visit_CurrentTimestamp(self, _node):
        return ibis.now()

    # -- scalar functions -------------------------------------------------------------------
    def visit_Length(self, node):
        return self.visit(node.this).length()

    def visit_Upper(self, node):
        return self.visit(node.this).upper()

    def visit_Lower(self, node):
        return self.visit(node.this).lower()

    def visit_Trim(self, node: exp.Trim):
        if node.args.get("expression") is not None:
            raise ExpressionError("TRIM with explicit characters is not supported")
        return self.visit(node.this).strip()

    def visit_Abs(self, node):
        return self.visit(node.this).abs()

    def visit_Round(self, node: exp.Round):
        digits = node.args.get("decimals")
        return self.visit(node.this).round(int(digits.this) if digits is not None else 0)

    def visit_Floor(self, node):
        return self.visit(node.this).floor()

    def visit_Ceil(self, node):
        return self.visit(node.this).ceil()

    def visit_Substring(self, node: exp.Substring):
        start = self._int_literal(node.args.get("start"), "SUBSTRING start")
        length = node.args.get("length")
        value = self.visit(node.this)
        return value.substr(start - 1, self._int_literal(length, "SUBSTRING length") if length is not None else None)

    def visit_Concat(self, node: exp.Concat):
        parts = [self.visit(e) for e in node.expressions]
        out = parts[0]
        for p in parts[1:]:
            out = out.concat(p)
        return out

    def visit_DPipe(self, node):
        return self.visit(node.left).concat(self.visit(node.right))

    # -- aggregate functions (to_ibis_aggregate only) -----------------------------------------
    def _aggregate(self, node: exp.Expression, reduce: Callable) -> ir.Scalar:
        name = node.sql(dialect="spark")
        if not self._aggregates:
            raise ExpressionError(f"unsupported SQL construct: aggregate function ({name}) is not allowed here")
        if self._in_aggregate:
            raise ExpressionError(f"aggregate functions cannot be nested: {name}")
        self._in_aggregate = True
        try:
            return reduce()
        finally:
            self._in_aggregate = False

    def visit_Sum(self, node):
        return self._aggregate(node, lambda: self.visit(node.this).sum(where=self._where))

    def _fractional(self, node) -> ir.Value:
        """The argument of AVG/STDDEV/VARIANCE: integers as float64, so that every engine
        answers a float64 (PostgreSQL would answer NUMERIC for an integer column)."""
        value = self.visit(node.this)
        return value.cast("float64") if value.type().is_integer() else value

    def visit_Avg(self, node):
        return self._aggregate(node, lambda: self._fractional(node).mean(where=self._where))

    def visit_Min(self, node):
        return self._aggregate(node, lambda: self.visit(node.this).min(where=self._where))

    def visit_Max(self, node):
        return self._aggregate(node, lambda: self.visit(node.this).max(where=self._where))

    def visit_Count(self, node: exp.Count):
        arg = node.this

        def reduce():
            if isinstance(arg, exp.Star) or arg is None:
                return self.table.count(where=self._where)
            if isinstance(arg, exp.Distinct):
                if len(arg.expressions) != 1:
                    raise ExpressionError("COUNT(DISTINCT …) takes exactly one expression")
                return self.visit(arg.expressions[0]).nunique(where=self._where)
            return self.visit(arg).count(where=self._where)

        return self._aggregate(node, reduce)

    def visit_Stddev(self, node):
        return self._aggregate(node, lambda: self._fractional(node).std(how="sample", where=self._where))

    visit_StddevSamp = visit_Stddev

    def visit_StddevPop(self, node):
        return self._aggregate(node, lambda: self._fractional(node).std(how="pop", where=self._where))

    def visit_Variance(self, node):
        return self._aggregate(node, lambda: self._fractional(node).var(how="sample", where=self._where))

    def visit_VariancePop(self, node):
        return self._aggregate(node, lambda: self._fractional(node).var(how="pop", where=self._where))

    # -- helpers ------------------------------------------------------------------------
    @staticmethod
    def _string_literal(node: exp.Expression, what: str) -> str:
        if not (isinstance(node, exp.Literal) and node.is_string):
            raise ExpressionError(f"the pattern of {what} must be a string literal")
        return node.this

    @staticmethod
    def _int_literal(node: exp.Expression | None, what: str) -> int:
        if not (isinstance(node, exp.Literal) and not node.is_string):
            raise ExpressionError(f"{what} must be an integer literal")
        return int(node.this)


#: Functions sqlglot knows by name but that read files, move sequences or write: never
#: allowed in a computed table, whatever the datastore's credentials would permit.
DENIED_FUNCTIONS: tuple[type[exp.Func], ...] = tuple(
    getattr(exp, name)
    for name in ("NextValueFor", "ReadCSV", "ReadParquet", "ToFile", "Seq1", "Seq2", "Seq4", "Seq8")
    if hasattr(exp, name)
)

#: Functions sqlglot does not model (it parses them as ``Anonymous``) that are known to be
#: pure: they read their arguments and nothing else. Any other unmodelled function —
#: ``pg_read_file``, ``nextval``, ``lo_import``, ``set_config``, ``pg_sleep``, ``dblink``,
#: ``load_file``, ``sleep``, ``get_lock``, ``readfile``, ``load_extension``, ``getenv``,
#: user-defined functions — is refused.
PURE_FUNCTIONS = frozenset(
    [
        "abs",
        "acos",
        "age",
        "ascii",
        "asin",
        "atan",
        "atan2",
        "bit_length",
        "bool_and",
        "bool_or",
        "btrim",
        "cbrt",
        "ceil",
        "ceiling",
        "char_length",
        "character_length",
        "chr",
        "concat_ws",
        "cos",
        "cot",
        "date",
        "date_add",
        "date_format",
        "date_part",
        "date_sub",
        "datediff",
        "day",
        "dayofmonth",
        "dayofweek",
        "dayofyear",
        "degrees",
        "every",
        "exp",
        "floor",
        "format",
        "from_unixtime",
        "greatest",
        "hex",
        "hour",
        "ifnull",
        "initcap",
        "instr",
        "julianday",
        "last_day",
        "least",
        "left",
        "length",
        "ln",
        "locate",
        "log",
        "log10",
        "log2",
        "lower",
        "lpad",
        "ltrim",
        "make_date",
        "md5",
        "minute",
        "mod",
        "month",
        "nullif",
        "nvl",
        "octet_length",
        "pi",
        "position",
        "power",
        "quarter",
        "radians",
        "repeat",
        "replace",
        "reverse",
        "right",
        "round",
        "rpad",
        "rtrim",
        "second",
        "sha1",
        "sha2",
        "sign",
        "sin",
        "split_part",
        "sqrt",
        "strftime",
        "string_agg",
        "strpos",
        "substr",
        "substring",
        "tan",
        "to_char",
        "to_date",
        "to_number",
        "to_timestamp",
        "translate",
        "trim",
        "trunc",
        "truncate",
        "typeof",
        "unhex",
        "unixepoch",
        "upper",
        "week",
        "weekofyear",
        "year",
        "now",
        "printf",
        "total",
        "group_concat",
        "unix_timestamp",
        "str_to_date",
        "timestampdiff",
        "makedate",
        "json_extract",
        "json_value",
        "jsonb_extract_path_text",
        "json_extract_path_text",
        "median",
    ]
)


def function_name(node: exp.Func) -> str:
    """The name a function call is written with (``pg_read_file``, ``UPPER``)."""
    return node.name if isinstance(node, exp.Anonymous) else node.sql_name()


def check_functions(tree: exp.Expression) -> None:
    """Refuse every function call in ``tree`` that is not known to be pure: an
    unmodelled one outside :data:`PURE_FUNCTIONS`, or one of :data:`DENIED_FUNCTIONS`.

    Raises: ExpressionError naming the function.
    """
    for node in tree.find_all(exp.Func):
        if isinstance(node, DENIED_FUNCTIONS) or (
            isinstance(node, exp.Anonymous) and node.name.lower() not in PURE_FUNCTIONS
        ):
            raise ExpressionError(
                f"function '{function_name(node)}' is not allowed: a computed table may only call functions "
                "that read their arguments (no file, sequence, session or server functions)"
            )


def parse_query(sql: str, dialect: str) -> str:
    """Check that ``sql`` is exactly one read-only SELECT (a computed table's query) in
    ``dialect`` and return it normalised by sqlglot.

    Raises:
        ExpressionError: empty, unparseable, several statements, not a SELECT, or a
            statement that writes (INSERT/UPDATE/DELETE/CREATE/DROP/…) anywhere inside.
    """
    if sql is None or not str(sql).strip():
        raise ExpressionError("the query is empty")
    trees = _parse_all(str(sql), dialect)
    if len(trees) != 1:
        raise ExpressionError("must be a single SELECT; ';' and several statements are not allowed")
    tree = trees[0]
    if not isinstance(tree, exp.Query):
        raise ExpressionError(f"must be a SELECT query, not {type(tree).__name__.upper()}")
    for node in tree.walk():
        if isinstance(node, (exp.DML, exp.DDL, exp.Command, exp.Drop)):
            raise ExpressionError(f"must only read data; found {type(node).__name__.upper()}")
        if isinstance(node, exp.Table) and not isinstance(node.this, exp.Identifier):
            # read_csv('/etc/passwd'), pg_read_file(...), generate_series(...) in FROM
            raise ExpressionError(f"must read tables of the datastore, not {node.this.sql(dialect=dialect)}")
    check_functions(tree)
    return tree.sql(dialect=dialect)
