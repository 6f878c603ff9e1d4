"""/users, /teams, /user-tokens and the browser handshake of `qualytics auth login`."""

from __future__ import annotations

import datetime as dt
import html
import uuid
from typing import Annotated, Literal
from urllib.parse import urlencode, urlparse

from fastapi import APIRouter, Form, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from ...errors import Conflict, NotFound, ValidationError
from ...security import AuthError, check_password, hash_password, issue_token, verify_token
from ...store.models import Team, User, UserToken, utcnow
from ...store.repo import paginate
from ...store.repositories import users as repo
from .. import responses as r
from ..auth import CurrentUser
from ..deps import PageDep, SessionDep, page_of
from ..routing import Route
from ..serializers import iso, user_stub

router = APIRouter(tags=["users"], route_class=Route)

Role = Literal["Admin", "Manager", "Member"]
Permission = Literal["Reporter", "Viewer", "Drafter", "Author", "Editor"]
UserType = Literal["Person", "Service"]
public = APIRouter(tags=["auth"], route_class=Route)


def _team_ref(t: Team) -> dict:
    return {"id": t.id, "created": iso(t.created), "name": t.name, "permission": t.permission}


def _user(u: User, session=None) -> dict:
    teams = repo.teams_of(session, u) if session is not None else []
    return {
        **user_stub(u),
        "user_type": u.user_type,
        "deleted_at": iso(u.deleted_at),
        "last_login": iso(u.last_login),
        "teams": [_team_ref(t) for t in teams],
    }


def _team(t: Team) -> dict:
    return {
        "id": t.id,
        "created": iso(t.created),
        "name": t.name,
        "description": t.description,
        "is_public": t.is_public,
        "permission": t.permission,
        "members": [{"id": u.id, "name": u.name} for u in t.members],
        "users": [user_stub(u) for u in t.members],
        "datastores": [{"id": d.id, "name": d.name} for d in t.datastores],
    }


