"""Bearer-token authentication for every route except health, status and CLI login."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..security import AuthError, verify_token
from ..store.models import User

bearer = HTTPBearer(
    auto_error=False, description="An Assay API token (a JWT): `assay token create` or POST /api/user-tokens"
)


def require_user(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> User:
    """The user behind the request's ``Authorization: Bearer <token>``; 401 otherwise."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise HTTPException(
            401, "missing bearer token: send 'Authorization: Bearer <token>'", headers={"WWW-Authenticate": "Bearer"}
        )
    with request.app.state.database.session() as session:
        try:
            user, _token = verify_token(session, request.app.state.settings.secret_key, credentials.credentials)
        except AuthError as e:
            raise HTTPException(401, str(e), headers={"WWW-Authenticate": "Bearer"}) from None
        session.expunge(user)
    request.state.user = user
    return user


CurrentUser = Annotated[User, Depends(require_user)]
