"""Sign-in sessions: how long they live, refreshing them, and ending them.

One sign-in is one session, whichever credentials it hands out: ``POST /api/auth/login`` gives a bearer
token (an ``ApiToken`` row without ``app``) and a signed cookie that names that token's id; the sign-in
page gives a cookie alone. Both expire ``TOKEN_TTL_HOURS`` after the sign-in (absolute; a refresh starts
a new period). The cookie is not stored server-side, so it dies by three checks made on every request
(``lowcode.api.edge.resolve_actor``): its user's ``session_epoch`` has not moved on, its own expiry has
not passed, and the token it names (if any) is live.

Ending a user's sessions (:func:`end_user_sessions`) moves the epoch on and revokes tokens in the same
transaction: a password reset, a deactivation or a role removal take effect on the next request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from lowcode.auth.users import end_cookie_sessions, hash_token, issue_token
from lowcode.core.models import ApiToken, User, utcnow
from lowcode.errors import PermissionDenied, Unauthenticated

DEFAULT_TTL_HOURS = 12
SIGN_IN_TOKENS: ColumnElement[bool] = ApiToken.app.is_(None)
"""Tokens handed out by a sign-in (or a refresh of one)."""
ALL_TOKENS: ColumnElement[bool] = sa.true()
"""Sign-in tokens and the integrator tokens an administrator created for the user."""


def session_lifetime(settings: dict) -> dt.timedelta:
    """How long a sign-in lives: ``TOKEN_TTL_HOURS`` of the settings (at least one hour)."""
    return dt.timedelta(hours=max(1, int(settings.get("TOKEN_TTL_HOURS") or DEFAULT_TTL_HOURS)))


def open_sign_in(session: Session, user: User, lifetime: dt.timedelta) -> tuple[str, ApiToken]:
    """A new sign-in token for ``user`` expiring after ``lifetime``: the plain token and its row."""
    plain = issue_token(session, user, name="login", lifetime=lifetime)
    return plain, session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_token(plain)))


def refresh_sign_in(session: Session, token: str, lifetime: dt.timedelta) -> tuple[str, ApiToken, User]:
    """Exchange a live sign-in token for a new one (a fresh lifetime); the old one is revoked.

    :raises Unauthenticated: the token is unknown, expired or revoked, or its user inactive;
    :raises PermissionDenied: an integrator token (an administrator manages those).
    """
    row = session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    user = session.get(User, row.user_id) if row is not None else None
    if row is None or not token_is_live(row) or user is None or not user.active:
        raise Unauthenticated("The token is not valid (unknown, expired or revoked)")
    if row.app is not None:
        raise PermissionDenied("Integrator tokens cannot be refreshed: an administrator issues a new one")
    row.revoked_at = utcnow()
    plain, new_row = open_sign_in(session, user, lifetime)
    return plain, new_row, user


def token_is_live(row) -> bool:
    """Whether a token row (or a row with ``revoked_at`` and ``expires_at``) is neither revoked nor expired."""
    return row.revoked_at is None and (row.expires_at is None or _aware(row.expires_at) > utcnow())


def sign_in_token_live(session: Session, token_id: int) -> bool:
    """Whether the token a cookie names is live (by primary key: one small query per cookie request)."""
    row = session.execute(
        sa.select(ApiToken.revoked_at, ApiToken.expires_at).where(ApiToken.id == token_id)
    ).first()
    return row is not None and token_is_live(row)


def revoke_token_id(session: Session, token_id: int) -> None:
    """Revoke one token by id if it is still live (sign-out through the cookie of an API sign-in)."""
    session.execute(
        sa.update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def end_user_sessions(
    session: Session, user_id: int, now: dt.datetime, tokens: ColumnElement[bool] = SIGN_IN_TOKENS
) -> int:
    """End every cookie session of the user and revoke their live tokens matching ``tokens``.

    :return: how many tokens were revoked.
    """
    end_cookie_sessions(session, user_id)
    revoked = session.execute(
        sa.update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None), tokens)
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return revoked.rowcount


def sessions_ended_by(changes: Mapping[str, Any]) -> ColumnElement[bool] | None:
    """Which tokens a change of a user (``{field: new value}``) ends along with every session of the user, or None when it ends nothing.

    Deactivation ends all tokens, integrator ones included (reactivating must not revive them); a new
    password or lost administrator rights end the sign-in tokens (integrator tokens act with their one
    app role only, and do not come from the password).
    """
    if changes.get("active") is False:
        return ALL_TOKENS
    if "password" in changes or changes.get("is_admin") is False:
        return SIGN_IN_TOKENS
    return None


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