def _aware(value):
    """``value`` with UTC as its zone when it has none (SQLite reads datetimes back naive)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _token(t: UserToken, value: str | None = None) -> dict:
    out = {
        "id": t.id,
        "created": iso(t.created),
        "name": t.name,
        "expiration": iso(t.expiration),
        "revoked": t.revoked,
        "active": not t.revoked and (t.expiration is None or _aware(t.expiration) > utcnow()),
        "last_used": iso(t.last_used),
        "user_id": t.user_id,
        "user": user_stub(t.user),
        "scim_endpoints_only": t.scim_endpoints_only,
    }
    if value is not None:
        out["token"] = value
    return out


@router.get("/users/me", response_model=r.Me)
def me(user: CurrentUser, session: SessionDep, request: Request) -> dict:
    """The caller, with what the UI needs to hide what it may not do: ``role``, ``teams`` and
    ``permissions`` — the caller's permission on each datastore they can see (``datastore_id``,
    ``permission``: Reporter … Editor; every datastore with "Editor" for an Admin)."""
    out = _user(session.get(User, user.id) or user, session)
    scope = getattr(request.state, "scope", None)
    if scope is None:  # an Admin: every datastore
        perms = dict.fromkeys(repo.datastore_ids(session), "Editor")
    else:
        perms = scope.permissions
    out["permissions"] = [{"datastore_id": d, "permission": p} for d, p in sorted(perms.items())]
    out["is_admin"] = user.role == "Admin"
    return out


@router.get("/users", response_model=r.UserPage)
def list_users(
    session: SessionDep, page: PageDep, include_deactivated: bool = False, user_type: UserType | None = None
) -> dict:
    """Users by id; deactivated ones only with ``include_deactivated``; ``user_type`` filters."""
    stmt = repo.users(include_deactivated=include_deactivated, user_type=user_type)
    rows, total, pages = paginate(session, stmt, page.page, page.size)
    return page_of([_user(u, session) for u in rows], total, page, pages)


class UserCreate(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    email: str = Field(min_length=3, max_length=255, pattern=r"^[^@\s]+@[^@\s]+$")
    role: Role = "Member"
    user_type: UserType = "Person"
    password: str | None = Field(default=None, min_length=8, max_length=1024)
    team_ids: list[int] = Field(default_factory=list, max_length=1000)


class UserUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    email: str | None = Field(default=None, min_length=3, max_length=255, pattern=r"^[^@\s]+@[^@\s]+$")
    role: Role | None = None
    password: str | None = Field(default=None, min_length=8, max_length=1024)
    team_ids: list[int] | None = Field(default=None, max_length=1000)
    deactivated: bool | None = None


def _set_teams(session, user: User, team_ids: list[int]) -> None:
    wanted = set(team_ids)
    for i, team_id in enumerate(team_ids):
        if session.get(Team, team_id) is None:
            raise ValidationError(("team_ids", i), f"there is no team {team_id}")
    for team in repo.private_teams(session):
        if team.id in wanted and user not in team.members:
            team.members.append(user)
        elif team.id not in wanted and user in team.members:
            team.members.remove(user)


@router.post("/users", response_model=r.User)
def create_user(body: UserCreate, session: SessionDep) -> dict:
    """Create a user (Admins only). A person signs in with ``password`` (Argon2id-hashed, never
    returned); a service user (``user_type`` "Service") has no password, only service tokens
    (POST /user-tokens/service). 409 for an email in use."""
    if repo.email_taken(session, body.email):
        raise Conflict(f"a user with email '{body.email}' already exists")
    if body.user_type == "Service" and body.password:
        raise ValidationError(("password",), "a service user has no password: give it service tokens")
    user = User(name=body.name, email=body.email.strip(), role=body.role, user_type=body.user_type)
    if body.password:
        user.password_hash = hash_password(body.password)
    session.add(user)
    session.flush()
    _set_teams(session, user, body.team_ids)
    session.flush()
    return _user(user, session)


@router.get("/users/{user_id}", response_model=r.User)
def get_user(user_id: int, session: SessionDep) -> dict:
    return _user(repo.get_user(session, user_id), session)


@router.put("/users/{user_id}", response_model=r.User)
def update_user(user_id: int, body: UserUpdate, session: SessionDep, caller: CurrentUser) -> dict:
    """Edit a user (Admins only): only the keys sent change. ``deactivated`` true deactivates
    (every token of the user is revoked: it answers 401 from now on, also after reactivation),
    false reactivates (the user signs in or gets new tokens). 409 when the change
    would leave no active Admin, or for an email in use."""
    user = repo.get_user(session, user_id)
    sent = body.model_fields_set
    if body.email is not None and repo.email_taken(session, body.email, other_than=user.id):
        raise Conflict(f"a user with email '{body.email}' already exists")
    losing_admin = user.role == "Admin" and (
        ("role" in sent and body.role not in (None, "Admin")) or body.deactivated is True
    )
    if losing_admin and user.deleted_at is None and repo.active_admins(session) <= 1:
        raise Conflict("this is the last active Admin: make another user Admin first")
    if body.name is not None:
        user.name = body.name
    if body.email is not None:
        user.email = body.email.strip()
    if body.role is not None:
        user.role = body.role
    if body.password is not None:
        if user.user_type == "Service":
            raise ValidationError(("password",), "a service user has no password: give it service tokens")
        user.password_hash = hash_password(body.password)
        repo.revoke_sessions(session, user.id)  # a new password ends the sessions signed in with the old one
    if body.team_ids is not None:
        _set_teams(session, user, body.team_ids)
    if body.deactivated is True and user.deleted_at is None:
        user.deleted_at = utcnow()
        repo.revoke_tokens(session, user.id)  # reactivating must not revive them
    elif body.deactivated is False:
        user.deleted_at = None
    session.flush()
    return _user(user, session)


@router.delete("/users/{user_id}", status_code=204)
def delete_user(user_id: int, session: SessionDep) -> Response:
    """Deactivate a user (Admins only; PUT ``deactivated: false`` reactivates): their tokens are
    revoked (401, also after reactivation). 409 for the last active Admin."""
    user = repo.get_user(session, user_id)
    if user.role == "Admin" and user.deleted_at is None and repo.active_admins(session) <= 1:
        raise Conflict("this is the last active Admin: make another user Admin first")
    if user.deleted_at is None:
        user.deleted_at = utcnow()
        repo.revoke_tokens(session, user.id)  # reactivating must not revive them
    return Response(status_code=204)


@router.get("/teams", response_model=r.TeamPage)
def list_teams(session: SessionDep, page: PageDep) -> dict:
    rows, total, pages = paginate(session, repo.teams(), page.page, page.size)
    return page_of([_team(t) for t in rows], total, page, pages)


class TeamCreate(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=10_000)
    permission: Permission = "Viewer"
    user_ids: list[int] = Field(default_factory=list, max_length=10_000)
    datastore_ids: list[int] = Field(default_factory=list, max_length=10_000)


class TeamUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=10_000)
    permission: Permission | None = None
    user_ids: list[int] | None = Field(default=None, max_length=10_000)
    datastore_ids: list[int] | None = Field(default=None, max_length=10_000)


@router.post("/teams", response_model=r.Team)
def create_team(body: TeamCreate, session: SessionDep) -> dict:
    """Create a team (Admins only): its members hold ``permission`` on each of its datastores.
    409 for a name in use; 422 naming an unknown user or datastore id."""
    if repo.team_name_taken(session, body.name):
        raise Conflict(f"a team named '{body.name}' already exists")
    team = Team(name=body.name, description=body.description, permission=body.permission, is_public=False)
    team.members = repo.users_by_ids(session, body.user_ids, "user_ids")
    team.datastores = repo.datastores_by_ids(session, body.datastore_ids, "datastore_ids")
    session.add(team)
    session.flush()
    return _team(team)


@router.get("/teams/{team_id}", response_model=r.Team)
def get_team(team_id: int, session: SessionDep) -> dict:
    return _team(repo.get_team(session, team_id))


@router.put("/teams/{team_id}", response_model=r.Team)
def update_team(team_id: int, body: TeamUpdate, session: SessionDep) -> dict:
    """Edit a team (Admins only): only the keys sent change; ``user_ids`` / ``datastore_ids``
    replace the members / datastores. The public team can't be renamed and its members are
    every user (422)."""
    team = repo.get_team(session, team_id)
    if team.is_public and body.name is not None and body.name != team.name:
        raise ValidationError(("name",), "the public team can't be renamed")
    if team.is_public and body.user_ids is not None:
        raise ValidationError(("user_ids",), "every user is a member of the public team")
    if body.name is not None and body.name != team.name:
        if repo.team_name_taken(session, body.name):
            raise Conflict(f"a team named '{body.name}' already exists")
        team.name = body.name
    if "description" in body.model_fields_set:
        team.description = body.description
    if body.permission is not None:
        team.permission = body.permission
    if body.user_ids is not None:
        team.members = repo.users_by_ids(session, body.user_ids, "user_ids")
    if body.datastore_ids is not None:
        team.datastores = repo.datastores_by_ids(session, body.datastore_ids, "datastore_ids")
    session.flush()
    return _team(team)


@router.delete("/teams/{team_id}", status_code=204)
def delete_team(team_id: int, session: SessionDep) -> Response:
    """Delete a team (Admins only; 422 for the public team). Its members lose what it granted."""
    team = repo.get_team(session, team_id)
    if team.is_public:
        raise ValidationError(("team_id",), "the public team can't be deleted", part="path")
    session.delete(team)
    return Response(status_code=204)


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
    """The caller's token ``token_id``; an Admin may act on any user's (a leaked service
    token is revoked without deactivating its user). 404 otherwise."""
    if user.role == "Admin":
        row = session.get(UserToken, token_id)
        if row is None:
            raise NotFound(f"User token {token_id} not found")
        return row
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


class ServiceTokenCreate(TokenCreate):
    user_id: int


@router.get("/user-tokens/service", response_model=r.UserTokenPage)
def list_service_tokens(session: SessionDep, page: PageDep) -> dict:
    """The tokens of every service user (Admins only; never their values)."""
    rows, total, pages = paginate(session, repo.service_tokens(), page.page, page.size)
    return page_of([_token(t) for t in rows], total, page, pages)


@router.post("/user-tokens/service", response_model=r.UserToken)
def create_service_token(body: ServiceTokenCreate, session: SessionDep, request: Request) -> dict:
    """Create a token for service user ``user_id`` (Admins only); its value is in ``token``
    and is shown only now. 422 when ``user_id`` is not an active service user; 409 for a
    name that user already has."""
    user = session.get(User, body.user_id)
    if user is None or user.user_type != "Service" or user.deleted_at is not None:
        raise ValidationError(("user_id",), f"user {body.user_id} is not an active service user")
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


@router.post("/auth/sign-out", response_model=r.SignedOut)
def sign_out(session: SessionDep, user: CurrentUser, request: Request) -> dict:
    """End the session of the token this request carries: a session token (a password
    sign-in's) is revoked, so it answers 401 from now on; an API token (``assay token
    create``, POST /user-tokens) is left as it is, since scripts may share it — revoke it with
    PUT /user-tokens/{id}/revoke. Answers ``{token_id, revoked}`` (whether it is revoked now)."""
    row = repo.own_token(session, user.id, request.state.token_id)
    if row.name.startswith(repo.SESSION_TOKEN_PREFIX):
        row.revoked = True
    return {"token_id": row.id, "revoked": row.revoked}


# -- password sign-in and the first Admin's set-up ---------------------------------------------

SESSION_DAYS = 1


class SignIn(BaseModel):
    email: str = Field(min_length=1, max_length=255)
    password: str = Field(min_length=1, max_length=1024)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def password_sign_in(request: Request, session, email: str, password: str) -> User:
    """The active person whose ``email`` and ``password`` match.

    Raises: HTTPException 429 (with ``Retry-After``, seconds) after too many failures for
    that email or client address; 401 "wrong email or password" otherwise (the same answer
    for an unknown email, a wrong password, a service user or a deactivated user)."""
    throttle = request.app.state.sign_in_throttle
    keys = (f"email:{email.strip().lower()}", f"addr:{_client(request)}")
    wait = throttle.retry_after(*keys)
    if wait:
        raise HTTPException(429, f"too many failed sign-ins: try again in {wait} s", headers={"Retry-After": str(wait)})
    user = repo.user_by_email(session, email)
    ok = check_password(user.password_hash if user else None, password)
    if not ok or user is None or user.deleted_at is not None or user.user_type != "Person":
        throttle.failed(*keys)
        raise HTTPException(401, "wrong email or password", headers={"WWW-Authenticate": "Bearer"})
    throttle.succeeded(keys[0])
    user.last_login = utcnow()
    return user


@public.post(
    "/auth/sign-in",
    response_model=r.SignedIn,
    responses={
        401: {"description": "Wrong email or password (or a service or deactivated user)"},
        429: {"description": "Too many failed sign-ins for this email or client address: ``Retry-After`` seconds"},
    },
)
def sign_in(body: SignIn, session: SessionDep, request: Request) -> dict:
    """Sign in with email and password: ``{token, expiration, user}``. ``token`` is a session
    token (a JWT like the API tokens, valid 1 day, revocable: it is listed in GET /user-tokens);
    send it as ``Authorization: Bearer <token>``. 401 "wrong email or password"; 429 with
    ``Retry-After`` (seconds) after 5 failures in 5 minutes for an email, or 20 for a client
    address."""
    user = password_sign_in(request, session, body.email, body.password)
    row, value = issue_token(
        session,
        request.app.state.settings.secret_key,
        name=f"{repo.SESSION_TOKEN_PREFIX}{utcnow():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}",
        user_id=user.id,
        expires_in_days=SESSION_DAYS,
    )
    return {"token": value, "expiration": iso(row.expiration), "user": _user(user, session)}


#: Where a browser goes once the first Admin is set up: the UI's sign-in page, with a notice.
SETUP_DONE_PAGE = "/signin?notice=admin-ready"


def setup_code(secret: str, admin: User) -> str:
    """A one-time code that lets whoever holds it set the first Admin's email and password,
    valid 24 h and only while that Admin has no password (a signed JWT; nothing stored)."""
    import datetime as dt

    import jwt

    exp = utcnow() + dt.timedelta(hours=24)
    claims = {"sub": str(admin.id), "purpose": "setup", "exp": int(exp.timestamp())}
    return jwt.encode(claims, secret, algorithm="HS256")


def _setup_admin_of(session, secret: str, code: str) -> User:
    import jwt

    try:
        claims = jwt.decode(code, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.InvalidTokenError:
        raise HTTPException(
            401, "this set-up link is invalid or expired: restart `assay serve` for a new one"
        ) from None
    user = session.get(User, int(claims["sub"])) if claims.get("purpose") == "setup" else None
    if user is None or user.password_hash is not None or user.role != "Admin":
        raise HTTPException(401, "this set-up link was used already: sign in instead")
    return user


@public.get("/auth/setup", response_model=None, response_class=HTMLResponse, include_in_schema=False)
def setup_page(request: Request, session: SessionDep, code: Annotated[str, Query(max_length=2048)]) -> Response:
    """The page of the one-time set-up link `assay serve` prints: set the first Admin's email
    and password."""
    _setup_admin_of(session, request.app.state.settings.secret_key, code)
    e = html.escape
    return HTMLResponse(f"""<!doctype html><html><head><meta charset="utf-8"><title>Assay set-up</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>Set up the first Admin</h1>
