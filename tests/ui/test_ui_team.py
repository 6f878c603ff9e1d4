"""The web UI's editing and team flows, in a real browser against the shared live server:
edit a datastore with a failing then passing connection test."""

from __future__ import annotations

import json
import re

import pytest

from tests.ui.browsing import LONG, audit, choose, field

pytestmark = pytest.mark.xdist_group("ui_browser")


def signed_in(page, token: str) -> None:
    """Sign the page's browser context in with ``token`` (as the sign-in page stores it)."""
    page.context.add_init_script(f"window.localStorage.setItem('assay.token', {json.dumps(token)})")


def test_edit_a_datastore_with_a_connection_test(page, live, screenshots):
    from playwright.sync_api import expect

    server, seeded = live
    source = str(seeded["paths"]["source"])
    ds = server.call(
        "POST",
        "/api/datastores",
        json={"name": "flights_edit", "connection": {"type": "duckdb"}, "database": source, "schema": "main"},
    )
    signed_in(page, server.token)
    page.goto(f"/datastores/{ds['id']}")
    page.get_by_role("link", name="Edit", exact=True).click()
    expect(page.get_by_role("heading", name="Edit datastore flights_edit")).to_be_visible()
    expect(field(page, "Database file")).to_have_value(source)

    # a wrong file: the test names the driver's reason, and saving it is refused with nothing changed
    field(page, "Database file").fill(source + ".missing")
    page.get_by_role("button", name="Test connection").click()
    reason = server.call(
        "POST",
        f"/api/datastores/{ds['id']}/connection",
        json={"connection": {"type": "duckdb"}, "database": source + ".missing"},
    )
    assert reason["connected"] is False
    expect(page.get_by_role("alert", name="Cannot connect")).to_have_text(
        "Cannot connect" + reason["message"], timeout=LONG
    )
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("alert", name="Something went wrong")).to_contain_text(
        f"database: connection test failed: {reason['message']}"
    )
    assert server.call("GET", f"/api/datastores/{ds['id']}")["database"] == source

    # the right file, a new name, a tag and the enrichment datastore
    field(page, "Database file").fill(source)
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_role("alert", name="Connected")).to_have_text(
        "Connectedconnected; 2 container(s) found", timeout=LONG
    )  # flights and airlines
    field(page, "Name").fill("flights_edited")
    page.get_by_role("textbox", name="Tags").fill("finance")
    page.keyboard.press("Enter")
    choose(page, "Enrichment datastore", "flights_enrichment")
    audit(page, "13-edit-datastore", screenshots)
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", name="Datastore flights_edited")).to_be_visible()
    expect(page.get_by_role("group", name="Tags")).to_have_text("finance")
    expect(page.get_by_role("link", name="flights_enrichment")).to_be_visible()
    saved = server.call("GET", f"/api/datastores/{ds['id']}")
    assert (saved["name"], saved["database"], saved["global_tags"], saved["enrichment_datastore_id"]) == (
        "flights_edited",
        source,
        [{"name": "finance"}],
        seeded["enrichment"],
    )
    assert re.search(r"/datastores/\d+$", page.url)


def test_dry_run_a_check_from_its_form(page, live, screenshots):
    """The form's definition, changed and not saved, dry run: the page shows what a scan would
    find (counted here in DuckDB), and nothing is saved or recorded."""
    import duckdb
    from playwright.sync_api import expect

    server, seeded = live
    flights = seeded["containers"]["flights"]
    (check,) = server.call(
        "GET", "/api/quality-checks", params={"container": flights, "rule_type": "between", "size": 100}
    )["items"]
    anomalies_before = server.call("GET", "/api/anomalies", params={"quality_check": check["id"], "size": 1})["total"]
    with duckdb.connect(str(seeded["paths"]["source"]), read_only=True) as con:
        (breaking,) = con.execute("SELECT count(*) FROM flights WHERE dep_delay < -5 OR dep_delay > 300").fetchone()
    signed_in(page, server.token)
    page.goto(f"/checks/{check['id']}")
    expect(field(page, "Min")).to_have_value("-30")
    field(page, "Min").fill("-5")  # a tighter rule, tried before saving it
    page.get_by_role("button", name="Dry run").click()
    result = page.get_by_role("alert", name="Dry run (nothing was recorded)")
    expect(result).to_contain_text("failed", timeout=LONG)
    expect(result).to_contain_text(f"{breaking:,} of 3,000 rows break the check (3,000 rows read)")
    api_run = server.call(
        "POST",
        "/api/quality-checks/dry-run",
        json={
            "container_id": flights,
            "rule": "between",
            "fields": ["dep_delay"],
            "properties": {"min": -5, "max": 300},
        },
    )
    assert (api_run["anomalous_records"], len(api_run["anomalies"])) == (breaking, 11)  # 10 rows, then one roll-up
    expect(result).to_contain_text("A scan would record 11 anomalies:")
    expect(result.get_by_role("region", name="Dry run failing rows").get_by_role("row")).to_have_count(
        11
    )  # 10 + header
    audit(page, "14-check-dry-run", screenshots)
    saved = server.call("GET", f"/api/quality-checks/{check['id']}")
    assert saved["properties"] == {"min": -30, "max": 300}
    assert (
        server.call("GET", "/api/anomalies", params={"quality_check": check["id"], "size": 1})["total"]
        == anomalies_before
    )
