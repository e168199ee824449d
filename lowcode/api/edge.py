"""Request edge helpers: the unit of work of a request, who is calling, and reading the JSON body."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app, g, request, session
from sqlalchemy.exc import IntegrityError

from lowcode.auth.actors import actor_for_user, touch_assignments
from lowcode.auth.security_log import log_event
from lowcode.auth.sessions import sign_in_token_live
from lowcode.auth.users import touch_token, user_for_token
from lowcode.core.jsonutil import loads_exact
from lowcode.core.models import User, utcnow
from lowcode.core.numbers import digits_to_int
from lowcode.errors import BadRequest, PermissionDenied, Unauthenticated
from lowcode.runtime.context import Actor, WriteContext
from lowcode.runtime.integrity import constraint_error
from lowcode.services import Services

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def services() -> Services:
    """The services of the current app."""
    return current_app.extensions["lowcode"]


def resolve_actor(db_session, required: bool = True, writing: bool = False) -> Actor | None:
    """Bearer token first, then the session cookie (cookie writes must carry the CSRF token).

    ``writing`` says ``db_session`` is a write transaction (a token's last use is recorded in it);
    otherwise that small write gets a transaction of its own, so reads never upgrade to writes.
    """
    ip = request.remote_addr or ""
    token = bearer_token()
    if token is not None:
        user, stale = user_for_token(db_session, token)
        if stale:
            _record_token_use(db_session if writing else None, user, ip)
        recorder = _assignment_use_recorder(db_session if writing else None)
        return actor_for_user(db_session, user, ip, user.token_app, user.token_role, on_stale=recorder)
    user_id = session.get("user_id")
    user = db_session.get(User, user_id) if user_id else None
    if user is not None and not _cookie_live(db_session, user):
        session.clear()  # signed out, expired, or its sign-in ended since this cookie was issued
        user = None
    if user is None or not user.active:
        if required:
            raise Unauthenticated("Sign in first (bearer token or session cookie)")
        return None
    if request.method not in SAFE_METHODS:
        check_csrf()
    return actor_for_user(
        db_session, user, ip, on_stale=_assignment_use_recorder(db_session if writing else None)
    )


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer`` header, if the request has one."""
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def _cookie_live(db_session, user: User) -> bool:
    """The cookie's epoch is the user's, its expiry has not passed, and the token of its sign-in is live."""
    if session.get("epoch", 0) != user.session_epoch or session.get("exp", 0) <= utcnow().timestamp():
        return False
    token_id = session.get("token")
    return token_id is None or sign_in_token_live(db_session, token_id)


def _assignment_use_recorder(write_session):
    """Record role-assignment use (for the permission review) without making a read transaction write."""

    def record(ids: list[int]) -> None:
        if write_session is not None:
            touch_assignments(write_session, ids)
        else:
            with services().db.write() as own:
                touch_assignments(own, ids)

    return record


def _record_token_use(write_session, user, ip: str) -> None:
    def record(s):
        touch_token(s, user.token_id)
        log_event(s, "token_used", username=user.username, user_id=user.id, ip=ip, token=user.token_name)

    if write_session is not None:
        record(write_session)
    else:
        with services().db.write() as own:
            record(own)


def check_csrf() -> None:
    """Cookie-authenticated writes must echo the session's CSRF token (header or form field)."""
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token")
    if not sent or sent != session.get("csrf"):
        raise PermissionDenied("Missing or wrong CSRF token")


@contextmanager
def unit_of_work(write: bool, source: str = "api") -> Iterator[WriteContext]:
    """One transaction for the request: the caller's actor, the current snapshot; commit on success.

    An integrity error that reaches here (a deferred constraint at commit, a write outside the record
    service's guard) becomes a per-field validation error when it belongs to an entity's table; the
    transaction is already rolled back. Others go on to the last-resort 409 of ``api/errors.py``.
    """
    svc = services()
    snapshot = None
    try:
        with svc.db.write() if write else svc.db.read() as db_session:
            actor = resolve_actor(db_session, writing=write)
            snapshot = svc.snapshots.get(db_session)
            ctx = WriteContext(db_session, actor, snapshot, source=source, ip=request.remote_addr or "")
            g.lowcode_ctx = ctx
            yield ctx
    except IntegrityError as exc:
        mapped = constraint_error(exc, snapshot)
        if mapped is None:
            raise
        raise mapped from exc


def json_body() -> Any:
    """The request body parsed exactly (Decimal for fractions), within the size and depth limits."""
    if not request.mimetype or "json" not in request.mimetype:
        raise BadRequest("Send a JSON body with Content-Type: application/json")
    raw = request.get_data(cache=True)  # MAX_CONTENT_LENGTH raises 413 before this reads too much
    if not raw:
        raise BadRequest("The request body is empty")
    return loads_exact(raw, current_app.config["LOWCODE"]["MAX_JSON_DEPTH"])


def if_match_version() -> int | None:
    """The version named by ``If-Match`` (an ETag such as ``"3"`` or ``W/"3"``), if any."""
    raw = request.headers.get("If-Match")
    if not raw:
        return None
    tag = raw.strip().removeprefix("W/").strip('"')
    try:
        return record_version(digits_to_int(tag))
    except BadRequest:
        raise BadRequest('If-Match must be the record\'s ETag, e.g. "3"') from None


def body_version(body: Any) -> int | None:
    """The version named by ``version`` in a JSON body, if any (a whole number, never true/false)."""
    if not isinstance(body, dict) or body.get("version") is None:
        return None
    return record_version(body["version"])


def record_version(value: Any, name: str = "version") -> int:
    """A version (or id) a client names: a whole number from 1 to the largest 64-bit integer.

    :raises BadRequest: for anything else (``true``, ``"1"``, ``1.5``, 40 digits).
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**63:
        raise BadRequest(f"{name} must be a positive integer (at most 64 bits)")
    return value
