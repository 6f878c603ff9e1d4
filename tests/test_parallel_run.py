"""The parallel run's work units (``tests/conftest.py``): every test that needs a Spark JVM
runs in the one Spark unit, so the run starts the test session's Spark once (a test sent
elsewhere starts a second JVM and evaluates the parity matrix on Spark again: about a
minute of CPU)."""

from __future__ import annotations

import inspect

from tests.conftest import work_unit
from tests.engine.rules import test_parity


def test_the_parity_matrix_spark_cases_are_in_the_spark_unit():
    spark_cases = [
        f"tests/engine/rules/test_parity.py::{name}[spark]"
        for name, fn in vars(test_parity).items()
        if name.startswith("test_") and "results" in inspect.signature(fn).parameters
    ]
    assert [work_unit(n) for n in spark_cases] == ["spark", "spark"]
    assert work_unit("tests/engine/rules/test_parity.py::test_parity[duckdb]") == "tests/engine/rules/test_parity.py"


def _needs_spark(item) -> bool:
    names = set(item.fixturenames)
    if names & {"spark_session", "connect_server"}:
        return True
    callspec = getattr(item, "callspec", None)  # the parity matrix's Spark engine
    return callspec is not None and "spark" in callspec.params.values() and bool(names & {"results", "engine"})


def test_every_collected_test_that_needs_spark_is_in_the_spark_unit(request):
    """Over what this run collected (the whole suite under ``make test``)."""
    elsewhere = [i.nodeid for i in request.session.items if _needs_spark(i) and work_unit(i.nodeid) != "spark"]
    assert elsewhere == []
