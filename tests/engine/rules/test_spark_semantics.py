"""Spark's dialect (``engine.dialects.SparkDialect``) on the semantics tables: a non-string
value rendered as text is the same text as on every other engine (doubles of every layout,
DECIMAL at its scale, UTC timestamps with 6 fractional digits only when not zero), and a
regular-expression replacement refers to groups as the other engines do.

Runs on the test session's one local Spark session (``spark_session``).
"""

from __future__ import annotations

import pytest

from assay.engine.dialects import dialect_of
from tests.engine.rules import test_semantics as semantics
from tests.engine.rules.dataset import connect, load


@pytest.fixture(scope="module")
def spark_eng(request, tmp_path_factory):
    gen = connect("spark", None, request)
    try:
        yield load("spark", next(gen), semantics.TABLES)
    finally:
        gen.close()


def test_non_string_values_render_as_one_text_on_spark(spark_eng):
    assert spark_eng.has_nan
    semantics.test_non_string_values_render_as_one_text(spark_eng)


def test_regexp_replace_groups_are_written_for_java(spark_eng):
    t = spark_eng.table("facts")
    d = dialect_of(t)
    assert d.name == "pyspark"
    rewritten = d.regexp_replace(t.s, "^([a-z])([a-z]*)$", r"\2-\1$")
    rows = t.select(t.id, x=rewritten).order_by("id").to_pyarrow().to_pylist()
    # 'abc' -> 'bc-a$' (a literal '$'); text that does not match stays as it is
    assert [r["x"] for r in rows][:3] == ["bc-a$", "", None]
