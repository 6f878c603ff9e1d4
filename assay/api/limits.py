"""Bounded input: every request is checked here, once, before any router sees it.

| limit | answer |
|---|---|
| request body at most ``ASSAY_MAX_BODY_BYTES`` bytes (default 4 MiB; by ``Content-Length`` or as it streams) | 413 |
| JSON nested at most ``MAX_DEPTH`` (32) levels | 422 |
| a JSON list at most ``MAX_LIST_ITEMS`` (10,000) items | 422 naming it |
| a JSON string (value or key) at most ``MAX_STRING_CHARS`` (100,000) characters | 422 naming it |
| a query parameter at most ``MAX_QUERY_CHARS`` (2,000) characters | 422 naming it |
| no NUL and no other control character except tab, newline and carriage return, in any JSON string or key, query parameter or path | 422 naming it |
| no lone UTF-16 surrogate (``"\\ud800"``) in a JSON string or key | 422 naming it |

Fields with tighter rules use the shared constrained types below (:data:`Name`,
:data:`Tags`): a name or tag has no control character at all (C0, DEL, C1) and at most 255 characters;
a list of tags at most ``MAX_TAGS`` (200) entries.

422 answers have FastAPI's validation shape, ``{"detail": [{"loc", "msg", "type"}]}``,
with ``loc`` starting at ``body``, ``query`` or ``path``.
"""

from __future__ import annotations

import json
import os
import re
from typing import Annotated, Any
from urllib.parse import parse_qsl

from pydantic import AfterValidator, Field

MAX_DEPTH = 32
MAX_LIST_ITEMS = 10_000
MAX_STRING_CHARS = 100_000
MAX_QUERY_CHARS = 2_000
MAX_NAME_CHARS = 255
MAX_TAGS = 200
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024

#: NUL and the C0 control characters other than tab, newline and carriage return, and DEL.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: Half of a UTF-16 surrogate pair, alone: JSON allows "\ud800", but it is no character
#: and no database (nor the error answer echoing it) can encode it.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
#: In a name or tag: every control character (C0, DEL and C1).
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def max_body_bytes() -> int:
    """``ASSAY_MAX_BODY_BYTES`` (default 4 MiB), read now."""
    return int(os.environ.get("ASSAY_MAX_BODY_BYTES", str(DEFAULT_MAX_BODY_BYTES)))


def _describe(ch: str) -> str:
    return "NUL" if ch == "\x00" else f"U+{ord(ch):04X}"


def no_control_characters(v: str) -> str:
    found = _ANY_CONTROL.search(v)
    if found:
        raise ValueError(f"must not contain control characters (found {_describe(found.group())})")
    return v


#: A name or tag: 1…255 characters, no control character.
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS), AfterValidator(no_control_characters)]
#: A list of tags: at most MAX_TAGS names.
Tags = Annotated[list[Name], Field(max_length=MAX_TAGS)]


class InputError(ValueError):
    def __init__(self, loc: list, message: str, kind: str = "value_error"):
        super().__init__(message)
        self.loc, self.message, self.kind = loc, message, kind


def _check_string(s: str, loc: list) -> None:
    if len(s) > MAX_STRING_CHARS:
        raise InputError(loc, f"text longer than {MAX_STRING_CHARS} characters ({len(s)})", "string_too_long")
    found = _CONTROL.search(s)
    if found:
        raise InputError(loc, f"must not contain control characters (found {_describe(found.group())})")
    found = _SURROGATE.search(s)
    if found:
        raise InputError(loc, f"must be valid Unicode text (found a lone surrogate {_describe(found.group())})")


def check_json(value: Any, loc: list | None = None, depth: int = 0) -> None:
    """Raise InputError for the first part of a parsed JSON document past a limit."""
    loc = loc if loc is not None else ["body"]
    if depth > MAX_DEPTH:
        raise InputError(loc, f"JSON nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        _check_string(value, loc)
    elif isinstance(value, list):
        if len(value) > MAX_LIST_ITEMS:
            raise InputError(loc, f"list longer than {MAX_LIST_ITEMS} items ({len(value)})", "too_long")
        for i, item in enumerate(value):
            check_json(item, [*loc, i], depth + 1)
    elif isinstance(value, dict):
        if len(value) > MAX_LIST_ITEMS:
            raise InputError(loc, f"object with more than {MAX_LIST_ITEMS} keys ({len(value)})", "too_long")
        for key, item in value.items():
            _check_string(key, [*loc, key[:100]])
            check_json(item, [*loc, key], depth + 1)


def check_query_and_path(scope) -> None:
    """Raise InputError for a query parameter or path past a limit."""
    path = scope.get("path", "")
    found = _ANY_CONTROL.search(path)
    if found:
        raise InputError(["path"], f"the path must not contain control characters (found {_describe(found.group())})")
    raw = scope.get("query_string", b"").decode("latin-1")
    for key, value in parse_qsl(raw, keep_blank_values=True, encoding="utf-8", errors="replace"):
        loc = ["query", key[:100]]
        if len(value) > MAX_QUERY_CHARS or len(key) > MAX_QUERY_CHARS:
            raise InputError(loc, f"query parameter longer than {MAX_QUERY_CHARS} characters", "string_too_long")
        found = _ANY_CONTROL.search(key + value)
        if found:
            raise InputError(loc, f"must not contain control characters (found {_describe(found.group())})")


class _Reject(Exception):
    def __init__(self, status: int, body: dict):
        self.status, self.body = status, body


class InputLimits:
    """ASGI middleware enforcing the limits above on every HTTP request."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_query_and_path(scope)
            body = await self._read_body(scope, receive)
            if body and _is_json(scope):
                try:
                    parsed = json.loads(body)
                except RecursionError:
                    raise InputError(["body"], f"JSON nested deeper than {MAX_DEPTH} levels") from None
                except ValueError:
                    parsed = None  # not JSON: FastAPI answers that itself
                if parsed is not None:
                    check_json(parsed)
        except InputError as e:
            await _answer(send, 422, {"detail": [{"loc": e.loc, "msg": e.message, "type": e.kind}]})
            return
        except _Reject as e:
            await _answer(send, e.status, e.body)
            return

        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read_body(self, scope, receive) -> bytes:
        limit = max_body_bytes()
        too_big = _Reject(413, {"detail": f"request body larger than {limit} bytes (ASSAY_MAX_BODY_BYTES)"})
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    if int(value) > limit:
                        raise too_big
                except ValueError:
                    raise _Reject(400, {"detail": "invalid Content-Length header"}) from None
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise too_big
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _is_json(scope) -> bool:
    """A JSON body: declared so, or undeclared (FastAPI then parses it as JSON too)."""
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return b"json" in value.lower()
    return True


async def _answer(send, status: int, body: dict) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})
