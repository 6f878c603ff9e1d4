"""The first Admin's one-time set-up link: a browser submitting its form is sent on to the
UI's sign-in page; an API client gets the new Admin as JSON."""

from __future__ import annotations

from assay.api.routers.users import setup_code
from assay.store.repositories import users as repo


def _code(api) -> str:
    app = api.client.app
    with app.state.database.session() as session:
        admin = repo.first_admin(session)
        assert admin is not None and admin.password_hash is None
        return setup_code(app.state.settings.secret_key, admin)


def test_a_browser_form_post_goes_on_to_the_sign_in_page(api):
    code = _code(api)
    page = api.get("/api/auth/setup", params={"code": code})
    assert page.status_code == 200 and '<form method="post" action="setup">' in page.text
    r = api.post(
        "/api/auth/setup",
        data={"code": code, "email": "first@example.com", "password": "long enough"},
        headers={"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/signin?notice=admin-ready"
    signed = api.post("/api/auth/sign-in", json={"email": "first@example.com", "password": "long enough"})
    assert signed.status_code == 200 and signed.json()["user"]["email"] == "first@example.com"


def test_an_api_client_gets_the_new_admin_as_json(api):
    code = _code(api)
    r = api.post("/api/auth/setup", data={"code": code, "email": "json@example.com", "password": "long enough"})
    assert r.status_code == 200
    body = r.json()
    assert (body["email"], body["role"]) == ("json@example.com", "Admin")
    again = api.post("/api/auth/setup", data={"code": code, "email": "json@example.com", "password": "long enough"})
    assert again.status_code == 401 and "used already" in again.json()["detail"]
