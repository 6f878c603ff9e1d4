"""API tokens: HS256 JWTs signed with the server's secret key.

A token's claims are ``sub`` (user id, as a string), ``jti`` (the stored token's id),
``name``, ``iat`` and a numeric ``exp`` (seconds since the epoch, UTC) — the shape the
Qualytics CLI decodes locally. Only the ``jti`` is stored, so a token is shown once, at
creation; revoking it flips ``revoked`` on the stored row.
"""

from __future__ import annotations

import datetime as dt
import uuid

import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from .store.models import User, UserToken, utcnow

ALGORITHM = "HS256"
DEFAULT_EXPIRES_IN_DAYS = 365


class AuthError(Exception):
    """The bearer token is missing, malformed, badly signed, expired or revoked (→ 401)."""


def issue_token(
    session: Session, secret: str, *, name: str, user_id: int | None = None, expires_in_days: int | None = None
) -> tuple[UserToken, str]:
    """Create and store a token for ``user_id`` (default: the first admin).

    Returns: (stored row, the encoded JWT — shown only now).
    Raises: ValueError for the name of a live (not revoked) token of that user — a revoked
    token's name can be used again — or a bad expiry (1…3650 days).
    """
    days = DEFAULT_EXPIRES_IN_DAYS if expires_in_days is None else int(expires_in_days)
    if not 1 <= days <= 3650:
        raise ValueError("expires_in_days must be between 1 and 3650")
    if user_id is None:
        user_id = session.scalar(select(User.id).where(User.role == "Admin").order_by(User.id))
        if user_id is None:
            raise ValueError("there is no admin user")
    taken = session.scalar(
        select(UserToken.id).where(UserToken.user_id == user_id, UserToken.name == name, UserToken.revoked.is_(False))
    )
    if taken:
        raise ValueError(
            f"a token named '{name}' already exists for this user (token {taken}); choose another name, "
            f"or revoke that one first (assay token revoke {taken})"
        )
    now = utcnow()
    row = UserToken(
        user_id=user_id, name=name, jti=uuid.uuid4().hex, created=now, expiration=now + dt.timedelta(days=days)
    )
    session.add(row)
    session.flush()
    claims = {
        "sub": str(user_id),
        "jti": row.jti,
        "name": name,
        "iat": int(now.timestamp()),
        "exp": int(row.expiration.timestamp()),
    }
    return row, jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(session: Session, secret: str, token: str) -> tuple[User, UserToken]:
    """The user and stored token behind a bearer token.

    Raises: AuthError with a message that says what is wrong.
    """
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "jti", "sub"]})
    except jwt.ExpiredSignatureError:
        raise AuthError("token expired") from None
    except jwt.InvalidTokenError as e:
        raise AuthError(f"invalid token: {e}") from None
    row = session.scalar(select(UserToken).where(UserToken.jti == claims["jti"]))
    if row is None:
        raise AuthError("invalid token: unknown token (deleted?)")
    user = row.user
    if user is None or str(user.id) != str(claims["sub"]):
        raise AuthError("invalid token: its user no longer exists")
    if user.deleted_at is not None:  # said first: deactivation revokes every token too
        raise AuthError("user deactivated")
    if row.revoked:
        raise AuthError("token revoked")
    now = utcnow()
    last = row.last_used if row.last_used is None or row.last_used.tzinfo else row.last_used.replace(tzinfo=dt.UTC)
    if last is None or now - last > dt.timedelta(minutes=1):  # don't write on every request
        row.last_used = now
    return user, row


# -- passwords ---------------------------------------------------------------------------

MIN_PASSWORD_LENGTH = 8
_hasher = None


def _argon2():
    global _hasher
    if _hasher is None:
        from argon2 import PasswordHasher

        _hasher = PasswordHasher()  # Argon2id with the library's (RFC 9106 low-memory) parameters
    return _hasher


def hash_password(password: str) -> str:
    """The Argon2id hash (PHC string) of ``password``.

    Raises: ValueError for a password shorter than MIN_PASSWORD_LENGTH characters."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    return _argon2().hash(password)


# verifying against this when the email is unknown takes as long as a real check
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$1YkmsCqdDs3JZfoaV2s1o2Ti/0flFcOCTGsBDEjAJgE"


def check_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash`` (False when there is no hash). Takes the
    same time for an unknown user (it then checks against a dummy hash)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _argon2().verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


class SignInThrottle:
    """Failed sign-ins counted per key ("email:<address>", "addr:<client address>") in a
    sliding window of ``window`` seconds.

    After ``limits[kind]`` failures of a key (kind: the part before the colon), :meth:`retry_after`
    answers the seconds to wait (the sign-in endpoint then answers 429 with ``Retry-After``).
    A success clears the email's count. In-process memory: each server process counts on its own."""

    def __init__(self, limits: dict[str, int] | None = None, window: float = 300.0):
        import threading

        self.limits = limits or {"email": 5, "addr": 20}
        self.window = window
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> list[float]:
        times = [t for t in self._failures.get(key, []) if now - t < self.window]
        if times:
            self._failures[key] = times
        else:
            self._failures.pop(key, None)
        return times

    def retry_after(self, *keys: str) -> int:
        """Seconds until the first of ``keys`` may try again; 0 when none is throttled."""
        import math
        import time

        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                limit = self.limits.get(key.partition(":")[0], 5)
                if len(times) >= limit:
                    wait = max(wait, self.window - (now - times[-limit]))
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, *keys: str) -> None:
        import time

        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._failures.setdefault(key, []).append(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


# -- secrets at rest --------------------------------------------------------------------

SECRET_FIELDS = frozenset({"password", "secret_key", "access_key", "token", "passphrase", "private_key", "api_key"})


def _fernet(secret: str):
    import base64
    import hashlib

    from cryptography.fernet import Fernet

    try:
        return Fernet(secret.encode())
    except (ValueError, TypeError):  # not a Fernet key: derive one (SHA-256 of the secret)
        return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))


def encrypt_secrets(secret: str, values: dict) -> str | None:
    """Fernet-encrypt a dict of secret values as JSON; None when there is nothing to hide."""
    import json

    if not values:
        return None
    return _fernet(secret).encrypt(json.dumps(values).encode()).decode()


def decrypt_secrets(secret: str, token: str | None) -> dict:
    """The dict :func:`encrypt_secrets` stored. Raises cryptography's InvalidToken for a wrong key."""
    import json

    if not token:
        return {}
    return json.loads(_fernet(secret).decrypt(token.encode()))


def datastore_secrets(secret: str, datastore) -> dict:
    """The decrypted secret settings of a datastore: its own, else its shared connection's."""
    if getattr(datastore, "secrets", None):
        return decrypt_secrets(secret, datastore.secrets)
    ref = getattr(datastore, "connection_ref", None)
    return decrypt_secrets(secret, ref.secrets) if ref is not None else {}
