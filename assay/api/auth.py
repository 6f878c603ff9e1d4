"""Bearer-token authentication: the dependency every protected route gets is
``policy.enforce`` (token → user → the route's role/permission rule); handlers read the
authenticated caller with ``CurrentUser``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPBearer

from ..store.models import User

bearer = HTTPBearer(
    auto_error=False,
    description="An Assay API token (a JWT): POST /api/auth/sign-in, `assay token create` or POST /api/user-tokens",
)


def current_user(request: Request) -> User:
    """The caller ``policy.enforce`` authenticated (401 when it did not run: a public route)."""
    user = getattr(request.state, "user", None)
    if user is None:
        raise HTTPException(401, "missing bearer token: send 'Authorization: Bearer <token>'")
    return user


CurrentUser = Annotated[User, Depends(current_user)]
