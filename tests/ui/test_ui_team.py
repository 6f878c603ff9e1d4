"""The web UI's editing and team flows, in a real browser against the shared live server:
edit a datastore with a failing then passing connection test, dry run a check from its form,
sign in with a password, assign and comment on an anomaly, and a Member whose team holds
Viewer sees no edit or run buttons (and the API refuses those actions too)."""

from __future__ import annotations

import datetime as dt
import json
import re
from urllib.parse import urlparse

import httpx
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
    refused = page.get_by_role("alert", name="The connection test failed, nothing was saved")
    expect(refused).to_contain_text(reason["message"])
    expect(refused).not_to_contain_text("test_connection")  # the API's advice, meaningless here
    expect(refused.get_by_role("button", name="Save without testing")).to_be_visible()
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

    # the API's refusal shows on the input it is about, once, without its place repeated
    refusal = httpx.post(
        f"{server.base_url}/api/quality-checks/dry-run",
        json={**check_body(flights), "filter": "dep_delay >>> 3"},
        headers={"Authorization": f"Bearer {server.token}"},
    ).json()["detail"][0]
    assert refusal["loc"] == ["body", "filter"] and refusal["msg"].startswith("filter: ")
    field(page, "Filter").fill("dep_delay >>> 3")
    page.get_by_role("button", name="Dry run").click()
    expect(page.locator(".mantine-TextInput-error")).to_have_text(refusal["msg"].removeprefix("filter: "))
    expect(page.get_by_role("alert", name="Something went wrong")).to_have_count(0)
    # coverage is a share of rows: 5 stays 5 (not saved as 1.0) and is refused with the bound
    field(page, "Coverage").fill("5")
    page.get_by_role("button", name="Save check").click()
    expect(page.get_by_text("Coverage is a share of rows: more than 0, at most 1")).to_be_visible()
    expect(field(page, "Coverage")).to_have_value("5")
    page.screenshot(path=str(screenshots / "14b-check-refusals.png"), full_page=True)
    assert server.call("GET", f"/api/quality-checks/{check['id']}")["coverage"] == saved["coverage"]


def check_body(container: int) -> dict:
    return {
        "container_id": container,
        "rule": "between",
        "fields": ["dep_delay"],
        "properties": {"min": -5, "max": 300},
    }


PASSWORD = "correct horse 42"


@pytest.fixture(scope="module")
def analyst(live) -> dict:
    """A Member, Ana Lyst, whose team ``analysts`` holds ``flights_seed`` as Viewer. The public
    team of a fresh install holds Reporter (migration 0022), so Viewer is what she holds there:
    nothing is narrowed by hand, the README's promise holds as installed."""
    server, seeded = live
    public = next(t for t in server.call("GET", "/api/teams", params={"size": 100})["items"] if t["is_public"])
    assert public["permission"] == "Reporter"
    team = server.call(
        "POST", "/api/teams", json={"name": "analysts", "permission": "Viewer", "datastore_ids": [seeded["datastore"]]}
    )
    user = server.call(
        "POST",
        "/api/users",
        json={
            "name": "Ana Lyst",
            "email": "ana@example.com",
            "role": "Member",
            "password": PASSWORD,
            "team_ids": [team["id"]],
        },
    )
    return user


def first_record_anomaly(server, datastore_id: int) -> dict:
    anomalies = server.call("GET", "/api/anomalies", params={"datastore": datastore_id, "size": 100})["items"]
    return next(a for a in anomalies if a["type"] == "record")


def test_sign_in_with_a_password(page, live, analyst, screenshots):
    from playwright.sync_api import expect

    page.goto("/datastores")
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Fdatastores$"))
    field(page, "Email").fill("ana@example.com")
    field(page, "Password").fill("not her password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("wrong email or password", exact=True)).to_be_visible()
    audit(page, "15-sign-in-password", screenshots)
    field(page, "Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/datastores$"))
    expect(page.get_by_text("Ana Lyst (Member)")).to_be_visible()
    # her team's datastore only (the enrichment datastore is the public team's, as Reporter)
    expect(page.get_by_role("link", name="flights_seed")).to_be_visible()


