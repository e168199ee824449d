"""Sign in, sign out and the language switcher."""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh

from lowcode.api.auth import start_session
from lowcode.api.edge import services
from lowcode.auth.sessions import revoke_token_id
from lowcode.auth.signin import sign_in
from lowcode.auth.users import end_cookie_sessions, set_user_language
from lowcode.errors import BadRequest, LockedOut, Unauthenticated
from lowcode.pages.blueprint import bp
from lowcode.pages.i18n import normalise_language
from lowcode.pages.security import require_csrf, safe_next


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in form; a good password starts the session and goes to ``next``.

    Sign-in goes through :func:`lowcode.auth.signin.sign_in` (rate limit per account and address,
    every attempt logged)."""
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("pages/login.html", next=target, username="")
    require_csrf()
    username = request.form.get("username", "")[:150]
    try:
        user = sign_in(services().db, username, request.form.get("password", ""), request.remote_addr or "")
    except LockedOut:
        message = _("Too many failed sign-ins. Wait a while, then try again.")
        return render_template("pages/login.html", next=target, username=username, message=message), 429
    except Unauthenticated:
        message = _("Wrong username or password.")
        return render_template("pages/login.html", next=target, username=username, message=message), 401
    start_session(
        user.id, normalise_language(user.language) or session.get("lang") or "en", user.session_epoch
    )
    refresh()
    return redirect(target, code=303)


@bp.post("/logout")
def logout():
    """End the session (CSRF-checked) and go to the sign-in page: every cookie session of the user ends,
    and so does the bearer token of this cookie's own sign-in (when it came from ``/api/auth/login``)."""
    require_csrf()
    lang = session.get("lang")
    if session.get("user_id"):
        with services().db.write() as db_session:
            end_cookie_sessions(db_session, session["user_id"])
            if session.get("token") is not None:
                revoke_token_id(db_session, session["token"])
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("pages.login"), code=303)


@bp.post("/language")
def set_language():
    """Remember the chosen interface language in the session and, when signed in, for the user."""
    require_csrf()
    lang = normalise_language(request.form.get("lang"))
    if lang is None:
        raise BadRequest("Unknown language")
    session["lang"] = lang
    user_id = session.get("user_id")
    if user_id:
        with services().db.write() as db_session:
            set_user_language(db_session, user_id, lang)
    refresh()
    return redirect(safe_next(request.form.get("next")), code=303)
