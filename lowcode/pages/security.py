"""Page security helpers: the session's CSRF token, safe ``next`` targets, the sign-in guard."""

from __future__ import annotations

import secrets
from urllib.parse import unquote_to_bytes, urlsplit

from flask import redirect, request, session, url_for

from lowcode.errors import BadRequest, PermissionDenied, Unauthenticated

PUBLIC_ENDPOINTS = frozenset({"pages.login", "pages.set_language"})


def csrf_token() -> str:
    """The CSRF token of this session; created on first use (also before sign-in, for the login form)."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(24)
    return token


def require_csrf() -> None:
    """Refuse a form post that does not echo the session's token. :raises PermissionDenied:"""
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token")
    expected = session.get("csrf")
    if not sent or not expected or not secrets.compare_digest(sent, expected):
        raise PermissionDenied("Missing or wrong CSRF token")


def safe_next(target: str | None, default: str = "/") -> str:
    """``target`` if it is a relative path on this site (``/a/demo``), else ``default``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def refuse_undecodable_form() -> None:
    """``before_request`` of the pages: a posted form whose text is not valid UTF-8 (``%ED%A0%80``, a
    lone surrogate) is a 400; werkzeug would otherwise keep the escapes as literal text and store them.

    :raises BadRequest:
    """
    if request.method in ("GET", "HEAD") or request.mimetype != "application/x-www-form-urlencoded":
        return
    raw = request.get_data(cache=True)  # the form is parsed from this cached copy afterwards
    try:
        unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The form holds text that is not valid UTF-8") from None


def guard_signed_in():
    """``before_request`` of the pages: anonymous GETs go to the sign-in page, other methods get 401."""
    if request.endpoint in PUBLIC_ENDPOINTS or session.get("user_id"):
        return None
    if request.method in ("GET", "HEAD"):
        return redirect(url_for("pages.login", next=request.full_path.rstrip("?")))
    raise Unauthenticated("Sign in first")