def test_comment_on_and_assign_an_anomaly(page, live, analyst, screenshots):
    from playwright.sync_api import expect

    server, seeded = live
    anomaly = first_record_anomaly(server, seeded["datastore"])
    signed_in(page, server.token)
    page.goto(f"/anomalies/{anomaly['id']}")
    triage = page.get_by_role("region", name="Triage")
    triage.get_by_role("textbox", name="Assignees").click()
    page.get_by_role("option", name="Ana Lyst", exact=True).click()
    page.keyboard.press("Escape")
    field(triage, "Description").fill("Delays over 5 hours: ask the airline")
    triage.get_by_role("button", name="Save triage").click()
    expect(page.get_by_text(f"Anomaly {anomaly['id']} saved")).to_be_visible()
    comments = page.get_by_role("region", name=re.compile(r"^Comments"))
    field(comments, "New comment").fill("Checked: the source row is real, not a load error.")
    comments.get_by_role("button", name="Add comment").click()
    comment = comments.get_by_role("article", name="Comment by Admin")
    expect(comment).to_contain_text("Checked: the source row is real, not a load error.")
    expect(comments.get_by_role("heading")).to_have_text("Comments (1)")
    page.get_by_role("button", name="Acknowledge").click()  # the history names who changed the status
    history = page.get_by_role("table", name="Status history")
    expect(history.get_by_role("row", name=re.compile(r"Active → Acknowledged Admin$"))).to_be_visible()
    expect(history.get_by_role("row")).to_have_count(3)  # header, detected, acknowledged
    audit(page, "16-anomaly-triage-comments", screenshots)
    saved = server.call("GET", f"/api/anomalies/{anomaly['id']}")
    assert (saved["assignee_ids"], saved["description"]) == ([analyst["id"]], "Delays over 5 hours: ask the airline")
    assert [(c["message"], c["user"]["name"]) for c in saved["comments"]] == [
        ("Checked: the source row is real, not a load error.", "Admin")
    ]


