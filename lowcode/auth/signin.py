"""Signing in with a rate limit per account and per address, every attempt logged.

The limiter counts ``login_failed`` events in the database, so it holds across worker processes and
machines: after ``MAX_FAILURES_PER_USER`` failures for one username (or ``MAX_FAILURES_PER_IP`` from one
address) within ``WINDOW``, further attempts are refused - with a message that says so - until the window
has passed, even with the right password.
"""

from __future__ import annotations

import datetime as dt

from lowcode.auth.security_log import count_since, log_event_now
from lowcode.auth.users import authenticate
from lowcode.core.db import Database
from lowcode.core.models import User, utcnow
from lowcode.errors import LockedOut, Unauthenticated

WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_IP = 30


def sign_in(db: Database, username: str, password: str, ip: str) -> User:
    """The user, if the credentials are right and neither the account nor the address is locked out.

    :raises LockedOut: too many recent failures; :raises Unauthenticated: wrong credentials.
    """
    since = utcnow() - WINDOW
    with db.read() as session:
        by_user = count_since(session, "login_failed", since, username=username)
        by_ip = count_since(session, "login_failed", since, ip=ip)
    if by_user >= MAX_FAILURES_PER_USER or by_ip >= MAX_FAILURES_PER_IP:
        log_event_now(db, "login_locked", username=username, ip=ip)
        what = "this account" if by_user >= MAX_FAILURES_PER_USER else "this address"
        raise LockedOut(
            f"Too many failed sign-ins for {what}: locked for {int(WINDOW.total_seconds() // 60)} minutes "
            "after the last failure. Try again later.",
            retry_after=int(WINDOW.total_seconds()),
        )
    try:
        with db.read() as session:
            user = authenticate(session, username, password)
            session.expunge(user)
    except Unauthenticated:
        log_event_now(db, "login_failed", username=username, ip=ip)
        raise
    log_event_now(db, "login_succeeded", username=username, user_id=user.id, ip=ip)
    return user
