"""/users, /teams, /user-tokens and the browser handshake of `qualytics auth login`."""

from __future__ import annotations

import html
import uuid
from typing import Annotated
from urllib.parse import urlencode, urlparse

from fastapi import APIRouter, Form, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from ...errors import ValidationError
from ...security import AuthError, issue_token, verify_token
from ...store.models import Team, User, UserToken
from ...store.repo import paginate
from ...store.repositories import users as repo
from .. import responses as r
from ..auth import CurrentUser
from ..deps import PageDep, SessionDep, page_of
from ..routing import Route
from ..serializers import iso

router = APIRouter(tags=["users"], route_class=Route)
public = APIRouter(tags=["auth"], route_class=Route)


def _user(u: User) -> dict:
    return {
        "id": u.id,
        "created": iso(u.created),
        "name": u.name,
        "email": u.email,
        "role": u.role,
        "deleted_at": iso(u.deleted_at),
        "teams": [{"id": 1, "name": "Public"}],
    }


def _team(t: Team) -> dict:
    return {
        "id": t.id,
        "created": iso(t.created),
        "name": t.name,
        "description": t.description,
        "is_public": t.is_public,
        "permission": "Editor",
    }


def _token(t: UserToken, value: str | None = None) -> dict:
    out = {
        "id": t.id,
        "created": iso(t.created),
        "name": t.name,
        "expiration": iso(t.expiration),
        "revoked": t.revoked,
        "last_used": iso(t.last_used),
        "user_id": t.user_id,
        "scim_endpoints_only": t.scim_endpoints_only,
    }
    if value is not None:
        out["token"] = value
    return out


@router.get("/users/me", response_model=r.User)
def me(user: CurrentUser) -> dict:
    """The caller."""
    return _user(user)


@router.get("/users", response_model=r.UserPage)
def list_users(session: SessionDep, page: PageDep) -> dict:
    rows, total, pages = paginate(session, repo.users(), page.page, page.size)
    return page_of([_user(u) for u in rows], total, page, pages)


@router.get("/users/{user_id}", response_model=r.User)
def get_user(user_id: int, session: SessionDep) -> dict:
    return _user(repo.get_user(session, user_id))


@router.get("/teams", response_model=r.TeamPage)
def list_teams(session: SessionDep, page: PageDep) -> dict:
    rows, total, pages = paginate(session, repo.teams(), page.page, page.size)
    return page_of([_team(t) for t in rows], total, page, pages)


@router.get("/teams/{team_id}", response_model=r.Team)
def get_team(team_id: int, session: SessionDep) -> dict:
    return _team(repo.get_team(session, team_id))


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    expires_in_days: int | None = Field(default=None, ge=1, le=365)
    scim_endpoints_only: bool = False


@router.get("/user-tokens", response_model=r.UserTokenPage)
def list_tokens(session: SessionDep, user: CurrentUser, page: PageDep) -> dict:
    """The caller's tokens (never their values)."""
    rows, total, pages = paginate(session, repo.tokens_of(user.id), page.page, page.size)
    return page_of([_token(t) for t in rows], total, page, pages)


@router.post("/user-tokens", response_model=r.UserToken)
def create_token(body: TokenCreate, session: SessionDep, user: CurrentUser, request: Request) -> dict:
    """Create a token for the caller; its value is in ``token`` and is shown only now.
    409 when the caller already has a token of that name."""
    try:
        row, value = issue_token(
            session,
            request.app.state.settings.secret_key,
            name=body.name,
            user_id=user.id,
            expires_in_days=body.expires_in_days,
        )
    except ValueError as e:
        raise HTTPException(409, str(e)) from None
    return _token(row, value)


def _own_token(session, user: User, token_id: int) -> UserToken:
    return repo.own_token(session, user.id, token_id)


@router.put("/user-tokens/{token_id}/revoke", response_model=r.UserToken)
def revoke_token(token_id: int, session: SessionDep, user: CurrentUser) -> dict:
    row = _own_token(session, user, token_id)
    row.revoked = True
    return _token(row)


