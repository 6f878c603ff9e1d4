"""The web UI's admin and personal pages, in a real browser against the shared live server:
an Admin creates a team and users (a person, a service user), edits a role and deactivates;
creates and revokes an API token; stars a datastore, container and check and gives the check
an owner; reads insights and the activity log. A Member sees no admin pages (a typed URL says
"Not allowed"), and signing out revokes the session token at the API."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from tests.ui.browsing import audit, choose, field

pytestmark = pytest.mark.xdist_group("ui_browser")

PASSWORD = "reviewer pass 42"


def signed_in(page, token: str) -> None:
    page.context.add_init_script(f"window.localStorage.setItem('assay.token', {json.dumps(token)})")


def user_by_email(server, email: str) -> dict:
    users = server.call("GET", "/api/users", params={"size": 1000, "include_deactivated": True})["items"]
    return next(u for u in users if u["email"] == email)


@pytest.fixture(scope="module")
def member(live) -> dict:
    """Max Member, a Member in team ``reviewers`` (Author on ``flights_seed``), with a password."""
    server, seeded = live
    team = server.call(
        "POST", "/api/teams", json={"name": "reviewers", "permission": "Author", "datastore_ids": [seeded["datastore"]]}
    )
    return server.call(
        "POST",
        "/api/users",
        json={
            "name": "Max Member",
            "email": "max@example.com",
            "role": "Member",
            "password": PASSWORD,
            "team_ids": [team["id"]],
        },
    )


def test_an_admin_creates_a_team_and_users_edits_a_role_and_deactivates(page, live, screenshots):
    from playwright.sync_api import expect

    server, seeded = live
    page.on("dialog", lambda d: d.accept())  # the confirmations
    signed_in(page, server.token)
    page.goto("/")
    nav = page.get_by_role("navigation", name="Main")
    for name in ("Users", "Teams", "Activity", "Insights", "API tokens"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()

    # a team holding flights_seed as Author
    nav.get_by_role("link", name="Teams", exact=True).click()
    page.get_by_role("button", name="New team").click()
    dialog = page.get_by_role("dialog", name="New team")
    field(dialog, "Name").fill("stewards")
    choose(page, "Permission on its datastores", "Author")
    dialog.get_by_role("textbox", name="Datastores", exact=True).click()
    page.get_by_role("option", name="flights_seed", exact=True).click()
    dialog.get_by_role("heading", name="New team").click()  # closes the dropdown
    audit(page, "30-new-team", screenshots)
    dialog.get_by_role("button", name="Create team").click()
    expect(dialog).to_be_hidden()
    team = next(t for t in server.call("GET", "/api/teams", params={"size": 100})["items"] if t["name"] == "stewards")
    assert (team["permission"], [d["name"] for d in team["datastores"]], team["members"]) == (
        "Author",
        ["flights_seed"],
        [],
    )
    row = page.get_by_test_id(f"team-{team['id']}")
    expect(row.get_by_role("cell")).to_have_text(["stewards", "Author", "flights_seed", "—", "Edit"])
    audit(page, "31-teams", screenshots)

    # a person, a Manager in that team
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users", exact=True).click()
    page.get_by_role("button", name="New user").click()
    dialog = page.get_by_role("dialog", name="New user")
    field(dialog, "Name").fill("Bea Steward")
    field(dialog, "Email").fill("bea.example.com")
    dialog.get_by_role("button", name="Create user").click()
    expect(dialog.get_by_text("Give an email address, like ann@example.com")).to_be_visible()
    field(dialog, "Email").fill("bea@example.com")
    choose(page, "Role", "Manager")
    dialog.get_by_role("textbox", name="Teams", exact=True).click()
    page.get_by_role("option", name="stewards (Author)", exact=True).click()
    dialog.get_by_role("heading", name="New user").click()
    field(dialog, "Password").fill("steward pass 42")
    audit(page, "32-new-user", screenshots)
    dialog.get_by_role("button", name="Create user").click()
    expect(dialog).to_be_hidden()
    bea = user_by_email(server, "bea@example.com")
    assert (bea["name"], bea["role"], bea["user_type"], [t["name"] for t in bea["teams"]], bea["deleted_at"]) == (
        "Bea Steward",
        "Manager",
        "Person",
        ["Public", "stewards"],  # every user is in the public team
        None,
    )
    row = page.get_by_test_id(f"user-{bea['id']}")
    expect(row.get_by_role("cell")).to_have_text(
        ["Bea Steward", "bea@example.com", "Manager", "Public, stewards", "yes", "never", "Edit"]
    )
    assert httpx.post(
        f"{server.base_url}/api/auth/sign-in", json={"email": "bea@example.com", "password": "steward pass 42"}
    ).is_success

    # her role becomes Member
    row.get_by_role("button", name="Edit Bea Steward").click()
    dialog = page.get_by_role("dialog", name="Edit user Bea Steward")
    # her teams as they are (everyone is in the public team: it is no choice)
    expect(dialog.locator(".mantine-Pill-label")).to_have_text(["stewards (Author)"])
    choose(page, "Role", "Member")
    dialog.get_by_role("button", name="Save user").click()
    expect(dialog).to_be_hidden()
    expect(row.get_by_role("cell").nth(2)).to_have_text("Member")
    bea = user_by_email(server, "bea@example.com")
    assert (bea["role"], [t["name"] for t in bea["teams"]]) == ("Member", ["Public", "stewards"])

    # a service user, then deactivated
    page.get_by_role("button", name="New user").click()
    dialog = page.get_by_role("dialog", name="New user")
    dialog.get_by_text("Service user", exact=True).click()
    expect(field(dialog, "Password")).to_have_count(0)  # a service user has no password
    field(dialog, "Name").fill("etl-nightly")
    field(dialog, "Email").fill("etl-ui@example.com")
    dialog.get_by_role("button", name="Create user").click()
    expect(dialog).to_be_hidden()
    etl = user_by_email(server, "etl-ui@example.com")
    assert (etl["user_type"], etl["role"]) == ("Service", "Member")
    row = page.get_by_test_id(f"user-{etl['id']}")
    expect(row.get_by_role("cell").first).to_have_text("etl-nightly service")
    row.get_by_role("button", name="Edit etl-nightly").click()
    dialog = page.get_by_role("dialog", name="Edit user etl-nightly")
    expect(dialog.get_by_text("None yet.")).to_be_visible()
    field(dialog, "New service token name").fill("nightly")
    dialog.get_by_role("button", name="Create service token").click()
    shown = dialog.get_by_test_id("new-token")
    expect(shown).to_have_text(re.compile(r"^ey"))
    service_token = {"Authorization": f"Bearer {shown.inner_text().strip()}"}
    assert httpx.get(f"{server.base_url}/api/users/me", headers=service_token).json()["email"] == "etl-ui@example.com"
    expect(dialog.get_by_text("nightly", exact=True)).to_be_visible()
    audit(page, "33-service-token", screenshots)
    dialog.get_by_role("button", name="Deactivate").click()
    expect(row).to_be_hidden()  # deactivated users are listed on demand only
    assert user_by_email(server, "etl-ui@example.com")["deleted_at"] is not None
    r = httpx.get(f"{server.base_url}/api/users/me", headers=service_token)
    assert (r.status_code, r.json()["detail"]) == (401, "user deactivated")
    page.get_by_label("Show deactivated users").check()
    expect(page).to_have_url(re.compile(r"/users\?include_deactivated=true$"))
    expect(row.get_by_role("cell").nth(4)).to_have_text(re.compile(r"^deactivated "))
    audit(page, "34-users", screenshots)


def test_create_a_token_shown_once_and_revoke_it(page, live, screenshots):
    from playwright.sync_api import expect

    server, _ = live
    page.on("dialog", lambda d: d.accept())
    signed_in(page, server.token)
    page.goto("/tokens")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_text("Give the token a name, e.g. where it is used")).to_be_visible()
    field(page, "Token name").fill("notebook")
    field(page, "Expires in (days)").fill("0")  # kept as typed (not made 1 on blur), refused with the bound
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_text("A token expires in 1 to 365 days (leave blank for never)")).to_be_visible()
    expect(field(page, "Expires in (days)")).to_have_value("0")
    field(page, "Expires in (days)").fill("30")
    page.get_by_role("button", name="Create token").click()
    shown = page.get_by_test_id("new-token")
    expect(shown).to_have_text(re.compile(r"^ey"))
    value = shown.inner_text().strip()
    me = httpx.get(f"{server.base_url}/api/users/me", headers={"Authorization": f"Bearer {value}"})
    assert (me.status_code, me.json()["id"]) == (200, server.call("GET", "/api/users/me")["id"])
    saved = next(
        t for t in server.call("GET", "/api/user-tokens", params={"size": 100})["items"] if t["name"] == "notebook"
    )
    assert saved["revoked"] is False and saved["expiration"] is not None and "token" not in saved
    audit(page, "35-tokens", screenshots)
    page.get_by_role("button", name="I have saved it").click()
    expect(shown).to_have_count(0)  # shown once: the list never has it
    page.get_by_role("button", name="Revoke notebook").click()
    expect(page.get_by_role("button", name="Restore notebook")).to_be_visible()
    r = httpx.get(f"{server.base_url}/api/users/me", headers={"Authorization": f"Bearer {value}"})
    assert (r.status_code, r.json()["detail"]) == (401, "token revoked")


def test_favourites_persist_and_a_check_gets_an_owner(page, live, member, screenshots):
    from playwright.sync_api import expect

    server, seeded = live
    signed_in(page, server.token)
    ds = seeded["datastore"]
    page.goto(f"/datastores/{ds}")
    star = page.get_by_role("button", name="Favourite flights_seed")
    expect(star).to_have_attribute("aria-pressed", "false")
    star.click()
    expect(star).to_have_attribute("aria-pressed", "true")
    page.wait_for_load_state("networkidle")
    assert server.call("GET", f"/api/datastores/{ds}")["favorite"] is True
    page.reload()
    expect(page.get_by_role("button", name="Favourite flights_seed")).to_have_attribute("aria-pressed", "true")

    flights = seeded["containers"]["flights"]
    page.goto(f"/containers/{flights}")
    page.get_by_role("button", name="Favourite flights").click()
    expect(page.get_by_role("button", name="Favourite flights")).to_have_attribute("aria-pressed", "true")
    page.wait_for_load_state("networkidle")
    assert server.call("GET", f"/api/containers/{flights}")["favorite"] is True

    check = next(
        c
        for c in server.call("GET", "/api/quality-checks", params={"container": flights, "size": 100})["items"]
        if c["rule_type"] == "notNull" and c["fields"][0]["name"] == "dep_time"
    )
    page.goto(f"/checks/{check['id']}")
    expect(page.get_by_text(re.compile(r"owner: none$"))).to_be_visible()
    star = page.get_by_role("button", name=f"Favourite check {check['id']}")
    check_url = f"/api/quality-checks/{check['id']}"

    def toggle(pressed: str) -> None:
        # the star ignores clicks while its change is on the way: wait for the change's answer
        # and for the refetch of the check it causes
        with (
            page.expect_response(lambda r: r.url.endswith(check_url) and r.request.method == "GET"),
            page.expect_response(lambda r: r.url.endswith(f"{check_url}/favorite")),
        ):
            star.click()
        expect(star).to_have_attribute("aria-pressed", pressed)

    toggle("true")
    choose(page, "Owner", "Max Member (max@example.com)")
    # the star refetches the check: an unsaved edit survives it (it was undone, under load)
    toggle("false")
    toggle("true")
    expect(page.get_by_role("textbox", name="Owner")).to_have_value("Max Member (max@example.com)")
    page.get_by_role("button", name="Save check").click()
    expect(page.get_by_text(re.compile(r"owner: Max Member$"))).to_be_visible()
    saved = server.call("GET", f"/api/quality-checks/{check['id']}")
    assert (saved["owner_id"], saved["owner"]["name"], saved["favorite"]) == (member["id"], "Max Member", True)
    page.reload()
    expect(page.get_by_role("button", name=f"Favourite check {check['id']}")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("textbox", name="Owner")).to_have_value("Max Member (max@example.com)")
    audit(page, "36-check-owner-favourite", screenshots)

    # the lists show the stars too
    page.goto(f"/checks?container={flights}&datastore={ds}")
    expect(page.get_by_role("button", name=f"Favourite check {check['id']}")).to_have_attribute("aria-pressed", "true")
    page.goto("/datastores")
    expect(page.get_by_role("button", name="Favourite flights_seed")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("button", name="Favourite flights_enrichment")).to_have_attribute("aria-pressed", "false")
    audit(page, "40-datastores-favourites", screenshots)


def test_insights_and_activity_with_filters_in_the_url(page, live, screenshots):
    from playwright.sync_api import expect

    server, seeded = live
    signed_in(page, server.token)
    page.goto("/insights?timeframe=month")
    expect(page.get_by_role("radio", name="Month")).to_be_checked()
    want = server.call("GET", "/api/insights", params={"timeframe": "month"})
    expect(page.get_by_test_id("total-total_datastores")).to_contain_text(f"Datastores{want['total_datastores']}")
    expect(page.get_by_test_id("total-total_active_checks")).to_contain_text(
        f"Active checks{want['total_active_checks']}"
    )
    expect(page.get_by_role("heading", name="Anomalies per day")).to_be_visible()
    audit(page, "37-insights", screenshots)
    page.get_by_text("Quarter", exact=True).click()
    expect(page).to_have_url(re.compile(r"/insights\?timeframe=quarter$"))
    expect(page.get_by_text(re.compile(r"^The quarter ending "))).to_be_visible()

    admin = server.call("GET", "/api/users/me")
    page.goto("/activity")
    choose(page, "User", admin["name"])
    expect(page).to_have_url(re.compile(rf"/activity\?user={admin['id']}$"))
    want = server.call("GET", "/api/activity", params={"users": admin["id"], "size": 50})
    assert want["total"] > 0
    expect(page.get_by_text(re.compile(rf"^1–{min(50, want['total'])} of {want['total']}$"))).to_be_visible()
    first = want["items"][0]
    verb = {"insert": "created", "update": "changed", "delete": "deleted"}[first["verb"]]
    label = f"{first['object_type'].replace('_', ' ')} {first['object_id']}"
    rows = page.get_by_role("table", name="Activity").get_by_role("row")
    expect(rows.nth(1).get_by_role("cell").nth(2)).to_have_text(verb)
    expect(rows.nth(1).get_by_role("cell").nth(3)).to_have_text(label)
    audit(page, "38-activity", screenshots)


def test_a_member_sees_no_admin_pages_and_sign_out_revokes_the_token(page, live, member, screenshots):
    from playwright.sync_api import expect

    server, _ = live
    page.goto("/signin")
    field(page, "Email").fill("max@example.com")
    field(page, "Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Max Member (Member)")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Insights", exact=True)).to_be_visible()
    for name in ("Users", "Teams", "Activity"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_have_count(0)
    page.goto("/users")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_text("Only Admins manage users; you are signed in as Max Member (Member).")).to_be_visible()
    expect(page.get_by_role("table", name="Users")).to_have_count(0)
    audit(page, "39-not-allowed", screenshots)
    token = page.evaluate("() => window.localStorage.getItem('assay.token')")
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{server.base_url}/api/users/me", headers=headers).json()["email"] == "max@example.com"
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/signin"))
    assert page.evaluate("() => window.localStorage.getItem('assay.token')") is None
    r = httpx.get(f"{server.base_url}/api/users/me", headers=headers)
    assert (r.status_code, r.json()["detail"]) == (401, "token revoked")


def test_admin_pages_on_a_phone(browser, live, screenshots):
    """At 390 px wide the new pages fit the screen (no sideways scrolling of the page)."""
    server, _ = live
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=server.base_url, is_mobile=True)
    context.add_init_script(f"window.localStorage.setItem('assay.token', {json.dumps(server.token)})")
    page = context.new_page()
    try:
        for path, name in (
            ("/users", "phone-users"),
            ("/teams", "phone-teams"),
            ("/tokens", "phone-tokens"),
            ("/insights", "phone-insights"),
            ("/activity", "phone-activity"),
        ):
            page.goto(path)
            page.wait_for_load_state("networkidle")
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 390, f"{path} is {width}px wide on a 390px screen"
            page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
    finally:
        context.close()