def test_a_member_without_permission_sees_no_edit_or_run_buttons(page, live, analyst, screenshots):
    """Ana holds Viewer on flights_seed: she reads it, reads source records and comments, but
    the pages offer her no edit, run, triage or check changes — and the API refuses them too."""
    from playwright.sync_api import expect

    server, seeded = live
    token = httpx.post(
        f"{server.base_url}/api/auth/sign-in", json={"email": "ana@example.com", "password": PASSWORD}
    ).json()["token"]
    signed_in(page, token)
    # a Member may not list users: no page asks (each refusal was a 403 in the console)
    user_lists: list[int] = []
    page.on("response", lambda r: urlparse(r.url).path == "/api/users" and user_lists.append(r.status))
    page.goto("/datastores")
    expect(page.get_by_role("link", name="flights_seed")).to_be_visible()
    expect(page.get_by_role("link", name="Add datastore")).to_have_count(0)

    page.goto(f"/datastores/{seeded['datastore']}")
    expect(page.get_by_role("heading", name="Datastore flights_seed")).to_be_visible()
    expect(page.get_by_role("link", name="flights", exact=True)).to_be_visible()
    for name in ("Edit", "Sync", "Profile", "Scan"):
        expect(page.get_by_role("main").get_by_role("button", name=name, exact=True)).to_have_count(0)
        expect(page.get_by_role("main").get_by_role("link", name=name, exact=True)).to_have_count(0)
    audit(page, "17-member-datastore", screenshots)

    anomaly = first_record_anomaly(server, seeded["datastore"])
    page.goto(f"/anomalies/{anomaly['id']}")
    expect(page.get_by_role("heading", name=f"Anomaly {anomaly['id']}")).to_be_visible()
    for name in ("Acknowledge", "Resolve", "Save triage"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    expect(page.get_by_role("textbox", name="Assignees")).to_be_disabled()
    expect(page.get_by_role("region", name="Failing source records")).to_be_visible()  # Viewer reads them
    comments = page.get_by_role("region", name=re.compile(r"^Comments"))
    long_word = "W" * 120  # one word wider than the card: it wraps, nothing is clipped
    field(comments, "New comment").fill(f"Seen, thanks. {long_word}")
    comments.get_by_role("button", name="Add comment").click()
    article = comments.get_by_role("article", name="Comment by Ana Lyst")
    expect(article).to_contain_text(long_word)
    assert article.evaluate("e => e.scrollWidth <= e.clientWidth"), "the comment's long word is clipped"

    check = next(
        c
        for c in server.call("GET", "/api/quality-checks", params={"datastore": seeded["datastore"], "size": 100})[
            "items"
        ]
        if c["rule_type"] == "notNull"
    )
    page.goto(f"/checks/{check['id']}")
    expect(page.get_by_text("Saving checks takes the Author permission on this datastore.")).to_be_visible()
    for name in ("Save check", "Dry run", "Archive", "Make draft"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    audit(page, "18-member-check", screenshots)
    # a check that does not exist: the error, no empty form
    page.goto("/checks/987654")
    expect(page.get_by_role("alert")).to_contain_text("987654")
    expect(page.get_by_role("textbox", name=re.compile(r"^Rule type"))).to_have_count(0)
    assert user_lists == []

    # the API agrees with what the pages hide
    headers = {"Authorization": f"Bearer {token}"}
    refused = httpx.put(
        f"{server.base_url}/api/datastores/{seeded['datastore']}", json={"description": "x"}, headers=headers
    )
    assert refused.status_code == 403, refused.text
    run = httpx.post(
        f"{server.base_url}/api/operations/run",
        json={"type": "sync", "datastore_id": seeded["datastore"]},
        headers=headers,
    )
    assert run.status_code == 403, run.text


def test_quality_scores_on_the_datastore_page_and_the_overview(page, live, screenshots):
    """The scanned datastore's score (from the API's metrics) on its page, in the datastores
    list and the overview; its daily history drawn as a line."""
    from playwright.sync_api import expect

    server, seeded = live
    ds = server.call("GET", f"/api/datastores/{seeded['datastore']}")
    total = ds["metrics"]["quality_score"]["total"]
    assert total is not None and 0 <= total <= 100
    shown = str(round(total))
    signed_in(page, server.token)
    page.goto(f"/datastores/{seeded['datastore']}")
    card = page.locator("div", has=page.get_by_text("Quality score", exact=True)).last
    expect(card).to_contain_text(shown)
    history = page.get_by_role("region", name="Quality score, last 30 days")
    expect(history.locator(".recharts-line-curve")).to_have_count(1)  # one line, a dot per scored day
    # a dot per day with a score: the seed's scan day and each day since (two when the
    # test runs after a midnight that followed the seed), as the API gives them
    today = dt.datetime.now(dt.UTC).date()
    window = {"start_date": str(today - dt.timedelta(days=29)), "end_date": str(today)}
    days = server.call("GET", f"/api/datastores/{seeded['datastore']}/quality-scores", params=window)
    scored = [d["date"] for d in days if d["total"] is not None]
    assert 1 <= len(scored) <= 2, scored
    expect(history.locator(".recharts-line-dots circle")).to_have_count(len(scored))
    expect(page.get_by_role("region", name="Dimensions").locator(".recharts-bar-rectangle").first).to_be_visible()
    audit(page, "19-datastore-quality-score", screenshots)
    page.goto("/datastores")
    expect(page.get_by_role("row", name=re.compile(r"^flights_seed ")).get_by_role("cell").nth(2)).to_have_text(shown)
    page.goto("/")
    row = page.get_by_role("row", name=re.compile(r"^flights_seed "))
    expect(row.get_by_role("cell").nth(1)).to_have_text(shown)
    scores = page.get_by_role("region", name="Quality scores, last 30 days")
    expect(scores.locator(".recharts-line-dots circle").first).to_be_visible()
    audit(page, "20-overview-quality-scores", screenshots)

    # a name of 120 letters without a space wraps: no page grows wider than the window
    long = server.call(
        "POST",
        "/api/datastores",
        json={
            "name": "W" * 120,
            "connection": {"type": "duckdb"},
            "database": str(seeded["paths"]["source"]),
            "schema": "main",
        },
    )
    try:
        for path in ("/datastores", f"/datastores/{long['id']}"):
            page.goto(path)
            expect(
                page.get_by_role("link", name="W" * 120)
                .or_(page.get_by_role("heading", name=re.compile("W{120}")))
                .first
            ).to_be_visible()
            widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            assert widths[0] <= widths[1], (path, widths)
        page.screenshot(path=str(screenshots / "21-long-datastore-name.png"), full_page=True)
    finally:
        server.call("DELETE", f"/api/datastores/{long['id']}")
