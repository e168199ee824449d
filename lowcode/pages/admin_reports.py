"""Administration pages: explain access ("what may this user do on this entity, and why"), the permission
review report, and the security event log.

The answers come from :mod:`lowcode.auth.explain` (which asks the permission service itself); this module
only turns them into readable rows: record rules and context conditions as sentences, field keys as
their labels.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import render_template, request
from flask_babel import gettext as _

from lowcode.api.params import int_arg
from lowcode.auth.explain import explain, find_user, review
from lowcode.auth.security_log import KINDS, recent_events
from lowcode.core.jsonutil import dumps
from lowcode.core.models import User, utcnow
from lowcode.errors import NotFound
from lowcode.pages.admin_common import MAX_ROWS, admin_work, user_choices
from lowcode.pages.blueprint import bp
from lowcode.pages.i18n import current_language
from lowcode.runtime.compiler import CompiledEntity

EVENT_LIMITS = (50, 200, 500, 1000)


def _operator_words() -> dict[str, str]:
    return {
        "=": _("is"),
        "!=": _("is not"),
        "<": _("is less than"),
        "<=": _("is at most"),
        ">": _("is more than"),
        ">=": _("is at least"),
        "in": _("is one of"),
        "not_in": _("is not one of"),
        "between": _("is between"),
        "contains": _("contains"),
        "starts_with": _("starts with"),
        "is_empty": _("is empty"),
        "is_not_empty": _("is not empty"),
    }


def describe_condition(doc: Any, entity: CompiledEntity | None = None, lang: str = "en") -> str:
    """A condition of the condition language as a sentence: ``Owner is the user's id``,
    ``(Stage is open or Amount is at least 100)``. Field keys become their labels in ``lang``."""
    if not isinstance(doc, dict):
        return str(doc)
    for group, joiner, empty in (("all", _(" and "), _("always")), ("any", _(" or "), _("never"))):
        if group in doc:
            parts = [describe_condition(part, entity, lang) for part in doc[group] or []]
            if not parts:
                return empty
            return parts[0] if len(parts) == 1 else f"({joiner.join(parts)})"
    if "not" in doc:
        return _("not (%(condition)s)", condition=describe_condition(doc["not"], entity, lang))
    name = str(doc.get("field", "?"))
    field = entity.fields.get(name) if entity is not None else None
    label = field.fdef.label_for(lang) if field is not None else name
    words = _operator_words().get(doc.get("op"), str(doc.get("op")))
    if "value" not in doc:
        return f"{label} {words}"
    value = doc["value"]
    if doc.get("op") == "between" and isinstance(value, list) and len(value) == 2:
        shown = _("%(low)s and %(high)s", low=_value_text(value[0]), high=_value_text(value[1]))
    elif isinstance(value, list):
        shown = ", ".join(_value_text(v) for v in value)
    else:
        shown = _value_text(value)
    return f"{label} {words} {shown}"


def _value_text(value: Any) -> str:
    """A condition value: ``$user.department`` reads "the user's department", ``$$x`` is the text ``$x``."""
    if isinstance(value, str) and value.startswith("$$"):
        return f"'{value[1:]}'"
    if isinstance(value, str) and value.startswith("$user."):
        return _("the user's %(attribute)s", attribute=value[len("$user.") :])
    if isinstance(value, str) and value.startswith("$"):
        return value
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return f"'{value}'" if isinstance(value, str) else str(value)


def describe_context(key: str, value: Any) -> str:
    """A grant's context condition as a sentence (``ip_in``, ``hours``, ``min_level``)."""
    if key == "ip_in":
        return _("requests from %(ranges)s", ranges=", ".join(value))
    if key == "hours" and isinstance(value, dict):
        days = ", ".join(str(d) for d in value.get("days") or range(1, 8))
        return _(
            "from %(start)s to %(end)s (%(zone)s) on weekdays %(days)s",
            start=value.get("from"),
            end=value.get("to"),
            zone=value.get("timezone", "UTC"),
            days=days,
        )
    if key == "min_level":
        return _("user level %(level)s or higher", level=value)
    return f"{key}: {value}"