<form method="post" action="setup">
<input type="hidden" name="code" value="{e(code)}">
<p><label>Email <input name="email" type="email" size="40" required></label></p>
<p><label>Password <input name="password" type="password" size="40" minlength="8" required></label></p>
<p><button type="submit">Save</button></p>
</form></body></html>""")


@public.post(
    "/auth/setup",
    response_model=r.User,
    responses={
        303: {"description": "Sent from a browser (Accept: text/html): on to the UI's sign-in page"},
        401: {"description": "The set-up link is invalid, expired or already used"},
    },
)
def setup_admin(
    request: Request,
    session: SessionDep,
    code: Annotated[str, Form(max_length=2048)],
    email: Annotated[str, Form(min_length=3, max_length=255)],
    password: Annotated[str, Form(min_length=8, max_length=1024)],
) -> dict | Response:
    """Set the first Admin's email and password with the one-time code (401 once used).

    Answers the new Admin (a ``User``) to API clients; a browser submitting the set-up page's
    form (``Accept`` naming ``text/html``) is sent on (303) to the UI's sign-in page,
    ``/signin?notice=admin-ready``, instead of being left on JSON."""
    user = _setup_admin_of(session, request.app.state.settings.secret_key, code)
    if repo.email_taken(session, email, other_than=user.id):
        raise Conflict(f"a user with email '{email}' already exists")
    user.email = email.strip()
    user.password_hash = hash_password(password)
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse(SETUP_DONE_PAGE, status_code=303)
    return _user(user, session)


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
    if repo.any_password(session):
        ask = """<p>The Qualytics-compatible CLI on <b>{host}</b> asks to act as you. Sign in to approve;
