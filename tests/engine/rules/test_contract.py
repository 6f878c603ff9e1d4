"""The rule contract (``engine/rules/base.py``) and the dialects (``engine/dialects.py``):
every hook the engine reads is declared with its default, every registered rule and its
public hooks render a docstring, and per-engine branches live in one module."""

from __future__ import annotations

import ast
import inspect
import pathlib
import typing

import pytest

from assay.engine import dialects
from assay.engine.rules import all_rules
from assay.engine.rules.base import AggregateRule, ApartResult, CheckSpec, NoProperties, RowRule, Rule

PACKAGE = pathlib.Path(__file__).resolve().parents[3] / "assay"

#: The hooks a rule class may implement or inherit (``Rule``, ``RowRule``, ``AggregateRule``).
HOOKS = (
    "validate",
    "check_values",
    "bind",
    "evaluate_apart",
    "derived",
    "failing",
    "record_message",
    "shape_message",
    "metrics",
    "assess",
    "failed_records",
)


def test_every_registered_rule_has_its_own_rendered_docstring():
    missing = [name for name, cls in all_rules().items() if not (cls.__dict__.get("__doc__") or "").strip()]
    assert missing == []
    for name, cls in all_rules().items():
        doc = inspect.getdoc(cls)
        assert doc and len(doc) > 20, name


def test_every_public_hook_renders_a_docstring():
    undocumented = []
    for name, cls in all_rules().items():
        for hook in HOOKS:
            if hasattr(cls, hook) and not inspect.getdoc(getattr(cls, hook)):
                undocumented.append(f"{name}.{hook}")
    assert undocumented == []
    for hook in HOOKS:
        owner = next(k for k in (Rule, RowRule, AggregateRule) if hook in k.__dict__)
        assert inspect.getdoc(getattr(owner, hook)), hook


def test_no_docstring_is_lost_after_a_statement():
    """A string written after the first statement of a class or function is not its
    docstring (``_Membership``'s once sat after an assignment): none in the package."""
    lost = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                for st in node.body[1:]:
                    if (
                        isinstance(st, ast.Expr)
                        and isinstance(st.value, ast.Constant)
                        and isinstance(st.value.value, str)
                    ):
                        lost.append(f"{path.relative_to(PACKAGE)}:{st.lineno}")
    assert lost == []


def test_hooks_are_declared_on_the_base_with_their_defaults():
    assert Rule.fields_must_exist is True
    assert Rule.needs_reference is False
    assert Rule.apart is False
    assert Rule.keeps_history is False
    assert Rule.deprecated is False
    assert Rule.author is True
    assert Rule.measurement is None and Rule.measured_at is None
    assert (RowRule.kind, AggregateRule.kind) == ("row", "aggregate")
    assert AggregateRule.failed_records(object.__new__(AggregateRule), {"x": 1}) is None
    rules = all_rules()
    assert {n for n, c in rules.items() if not c.fields_must_exist} == {"expectedSchema"}
    assert {n for n, c in rules.items() if c.needs_reference} == {
        "aggregationComparison",
        "dataDiff",
        "existsIn",
        "isNotReplicaOf",
        "notExistsIn",
    }
    assert {n for n, c in rules.items() if c.apart} == {"entityResolution"}
    assert {n for n, c in rules.items() if c.keeps_history} == {
        "absoluteChangeLimit",
        "freshness",
        "metric",
        "relativeChangeLimit",
        "volumetric",
    }
    for name, cls in rules.items():
        assert cls.kind == ("row" if issubclass(cls, RowRule) else "aggregate"), name


def _properties_parameter(cls: type) -> type | None:
    """The ``P`` a rule class gives ``Rule[P]`` somewhere in its bases (the most derived)."""
    for klass in cls.__mro__:
        for base in getattr(klass, "__orig_bases__", ()):
            origin = typing.get_origin(base)
            if isinstance(origin, type) and issubclass(origin, Rule):
                arg = typing.get_args(base)[0]
                if isinstance(arg, type):
                    return arg
    return None


def test_rules_are_generic_over_their_properties_model():
    for name, cls in all_rules().items():
        param = _properties_parameter(cls)
        assert param is not None, name
        assert issubclass(cls.Properties, param), (name, cls.Properties, param)
    assert _properties_parameter(all_rules()["between"]).__name__ == "BetweenProperties"
    assert all_rules()["notNull"].Properties is NoProperties


def test_a_rule_that_does_not_run_apart_or_take_a_reference_says_so():
    rule = all_rules()["notNull"](CheckSpec(1, "notNull", ["a"]))
    with pytest.raises(NotImplementedError, match="rule notNull does not run apart"):
        rule.evaluate_apart(None, None, batch_size=1, example_limit=0, on_query=print)
    with pytest.raises(NotImplementedError, match="rule notNull does not take a reference container"):
        rule.bind(None, None)
    assert ApartResult() == ApartResult(0, 0, None, None)


# -- dialects ---------------------------------------------------------------------------------


def test_one_dialect_per_engine_with_its_capabilities():
    assert sorted(dialects.DIALECTS) == ["duckdb", "mysql", "postgres", "pyspark", "sqlite"]
    d = dialects.DIALECTS
    assert [n for n in sorted(d) if d[n].has_nan] == ["duckdb", "postgres", "pyspark"]
    assert [n for n in sorted(d) if d[n].streams_results] == ["duckdb", "postgres"]
    assert [n for n in sorted(d) if not d[n].exact_text] == ["mysql"]
    assert [n for n in sorted(d) if d[n].timestamps_as_text] == ["sqlite"]
    assert [n for n in sorted(d) if d[n].cheap_exact_distinct] == ["duckdb"]
    assert [n for n in sorted(d) if d[n].decimals_read_as_float] == ["mysql"]
    assert {n: d[n].regex_end for n in d} == {
        "duckdb": "\\z",
        "sqlite": "\\Z",
        "postgres": "$",
        "mysql": "\\z",
        "pyspark": "\\z",
    }
    assert d["mysql"].text_key_literal("é") == "C3A9"
    assert d["duckdb"].text_key_literal("é") == "é"


def test_an_engine_without_a_dialect_gets_the_defaults():
    spark = dialects.dialect_named("pyspark-test")
    assert spark.name == "pyspark-test"
    assert type(spark).__mro__[1] is dialects.Dialect
    assert spark.has_nan and spark.streams_results and spark.exact_text
    assert dialects.dialect_named("pyspark-test") is spark  # looked up once
    assert "pyspark-test" not in dialects.DIALECTS


def test_an_unbound_expression_runs_on_duckdb():
    import ibis

    t = ibis.memtable({"a": [1]})
    assert dialects.dialect_of(t) is dialects.DIALECTS["duckdb"]
    assert dialects.dialect_of(t.a) is dialects.DIALECTS["duckdb"]


def test_engine_names_are_tested_only_in_the_dialects_module():
    """Per-engine branches live in ``engine/dialects.py``: nowhere else in the engine or
    the operations is an expression's backend looked up or its name compared."""
    offending = []
    for folder in ("engine", "operations"):
        for path in sorted((PACKAGE / folder).rglob("*.py")):
            if path.name == "dialects.py":
                continue
            text = path.read_text(encoding="utf-8")
            for needle in ("_find_backend(", "engine_of(v) ==", 'engine == "', '== "mysql"', '== "sqlite"'):
                if needle in text:
                    offending.append(f"{path.relative_to(PACKAGE)}: {needle}")
    assert offending == []
