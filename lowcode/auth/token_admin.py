"""Administration of integrator tokens: issue a token scoped to one app role, revoke one.

Same conventions as :mod:`lowcode.auth.admin`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.auth.admin import check_role, future_time, get_row, invalid, log_admin_event, parse_time
from lowcode.auth.lifecycle import as_utc
from lowcode.auth.users import hash_token, issue_token
from lowcode.core.models import ApiToken, User
from lowcode.runtime.context import Actor
from lowcode.runtime.snapshot import Snapshot


def create_scoped_token(
    session: Session, actor: Actor, snapshot: Snapshot, data: Mapping[str, Any], now: dt.datetime
) -> tuple[ApiToken, str]:
    """Issue a token that acts only with one role of one app; the plain token is returned once.

    :raises ValidationFailed, NotFound:
    """
    user = get_row(session, User, data.get("user_id"), "user", "user_id")
    if not user.active:
        raise invalid(f"{user.username} is not active", "user_id", "Activate the user first.")
    check_role(snapshot, data.get("app"), data.get("role"))
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise invalid("A token needs a name", "name", "1 to 200 characters, e.g. the integrating system.")
    expires_at = future_time(parse_time(data.get("expires_at"), "expires_at"), now, "expires_at")
    plain = issue_token(session, user, name=name.strip())
    row = session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_token(plain)))
    row.app, row.role, row.expires_at, row.created_by = data["app"], data["role"], expires_at, actor.username
    session.flush()
    _log_token(session, actor, "token_created", row, expires_at=expires_at)
    return row, plain


def revoke_token_by_id(session: Session, actor: Actor, token_id: int, now: dt.datetime) -> ApiToken:
    """Revoke a token. :raises ValidationFailed: if it is already revoked; :raises NotFound:"""
    row = get_row(session, ApiToken, token_id, "token")
    if row.revoked_at is not None:
        raise invalid(f"Token {row.id} is already revoked", "token", "Nothing to do.")
    row.revoked_at = as_utc(now)
    session.flush()
    _log_token(session, actor, "token_revoked", row)
    return row


def _log_token(session: Session, actor: Actor, kind: str, row: ApiToken, **extra: Any) -> None:
    log_admin_event(
        session, actor, kind, row.user_id, token=row.id, name=row.name, app=row.app, role=row.role, **extra
    )
