"""Fixtures of the flow tests: fast dispatcher settings, a shop datastore with anomalies."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def fast_flows(monkeypatch):
    """Poll every 50 ms, retry after 0.2 s, 0.4 s, … (at most 1 s), 3 attempts; links on a
    made-up public URL."""
    monkeypatch.setenv("ASSAY_FLOWS_POLL_SECONDS", "0.05")
    monkeypatch.setenv("ASSAY_FLOWS_RETRY_SECONDS", "0.2")
    monkeypatch.setenv("ASSAY_FLOWS_RETRY_MAX_SECONDS", "1")
    monkeypatch.setenv("ASSAY_FLOWS_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("ASSAY_PUBLIC_URL", "http://assay.test")


@pytest.fixture
def shop(api, make_duckdb):
    """A synced DuckDB datastore ``shop``: orders (a null amount, a negative qty) and
    customers (a null name), with three checks. Returns ids."""
    path = make_duckdb(
        "create table orders(id int, amount double, qty int)",
        "insert into orders values (1, 10, 1), (2, null, 2), (3, 5, -1)",
        "create table customers(id int, name varchar)",
        "insert into customers values (1, 'a'), (2, null)",
    )
    ds = api.duckdb_datastore("shop", path)
    api.sync(ds["id"])
    orders = api.container_id(ds["id"], "orders")
    customers = api.container_id(ds["id"], "customers")
    checks = {
        "amount": api.check(orders, "notNull", ["amount"], description="amount is never null"),
        "qty": api.check(orders, "between", ["qty"], properties={"min": 0, "max": 100}, weight=9, tags=[]),
        "name": api.check(customers, "notNull", ["name"], tags=["pii"]),
    }
    return {"datastore": ds["id"], "orders": orders, "customers": customers, "checks": checks}
