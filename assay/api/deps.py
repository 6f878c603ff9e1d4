"""FastAPI dependencies: the metadata session, the runner, paging parameters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from ..operations.runner import Runner
from ..store import activity as _activity  # noqa: F401  (installs the activity log on every session)
from ..store.db import Database


def get_database(request: Request) -> Database:
    return request.app.state.database


def get_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: acts as the authenticated user (audit columns; its changes
    are logged as that user's activity, ``store/activity.py``) and sees only what that user's
    teams hold (``store/repositories/scope.py``; all for Admins)."""
    user = getattr(request.state, "user", None)
    scope = getattr(request.state, "scope", None)
    with request.app.state.database.session(user_id=user.id if user else None, scope=scope) as session:
        session.info["actor"] = user
        yield session


def get_runner(request: Request) -> Runner:
    return request.app.state.runner


class PageParams:
    """``page`` (1-based) and ``size`` (1…1000, default 50) query parameters."""

    def __init__(
        self,
        page: Annotated[int, Query(ge=1, description="1-based page number")] = 1,
        size: Annotated[int, Query(ge=1, le=1000, description="items per page")] = 50,
    ):
        self.page, self.size = page, size


# scope="function": the session commits BEFORE the response is sent, so a client that
# acts on a response (creates, then links) always finds what it was told exists.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
DatabaseDep = Annotated[Database, Depends(get_database)]
RunnerDep = Annotated[Runner, Depends(get_runner)]
PageDep = Annotated[PageParams, Depends()]


def page_of(items: list, total: int, page: PageParams, pages: int) -> dict:
    """The paged envelope ``{items, total, page, size, pages}``."""
    return {"items": items, "total": total, "page": page.page, "size": page.size, "pages": pages}
