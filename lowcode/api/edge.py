"""Request edge helpers: the unit of work of a request, who is calling, and reading the JSON body."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, g, request, session
from sqlalchemy.exc import IntegrityError

from lowcode.auth.access_version import ACCESS_COUNTER, access_version
from lowcode.auth.actors import actor_for_user, touch_assignments
from lowcode.auth.security_log import log_event
from lowcode.auth.sessions import sign_in_token_live
from lowcode.auth.users import touch_token, user_for_token
from lowcode.core.jsonutil import loads_exact
from lowcode.core.models import User, utcnow
from lowcode.core.numbers import digits_to_int
from lowcode.definitions.published import DEFINITIONS_COUNTER, counters_read_together
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
    uses = UsesToRecord()
    actor = _identify(db_session, required, uses)
    if writing:
        uses.record(db_session)
    elif uses:
        with services().db.write() as own:
            uses.record(own)
    return actor


@dataclass
class UsesToRecord:
    """A stale token's and role assignments' last use, seen while resolving an actor; recorded later in a
    write transaction (for the permission review), never in the read that saw them."""

    token_user: Any = None
    ip: str = ""
    assignments: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.token_user is not None or bool(self.assignments)

    def record(self, write_session) -> None:
        """Write the uses in ``write_session`` (the caller's write transaction)."""
        user = self.token_user
        if user is not None:
            touch_token(write_session, user.token_id)
            log_event(
                write_session, "token_used", username=user.username, user_id=user.id, ip=self.ip,
                token=user.token_name,
            )  # fmt: skip
        if self.assignments:
            touch_assignments(write_session, self.assignments)


def _identify(db_session, required: bool, uses: UsesToRecord) -> Actor | None:
    """The actor of the request; the uses to record are added to ``uses``."""
    ip = request.remote_addr or ""
    token = bearer_token()
    if token is not None:
        user, stale = user_for_token(db_session, token)
        if stale:
            uses.token_user, uses.ip = user, ip
        return actor_for_user(
            db_session, user, ip, user.token_app, user.token_role, on_stale=uses.assignments.extend
        )
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
    return actor_for_user(db_session, user, ip, on_stale=uses.assignments.extend)


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


def check_csrf() -> None:
    """Cookie-authenticated writes must echo the session's CSRF token (header or form field)."""
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token")
    if not sent or sent != session.get("csrf"):
        raise PermissionDenied("Missing or wrong CSRF token")


@contextmanager
def unit_of_work(write: bool, source: str = "api") -> Iterator[WriteContext]:
    """One transaction for the request: the caller's actor, the current snapshot; commit on success.

    A write resolves its actor in a read transaction first, so the write transaction (SQLite's write lock)
    holds only the write itself; inside it the access version is read again and, if a permission change
    committed in between, the actor is resolved anew on the write's own state (see
    :mod:`lowcode.auth.access_version`).

    An integrity error that reaches here (a deferred constraint at commit, a write outside the record
    service's guard) becomes a per-field validation error when it belongs to an entity's table; the
    transaction is already rolled back. Others go on to the last-resort 409 of ``api/errors.py``.
    """
    svc = services()
    snapshot = None
    try:
        prepared = _actor_before_write(svc) if write else None
        with svc.db.write() if write else svc.db.read() as db_session:
            with counters_read_together(
                db_session, (ACCESS_COUNTER, DEFINITIONS_COUNTER) if prepared else ()
            ):
                actor = prepared.actor_in(db_session) if prepared else resolve_actor(db_session)
                snapshot = svc.snapshots.get(db_session)
            ctx = WriteContext(db_session, actor, snapshot, source=source, ip=request.remote_addr or "")
            g.lowcode_ctx = ctx
            yield ctx
    except IntegrityError as exc:
        mapped = constraint_error(exc, snapshot)
        if mapped is None:
            raise
        raise mapped from exc


@dataclass
class PreparedActor:
    """A write's actor resolved before its write transaction, with the access version it was built on."""

    seen: int
    actor: Actor
    uses: UsesToRecord

    def actor_in(self, write_session) -> Actor:
        """The actor for the write transaction ``write_session``: the prepared one if the access version
        has not moved since, else resolved anew in it (a permission change committed in between); the
        token's and assignments' uses are recorded there."""
        if access_version(write_session) != self.seen:
            self.uses = UsesToRecord()
            self.actor = _identify(write_session, True, self.uses)
        self.uses.record(write_session)
        return self.actor


def _actor_before_write(svc: Services) -> PreparedActor:
    """Resolve a write's actor in a read transaction (the access version read first: a change committed
    after it makes the write resolve again)."""
    with svc.db.read() as read_session:
        seen = access_version(read_session)
        uses = UsesToRecord()
        return PreparedActor(seen, _identify(read_session, True, uses), uses)


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
