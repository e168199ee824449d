"""``/api/auth``: sign in (bearer token + session cookie), sign out, who am I."""

from __future__ import annotations

import secrets

from flask import Blueprint, jsonify, request, session

from lowcode.api.edge import json_body, services, unit_of_work
from lowcode.auth.signin import sign_in
from lowcode.auth.users import end_cookie_sessions, issue_token, revoke_token
from lowcode.errors import BadRequest

bp = Blueprint("api_auth", __name__, url_prefix="/api/auth")


def start_session(user_id: int, language: str, epoch: int = 0) -> str:
    """Put the user in the signed session cookie with a fresh CSRF token; returns the token."""
    session.clear()
    session["user_id"] = user_id
    session["epoch"] = epoch
    session["csrf"] = secrets.token_urlsafe(24)
    session["lang"] = language
    return session["csrf"]


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
        token = issue_token(db_session, user)
        csrf = start_session(user.id, user.language, user.session_epoch)
        info = {
            "id": user.id,
            "username": user.username,
            "is_admin": user.is_admin,
            "language": user.language,
        }
    return jsonify({"token": token, "token_type": "Bearer", "csrf_token": csrf, "user": info})


@bp.post("/logout")
def logout():
    """Revoke the bearer token (if one was used) and clear the session cookie."""
    with unit_of_work(write=True) as ctx:
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            revoke_token(ctx.session, header[7:].strip())
        if session.get("user_id") == ctx.actor.user_id:
            end_cookie_sessions(ctx.session, ctx.actor.user_id)
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
