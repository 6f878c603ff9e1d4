"""Assay: an open-source data-quality platform with a Qualytics-compatible REST API."""

__version__ = "0.1.0"

# DuckDB 2 under Ibis 12: put back the two result methods Ibis calls (a no-op on DuckDB 1.x).
from . import duckdb_compat as _duckdb_compat  # noqa: E402, F401
