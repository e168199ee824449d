"""Users and bearer tokens: password hashing (scrypt via werkzeug), sign-in, token issue and lookup."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from lowcode.auth.passwords import password_problems
from lowcode.core.models import ApiToken, User, utcnow
from lowcode.errors import Unauthenticated, ValidationFailed

TOKEN_PREFIX = "lc_"
# werkzeug's method string for new password hashes: "scrypt" is scrypt with N=2**15, r=8, p=1 (~100 ms, 32 MB).
# Only the test suite lowers the cost (tests/conftest.py); a hash records its own parameters, so checking one
# made at any cost keeps working.
PASSWORD_METHOD = "scrypt"


# A hash to compare against when the user does not exist, so timing does not reveal usernames.
@functools.cache
def _dummy_hash() -> str:
    """A hash to check against when the user does not exist (made on first use, not at import)."""
    return hash_password("not-a-real-password-0")


def hash_password(password: str) -> str:
    """The stored form of a password (salted scrypt, parameters in the string)."""
    return generate_password_hash(password, method=PASSWORD_METHOD)


def hash_token(token: str) -> str:
    """SHA-256 of a bearer token (tokens are random, so a fast hash is enough)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    session: Session, username: str, password: str, is_admin: bool = False, language: str = "en"
) -> User:
    """Add a user. :raises ValidationFailed: if the name is taken or the password fails the policy
    (:mod:`lowcode.auth.passwords`)."""
    errors: dict[str, list[str]] = {}
    if not username or len(username) > 150:
        errors["username"] = ["A username of 1 to 150 characters is required."]
    elif session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        errors["username"] = [f"The username '{username}' is taken."]
    problems = password_problems(password, username or "")
    if problems:
        errors["password"] = problems
    if errors:
        raise ValidationFailed("Cannot create the user", fields=errors)
    user = User(
        username=username,
        password_hash=hash_password(password),
        is_admin=is_admin,
        language=language,
        display_name=username,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    """The active user with these credentials. :raises Unauthenticated: (same message either way)."""
    user = session.scalar(sa.select(User).where(User.username == username))
    valid = check_password_hash(user.password_hash if user else _dummy_hash(), password or "")
    if user is None or not valid or not user.active:
        raise Unauthenticated("Wrong username or password")
    return user


def issue_token(
    session: Session, user: User, name: str = "login", lifetime: dt.timedelta | None = None
) -> str:
    """Create a bearer token for ``user``; the plain token is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = utcnow() + lifetime if lifetime else None
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), name=name, expires_at=expires))
    session.flush()
    return token


_TOKEN_LOOKUP = (
    sa.select(
        ApiToken.__table__.c.id.label("token_id"),
        ApiToken.__table__.c.name.label("token_name"),
        ApiToken.__table__.c.app.label("token_app"),
        ApiToken.__table__.c.role.label("token_role"),
        ApiToken.__table__.c.revoked_at,
        ApiToken.__table__.c.expires_at,
        ApiToken.__table__.c.last_used_at,
        *[
            User.__table__.c[n]
            for n in (
                "id",
                "username",
                "is_admin",
                "active",
                "language",
                "department_id",
                "manager_id",
                "job_title",
                "level",
            )
        ],
    )
    .join(User.__table__, User.__table__.c.id == ApiToken.__table__.c.user_id)
    .where(ApiToken.__table__.c.token_hash == sa.bindparam("token_hash"))
)


def user_for_token(session: Session, token: str):
    """The live token's row (token columns prefixed ``token_`` plus the user's columns) and whether its
    last use is over a minute old (the caller then records the use with :func:`touch_token`; a read-only
    transaction never writes). One prebuilt Core query: this runs on every API request.

    :raises Unauthenticated:
    """
    row = session.execute(_TOKEN_LOOKUP, {"token_hash": hash_token(token)}).first()
    now = utcnow()
    if row is None or row.revoked_at is not None or (row.expires_at and _aware(row.expires_at) < now):
        raise Unauthenticated("The token is not valid (unknown, expired or revoked)")
    if not row.active:
        raise Unauthenticated("The token's user is not active")
    stale = row.last_used_at is None or now - _aware(row.last_used_at) > dt.timedelta(minutes=1)
    return row, stale


def touch_token(session: Session, token_id: int) -> None:
    """Record that a token was used now."""
    session.execute(sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow()))


def revoke_token(session: Session, token: str) -> None:
    """Revoke a token (used by sign-out)."""
    session.execute(
        sa.update(ApiToken).where(ApiToken.token_hash == hash_token(token)).values(revoked_at=utcnow())
    )


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def set_user_language(session: Session, user_id: int, language: str) -> None:
    """Store a user's chosen interface language (``en``, ``zh_CN``) in ``lc_user.language``."""
    session.execute(sa.update(User).where(User.id == user_id).values(language=language))


def user_names(session: Session, ids: list[int] | None = None, limit: int = 500) -> dict[int, str]:
    """``{id: display name}`` of the given users, or of the active users when ``ids`` is None."""
    query = sa.select(User.id, User.display_name, User.username)
    query = query.where(User.id.in_(ids)) if ids is not None else query.where(User.active.is_(True))
    rows = session.execute(query.order_by(User.username).limit(limit))
    return {row.id: row.display_name or row.username for row in rows}


def end_cookie_sessions(session: Session, user_id: int) -> None:
    """Invalidate every cookie session of a user (sign-out): their session epoch moves on."""
    session.execute(sa.update(User).where(User.id == user_id).values(session_epoch=User.session_epoch + 1))
