"""DuckDB 2 under Ibis 12: the two result methods Ibis 12's DuckDB backend calls on a DuckDB
connection (``fetch_arrow_table``, ``fetch_record_batch``) were removed from
``DuckDBPyConnection`` in DuckDB 2.0 (renamed ``to_arrow_table`` / ``to_arrow_reader``).
:func:`install` puts them back as thin aliases when they are missing, and does nothing
on DuckDB 1.x. ``tests/test_duckdb_compat.py`` fails once the installed Ibis no longer
calls them, so this module is deleted as soon as an Ibis release supports DuckDB 2.

What still pins ``duckdb<2`` in ``pyproject.toml``: ``bench/RESULTS.md`` ("DuckDB 2").
"""

from __future__ import annotations

from typing import Any

import duckdb


def install() -> bool:
    """Add the aliases to ``duckdb.DuckDBPyConnection`` when it lacks them (DuckDB 2).

    Returns: True when they were added, False when the installed DuckDB has them already.
    """
    connection: Any = duckdb.DuckDBPyConnection
    if hasattr(connection, "fetch_arrow_table"):
        return False

    def fetch_arrow_table(self):
        return self.to_arrow_table()

    def fetch_record_batch(self, rows_per_batch: int = 1_000_000):
        return self.to_arrow_reader(rows_per_batch)

    connection.fetch_arrow_table = fetch_arrow_table
    connection.fetch_record_batch = fetch_record_batch
    return True


install()
