"""Explain from the role designer: ``/design/<app>/role/<name>/explain?user=&entity=&record=`` - pick a user
holding the role, one of the app's tables and optionally a record, and see what that user may do there and
why ("what can this user do on this record"). The answers are :func:`lowcode.auth.explain.explain` and
:func:`~lowcode.auth.explain.explain_record` (the permission service's own verdicts, for the published roles);
the page is for the app's designers, and only users holding the role can be explained here."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import render_template, request

from lowcode.api.edge import services
from lowcode.auth.explain import explain, explain_record
from lowcode.auth.lifecycle import as_utc
from lowcode.core.models import RoleAssignment, User, utcnow
from lowcode.core.numbers import digits_to_int
from lowcode.designer.blueprint import DesignContext, bp, design_work
from lowcode.errors import NotFound
from lowcode.fields.base import pick_label
from lowcode.pages.admin_reports import readable_explain
from lowcode.pages.display import record_title

KIND = "role"
MAX_HOLDERS = 500


def holders(dc: DesignContext, role: str) -> list[dict[str, Any]]:
    """The users assigned ``role`` of the app (one row per user), with whether an assignment is in force."""
    now = as_utc(utcnow())
    rows = dc.ctx.session.execute(
        sa.select(User.id, User.username, User.display_name, RoleAssignment.starts_at, RoleAssignment.ends_at)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.app == dc.workspace.app, RoleAssignment.role == role)
        .order_by(User.username)
        .limit(MAX_HOLDERS)
    )
    found: dict[int, dict[str, Any]] = {}
    for user_id, username, display, starts, ends in rows:
        in_force = as_utc(starts) <= now and (ends is None or as_utc(ends) > now)
        entry = found.setdefault(
            user_id, {"id": user_id, "username": username, "name": display or username, "in_force": False}
        )
        entry["in_force"] = entry["in_force"] or in_force
    return list(found.values())


@bp.get("/<app>/role/<name>/explain")
def role_explain(app: str, name: str):
    """Pick a holder of the role, a table and optionally a record id; per action, allowed or not and why."""
    with design_work(app) as dc:
        state = dc.history.state(KIND, name)  # 404 for an unknown role
        snapshot = dc.ctx.snapshot
        people = holders(dc, name)
        tables = sorted(
            ((n, e.label_for(dc.workspace.language)) for (a, n), e in snapshot.entities.items() if a == app),
            key=lambda t: t[0],
        )
        granted = [g["entity"] for g in state.body.get("grants") or ()]
        args = {
            "user": request.args.get("user", "")[:20],
            "entity": request.args.get("entity", "")[:64] or next(iter(granted), ""),
            "record": request.args.get("record", "").strip()[:20],
        }
        result = record = None
        if args["user"]:
            result, record = _answer(dc, app, people, args, dict(tables))
        page = {
            "app": app,
            "name": name,
            "title": dc.workspace.label(state.body, name),
            "pending": state.pending,
            "holders": people,
            "tables": tables,
            "args": args,
            "result": result,
            "record": record,
        }
        return render_template("designer/role_explain.html", p=page)


def _answer(dc: DesignContext, app: str, people: list[dict], args: dict, tables: dict):
    """The explain answer for the chosen holder and table, and the record's verdicts when one is named.

    :raises NotFound: a user who does not hold the role, an unknown table or record.
    """
    user_id = digits_to_int(args["user"])
    if user_id is None or user_id not in {p["id"] for p in people}:
        raise NotFound(f"User {args['user']!r} does not hold this role of app '{app}'")
    if args["entity"] not in tables:
        raise NotFound(f"No published table '{args['entity']}' in app '{app}'")
    session, snapshot, now = dc.ctx.session, dc.ctx.snapshot, utcnow()
    user = session.get(User, user_id)
    entity = snapshot.entity(app, args["entity"])
    body = explain(session, snapshot, user, app, entity.name, now=now)
    result = readable_explain(body, entity, dc.workspace.language)
    if not args["record"]:
        return result, None
    record_id = digits_to_int(args["record"])
    if record_id is None:
        raise NotFound(f"No {entity.name} record {args['record']!r}")
    stored = services().queries.get(dc.ctx, app, entity.name, record_id)
    verdicts = explain_record(session, snapshot, user, app, entity.name, stored, now=now)
    hidden = verdicts["hidden_fields"]
    language = dc.workspace.language
    return result, {
        **verdicts,
        "title": record_title(entity, stored, language),
        "hidden_labels": [entity.fields[n].fdef.label_for(language) for n in hidden if n in entity.fields],
        "transitions": [
            {**t, "label": pick_label(t["label"], language, t["name"])} for t in verdicts["transitions"]
        ],
    }