the CLI receives a new token of its own, valid 30 days.</p>""".format(host=e(hostname or "your machine"))
        fields = """<p><label>Email <input name="email" type="email" size="40" required></label></p>
<p><label>Password <input name="password" type="password" size="40" required></label></p>"""
    else:
        ask = """<p>The Qualytics-compatible CLI on <b>{host}</b> asks for an API token.
Paste one of your existing Assay tokens (from <code>assay token create</code>) to approve; the CLI
receives a new token of its own, valid 30 days.</p>""".format(host=e(hostname or "your machine"))
        fields = '<p><input name="token" type="password" size="60" placeholder="your API token" required></p>'
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Assay CLI login</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>Approve a command-line login</h1>
{ask}
<form method="post" action="authorize">
<input type="hidden" name="redirect_uri" value="{e(redirect_uri)}">
<input type="hidden" name="state" value="{e(state)}">
<input type="hidden" name="hostname" value="{e(hostname)}">
{fields}
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
    email: Annotated[str, Form(max_length=255)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    decision: Annotated[str, Form()] = "approve",
) -> Response:
    """The approval form's answer (email and password, or an existing token): redirect to the
    CLI with a new token, or with ``error``. Failed passwords count towards the sign-in
    throttle like POST /auth/sign-in."""
    _check_redirect(redirect_uri, "body")
    if decision != "approve":
        return _redirect(redirect_uri, state=state, error="the login was denied")
    secret = request.app.state.settings.secret_key
    if email:
        try:
            user = password_sign_in(request, session, email, password)
        except HTTPException as e:
            return _redirect(redirect_uri, state=state, error=str(e.detail))
        return _redirect(redirect_uri, state=state, token=_cli_token(session, secret, user.id, hostname))
    try:
        user, _row = verify_token(session, secret, token)
    except AuthError as e:
        return _redirect(redirect_uri, state=state, error=str(e))
    return _redirect(redirect_uri, state=state, token=_cli_token(session, secret, user.id, hostname))