# -- explain ---------------------------------------------------------------------------------------
@bp.get("/admin/explain")
def admin_explain():
    """Pick a user, an app and an entity (and an address to test): per action, allowed or not and why."""
    lang = current_language()
    args = {k: request.args.get(k, "").strip()[:150] for k in ("user", "app", "entity", "ip")}
    args["ip"] = args["ip"][:64]
    result, message, status = None, None, 200
    with admin_work("explain permissions") as ctx:
        snapshot = ctx.snapshot
        apps = [(name, info.label_for(lang)) for name, info in sorted(snapshot.apps.items())]
        entities = [
            (
                app,
                name,
                f"{snapshot.apps[app].label_for(lang) if app in snapshot.apps else app} \u00b7 "
                f"{e.label_for(lang)}",
            )
            for (app, name), e in sorted(snapshot.entities.items())
        ]
        users = user_choices(ctx.session)
        if args["user"] and args["app"] and args["entity"]:
            try:
                user = find_user(ctx.session, args["user"])
                body = explain(
                    ctx.session, snapshot, user, args["app"], args["entity"], now=utcnow(), ip=args["ip"]
                )
                result = readable_explain(body, snapshot.entity(args["app"], args["entity"]), lang)
            except NotFound as exc:
                message, status = exc.message, 404
    page = {
        "args": args,
        "apps": apps,
        "entities": entities,
        "users": users,
        "result": result,
        "message": message,
    }
    return render_template("admin/explain.html", p=page), status


def readable_explain(body: dict[str, Any], entity: CompiledEntity, lang: str) -> dict[str, Any]:
    """The explain answer with its conditions as sentences and its field keys as labels."""

    def labels(names) -> list[str]:
        return [entity.fields[n].fdef.label_for(lang) if n in entity.fields else n for n in names]

    actions = []
    for action, item in body["actions"].items():
        grants = [
            {
                **g,
                "record_rule_text": describe_condition(g["record_rule"], entity, lang)
                if g["record_rule"]
                else None,
                "hidden_labels": labels(g["hidden_fields"]),
                "read_only_labels": labels(g["read_only_fields"]),
                "context": [
                    {**c, "text": describe_context(c["condition"], c["value"])} for c in g["context"]
                ],
            }
            for g in item["grants"]
        ]
        sensitive = [
            {
                **op,
                "field_labels": labels(op["fields"]),
                "condition_text": describe_condition(op["condition"], entity, lang)
                if op["condition"]
                else None,
            }
            for op in item["sensitive"]
        ]
        actions.append({"action": action, **item, "grants": grants, "sensitive": sensitive})
    read_filter = body["read_filter"]
    return {
        **body,
        "actions": actions,
        "entity_label": entity.label_for(lang),
        "read_allowed": body["actions"]["read"]["allowed"],
        "read_filter_text": describe_condition(read_filter, entity, lang) if read_filter else None,
        "hidden_labels": labels(body["hidden_fields"]),
        "read_only_labels": labels(body["read_only_fields"]),
    }


# -- review and security events ----------------------------------------------------------------------
@bp.get("/admin/review")
def admin_review():
    """The permission review: administrators, assignments unused for 90 days, assignments past their end."""
    with admin_work("review permissions") as ctx:
        report = review(ctx.session, ctx.snapshot, utcnow())
    return render_template("admin/review.html", r=report)


@bp.get("/admin/security")
def admin_security():
    """The newest security events, optionally of one kind (``?kind=``), ``?limit=`` of them."""
    kind = request.args.get("kind") or None
    limit = int_arg(request.args, "limit", 200, 1)
    limit = limit if limit in EVENT_LIMITS else 200
    message, status = None, 200
    if kind is not None and kind not in KINDS:
        message, status, kind = _("Unknown kind of event: %(kind)s", kind=kind[:40]), 400, None
    with admin_work("read security events") as ctx:
        rows = [] if status != 200 else recent_events(ctx.session, min(limit, MAX_ROWS * 2), kind)
        ids = sorted({e.user_id for e in rows if e.user_id is not None})
        known = set(ctx.session.scalars(sa.select(User.id).where(User.id.in_(ids)))) if ids else set()
        events = [
            {
                "id": e.id,
                "at": e.at,
                "kind": e.kind,
                "user_id": e.user_id if e.user_id in known else None,
                "username": e.username,
                "ip": e.ip,
                "detail": dumps(e.detail or {}, sort_keys=True),
            }
            for e in rows
        ]
    page = {
        "events": events,
        "kind": kind,
        "kinds": KINDS,
        "limit": limit,
        "limits": EVENT_LIMITS,
        "message": message,
    }
    return render_template("admin/security.html", p=page), status