@router.put("/user-tokens/{token_id}/restore", response_model=r.UserToken)
def restore_token(token_id: int, session: SessionDep, user: CurrentUser) -> dict:
    row = _own_token(session, user, token_id)
    row.revoked = False
    return _token(row)


@router.delete("/user-tokens/{token_id}", status_code=204)
def delete_token(token_id: int, session: SessionDep, user: CurrentUser) -> Response:
    session.delete(_own_token(session, user, token_id))
    return Response(status_code=204)


# -- `qualytics auth login`: browser handshake -------------------------------------------


def _check_redirect(redirect_uri: str, part: str) -> None:
    """Tokens only go back to a CLI listening on this machine's loopback interface."""
    parsed = urlparse(redirect_uri)
    if parsed.scheme != "http" or parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValidationError(
            ("redirect_uri",), "redirect_uri must be an http://127.0.0.1:<port>/... (loopback) address", part=part
        )


def _redirect(redirect_uri: str, **params: str) -> RedirectResponse:
    sep = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{sep}{urlencode(params)}", status_code=302)


def _cli_token(session, secret: str, user_id: int | None, hostname: str) -> str:
    _row, value = issue_token(
        session, secret, name=f"cli-{hostname or 'host'}-{uuid.uuid4().hex[:8]}", user_id=user_id, expires_in_days=30
    )
    return value


@public.get(
    "/cli/authorize",
    response_model=None,
    response_class=HTMLResponse,
    responses={302: {"description": "Approved at once (a test server): back to the CLI with a token"}},
)
def cli_authorize(
    request: Request,
    session: SessionDep,
    redirect_uri: Annotated[str, Query()],
    state: Annotated[str, Query()],
    hostname: Annotated[str, Query()] = "",
) -> Response:
    """Start of the CLI's browser login. Shows a page where the user approves the login
    by pasting an existing token; the browser is then sent to ``redirect_uri`` with the
    same ``state`` and a NEW 30-day token for that user. A server started with
    ``--auto-approve-cli-login`` (tests only) approves at once as the admin."""
    _check_redirect(redirect_uri, "query")
    settings = request.app.state.settings
    if settings.auto_approve_cli_login:
        return _redirect(redirect_uri, state=state, token=_cli_token(session, settings.secret_key, None, hostname))
    e = html.escape
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Assay CLI login</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>Approve a command-line login</h1>
<p>The Qualytics-compatible CLI on <b>{e(hostname or "your machine")}</b> asks for an API token.
Paste one of your existing Assay tokens (from <code>assay token create</code>) to approve; the CLI
receives a new token of its own, valid 30 days.</p>
<form method="post" action="authorize">
<input type="hidden" name="redirect_uri" value="{e(redirect_uri)}">
<input type="hidden" name="state" value="{e(state)}">
<input type="hidden" name="hostname" value="{e(hostname)}">
<p><input name="token" type="password" size="60" placeholder="your API token" required></p>
<p><button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny" formnovalidate>Deny</button></p>
</form></body></html>"""
    return HTMLResponse(page)


@public.post(
    "/cli/authorize",
    response_model=None,
    status_code=302,
    response_class=RedirectResponse,
    responses={302: {"description": "Back to the CLI's redirect_uri with a new token, or with error"}},
)
def cli_authorize_confirm(
    request: Request,
    session: SessionDep,
    redirect_uri: Annotated[str, Form()],
    state: Annotated[str, Form()],
    hostname: Annotated[str, Form()] = "",
    token: Annotated[str, Form()] = "",
    decision: Annotated[str, Form()] = "approve",
) -> Response:
    """The approval form's answer: redirect to the CLI with a new token, or with ``error``."""
    _check_redirect(redirect_uri, "body")
    if decision != "approve":
        return _redirect(redirect_uri, state=state, error="the login was denied")
    secret = request.app.state.settings.secret_key
    try:
        user, _row = verify_token(session, secret, token)
    except AuthError as e:
        return _redirect(redirect_uri, state=state, error=str(e))
    return _redirect(redirect_uri, state=state, token=_cli_token(session, secret, user.id, hostname))
