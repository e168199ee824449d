"""``/api/auth``: sign in (bearer token + session cookie), refresh, sign out, who am I.

One sign-in is one session: the cookie names the token's id, so signing out with either ends both
(:mod:`lowcode.auth.sessions`)."""

from __future__ import annotations

import datetime as dt
import secrets

from flask import Blueprint, current_app, jsonify, request, session

from lowcode.api.edge import bearer_token, json_body, services, unit_of_work
from lowcode.auth.lifecycle import as_utc
from lowcode.auth.security_log import log_event
from lowcode.auth.sessions import open_sign_in, refresh_sign_in, revoke_token_id, session_lifetime
from lowcode.auth.signin import sign_in
from lowcode.auth.users import end_cookie_sessions, revoke_token
from lowcode.core.models import utcnow
from lowcode.errors import BadRequest, Unauthenticated

bp = Blueprint("api_auth", __name__, url_prefix="/api/auth")


def start_session(user_id: int, language: str, epoch: int = 0, token_id: int | None = None) -> str:
    """Put the user in the signed session cookie with a fresh CSRF token and its expiry (``TOKEN_TTL_HOURS``
    from now); ``token_id`` ties it to the bearer token of the same sign-in. Returns the CSRF token."""
    session.clear()
    session["user_id"] = user_id
    session["epoch"] = epoch
    session["exp"] = int((utcnow() + _lifetime()).timestamp())
    if token_id is not None:
        session["token"] = token_id
    session["csrf"] = secrets.token_urlsafe(24)
    session["lang"] = language
    return session["csrf"]


def _lifetime() -> dt.timedelta:
    return session_lifetime(current_app.config["LOWCODE"])


def _signed_in(user, token: str, row, csrf: str) -> dict:
    info = {"id": user.id, "username": user.username, "is_admin": user.is_admin, "language": user.language}
    return {
        "token": token,
        "token_type": "Bearer",
        "expires_at": as_utc(row.expires_at).isoformat(),
        "csrf_token": csrf,
        "user": info,
    }


@bp.post("/login")
def login():
    """``{"username", "password"}`` -> ``{"token", "csrf_token", "user"}`` and the session cookie."""
    body = json_body()
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("username"), str)
        or not isinstance(body.get("password"), str)
    ):
        raise BadRequest('Send {"username": ..., "password": ...}')
    user = sign_in(services().db, body["username"], body["password"], request.remote_addr or "")
    with services().db.write() as db_session:
        token, row = open_sign_in(db_session, user, _lifetime())
        csrf = start_session(user.id, user.language, user.session_epoch, row.id)
        body = _signed_in(user, token, row, csrf)
    return jsonify(body)


@bp.post("/refresh")
def refresh():
    """Exchange the live sign-in bearer token for a new one with a fresh lifetime; the old one is revoked
    and a new session cookie (tied to the new token) replaces the old one. Same answer shape as login."""
    token = bearer_token()
    if token is None:
        raise Unauthenticated("Send the sign-in token to refresh as 'Authorization: Bearer <token>'")
    with services().db.write() as db_session:
        new, row, user = refresh_sign_in(db_session, token, _lifetime())
        log_event(
            db_session,
            "token_created",
            username=user.username,
            user_id=user.id,
            ip=request.remote_addr or "",
            token=row.id,
            name=row.name,
            refreshed=True,
        )
        csrf = start_session(user.id, user.language, user.session_epoch, row.id)
        body = _signed_in(user, new, row, csrf)
    return jsonify(body)


@bp.post("/logout")
def logout():
    """End this sign-in, whichever way it came: the bearer token is revoked (the cookie of its sign-in dies
    with it); a cookie ends every cookie session of the user and revokes the token of its own sign-in."""
    with unit_of_work(write=True) as ctx:
        token = bearer_token()
        if token is not None:
            revoke_token(ctx.session, token)
        if session.get("user_id") == ctx.actor.user_id:
            end_cookie_sessions(ctx.session, ctx.actor.user_id)
            if session.get("token") is not None:
                revoke_token_id(ctx.session, session["token"])
    session.clear()
    return "", 204


@bp.get("/me")
def me():
    """The signed-in user."""
    with unit_of_work(write=False) as ctx:
        actor = ctx.actor
    return jsonify(
        {
            "id": actor.user_id,
            "username": actor.username,
            "is_admin": actor.is_admin,
            "language": actor.language,
        }
    )
