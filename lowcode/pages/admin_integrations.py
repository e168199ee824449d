"""``/admin/integrations``: the integration health page (per subscription: pending, failing, dead letters,
lag, last error), the dead letters, and replay (dead letters, or a time range) - administrators only."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from lowcode.core.models import utcnow
from lowcode.errors import BadRequest
from lowcode.integrations.health import dead_letters, health
from lowcode.integrations.replay import ReplayRequest, replay
from lowcode.pages.admin_common import admin_work, form_text
from lowcode.pages.blueprint import bp


@bp.get("/admin/integrations")
def admin_integrations():
    """The health table and the newest dead letters."""
    with admin_work("see integration health") as ctx:
        page = {"subscriptions": health(ctx.session, utcnow()), "dead": dead_letters(ctx.session, 100)}
    return render_template("admin/integrations.html", p=page)


def _when(name: str) -> dt.datetime | None:
    text = form_text(name, 40)
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
    except ValueError:
        raise BadRequest(_("%(name)s: a date and time", name=name)) from None


@bp.post("/admin/integrations/replay")
def admin_integrations_replay():
    """Replay the dead letters (``what=dead``) or a time range (``since``/``until``, UTC), of a
    subscription (``subscription=app/name``) or all."""
    with admin_work("replay deliveries", write=True) as ctx:
        app, _sep, name = form_text("subscription", 130).partition("/")
        dead = form_text("what", 10) == "dead"
        wanted = ReplayRequest(dead, app or None, name or None, _when("since"), _when("until"))
        wanted.check()
        count = replay(ctx.session, wanted, utcnow())
    flash(
        ngettext("%(num)d delivery will be sent again.", "%(num)d deliveries will be sent again.", count),
        "success",
    )
    return redirect(url_for("pages.admin_integrations"), code=303)
