"""Bundles kept between an upgrade's plan page and its apply step (``lc_upgrade_upload``): the plan page
holds only a random token, so a bundle of any size the upload accepted comes back whole at the apply step
without passing through a form field. A kept bundle belongs to the user who uploaded it and to one app, and
expires after :data:`KEEP_FOR`; expired ones are deleted whenever another is kept, and one is deleted once
applied."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.core.definition_models import UpgradeUpload
from lowcode.core.jsonutil import dumps, loads_exact
from lowcode.core.models import utcnow
from lowcode.core.texts import Text
from lowcode.definitions.bundle_files import MAX_DEPTH
from lowcode.errors import BadRequest

KEEP_FOR = dt.timedelta(hours=2)
"""How long an uploaded bundle waits for its apply step."""
GONE = Text("The uploaded bundle is no longer kept (it expired or was used): upload it again")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def keep_upload(session: Session, app: str, username: str, bundle: dict[str, Any]) -> str:
    """Keep ``bundle`` for ``username``'s upgrade of ``app``; returns the token the plan page posts back."""
    now = utcnow()
    session.execute(sa.delete(UpgradeUpload).where(UpgradeUpload.expires_at < now))
    token = secrets.token_urlsafe(32)
    session.add(
        UpgradeUpload(
            token_hash=_hash(token),
            app=app,
            username=username[:150],
            bundle=dumps(bundle),
            created_at=now,
            expires_at=now + KEEP_FOR,
        )
    )
    session.flush()
    return token


def _row(session: Session, token: str, app: str, username: str) -> UpgradeUpload:
    """The kept upload of ``token`` if it is this user's, for this app and not expired.
    :raises BadRequest: anything else, with the same message (a token tells nothing of others' uploads)."""
    if not token or len(token) > 100:
        raise BadRequest(GONE)
    row = session.scalar(sa.select(UpgradeUpload).where(UpgradeUpload.token_hash == _hash(token)))
    if row is None or row.app != app or row.username != username[:150]:
        raise BadRequest(GONE)
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=dt.UTC)
    if expires < utcnow():
        raise BadRequest(GONE)
    return row


def kept_upload(session: Session, token: str, app: str, username: str) -> dict[str, Any]:
    """The bundle kept under ``token``. :raises BadRequest: unknown, expired, another user's or app's."""
    bundle = loads_exact(_row(session, token, app, username).bundle, MAX_DEPTH)
    if not isinstance(bundle, dict):
        raise BadRequest(GONE)
    return bundle


def drop_upload(session: Session, token: str, app: str, username: str) -> None:
    """Delete the kept upload of ``token`` (after it was applied)."""
    session.delete(_row(session, token, app, username))
    session.flush()
