"""The role designer: ``/design/<app>/roles`` (the app's roles, a new role) and ``/design/<app>/role/<name>``: a grid
of tables x actions with checkboxes, and per grant its field rules (hidden / read-only), record rule (the
condition builder, ``$user`` facts allowed), context conditions (addresses, hours, level) and workflow
transitions; the role's sensitive operations, admin flag, label and description. Every change is a draft step
(undo, redo, a 409 for a stale page) audited as ``definition_edited``, published through the designer's publish
page (which logs ``definition_published`` for roles, as the JSON editor does). Only app designers (platform
administrators and the app's admin roles) reach it: changing a role changes permissions. The edits are
:mod:`lowcode.designer.role_edits`; "explain" is :mod:`lowcode.designer.role_explain`."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from lowcode.auth.permissions import ACTIONS
from lowcode.core.numbers import digits_to_int
from lowcode.definitions.checks import AppDocuments
from lowcode.definitions.names import USER_FACTS
from lowcode.designer.app_designer import KEY
from lowcode.designer.blueprint import DesignContext, bp, design_work, posted_base
from lowcode.designer.labels import grant_action_label
from lowcode.designer.panels import read_label
from lowcode.designer.role_edits import (
    apply_edit,
    grantable_entities,
    offered_transitions,
    record_rule_builder,
    sensitive_operations,
)
from lowcode.errors import BadRequest, DefinitionInvalid, NotFound, UnknownType

KIND = "role"
COMMON_FACTS = ("id", "department", "level", "username")
"""The ``$user`` facts a record rule uses most (named first in the hint)."""
_UNSET = object()


def _require_app(dc: DesignContext) -> None:
    if dc.workspace.app not in dc.workspace.docs.get("app", {}):
        raise NotFound(f"No app '{dc.workspace.app}'")


# -- the list --------------------------------------------------------------------------------------------
@bp.get("/<app>/roles")
def roles(app: str):
    """The app's roles with their state, and the form of a new role."""
    with design_work(app) as dc:
        _require_app(dc)
        ws = dc.workspace
        rows = [
            {
                "name": n,
                "label": ws.label(b, n),
                "admin": bool(b.get("admin")),
                "grants": len(b.get("grants") or ()),
                "pending": ws.pending(KIND, n),
            }
            for n, b in sorted(ws.docs.get(KIND, {}).items())
        ]
        return render_template("designer/roles.html", app=app, roles=rows)


@bp.post("/<app>/roles")
def create_role(app: str):
    """A new role granting nothing yet, as a draft, opened in the role designer."""
    with design_work(app) as dc:
        _require_app(dc)
        name = request.form.get("name", "").strip()
        if not KEY.match(name):
            raise DefinitionInvalid(
                _("A name is lower-case letters, digits and _ and starts with a letter"),
                {"name": [name[:64]]},
            )
        if name in dc.workspace.docs.get(KIND, {}):
            raise DefinitionInvalid(_("This app already has a role with that name"), {"name": [name]})
        label = read_label(request.form, "label")
        body = {"schema_version": 1, "name": name, "label": label or {"en": name}, "grants": []}
        dc.history.create(KIND, name, body, f"created role {name}")
        dc.audit(KIND, name, "created")
    return redirect(url_for("designer.role", app=app, name=name), code=303)


# -- the role page ---------------------------------------------------------------------------------------
def _grid(dc: DesignContext, docs: AppDocuments, grants: list[dict]) -> list[dict[str, Any]]:
    ws = dc.workspace
    rows = []
    granted = set()
    for i, g in enumerate(grants):
        granted.add(g["entity"])
        body = docs.entities.get(g["entity"], {})
        rules = g.get("fields") or {}
        rows.append(
            {
                "key": str(i),
                "index": i,
                "entity": g["entity"],
                "label": ws.label(body, g["entity"]),
                "child": bool(body.get("child")),
                "actions": set(g.get("actions") or ()),
                "hidden": sum(1 for r in rules.values() if r == "hidden"),
                "read_only": sum(1 for r in rules.values() if r == "read_only"),
                "rule": bool(g.get("record_rule")),
                "context": bool(g.get("context")),
                "transitions": len(g.get("transitions") or ()),
            }
        )
    for name in grantable_entities(docs):
        if name not in granted:
            body = docs.entities[name]
            row = {"key": f"+{name}", "index": None, "entity": name, "label": ws.label(body, name)}
            rows.append({**row, "child": bool(body.get("child")), "actions": set()})
    return rows


def _field_label(typed: dict, name: str, language: str) -> str:
    return typed[name].fdef.label_for(language) if name in typed else name


def _panel(dc: DesignContext, docs: AppDocuments, index: int, grant: dict, errors: dict, condition: Any):
    """The settings of one grant: field rules, record rule, context, transitions."""
    ws, entity = dc.workspace, grant["entity"]
    typed = docs.typed_fields(entity)
    rules = grant.get("fields") or {}
    context = grant.get("context") or {}
    hours = context.get("hours") or {}
    builder = record_rule_builder(docs, entity, ws.language)
    chosen = set(grant.get("transitions") or ())
    return {
        "index": index,
        "entity": entity,
        "label": ws.label(docs.entities.get(entity, {}), entity),
        "fields": [
            (f["name"], _field_label(typed, f["name"], ws.language), rules.get(f["name"], ""))
            for f in docs.entities.get(entity, {}).get("fields") or ()
        ],
        "record_rule": builder.rows(
            grant.get("record_rule") if condition is _UNSET else condition, "record_rule", errors
        ),
        "row_url": url_for("designer.condition_row", app=ws.app, name=entity),
        "ip_in": "\n".join(context.get("ip_in") or ()),
        "hours": {**hours, "days": hours.get("days") or []},
        "min_level": context.get("min_level", ""),
        "transitions": [
            (t["name"], ws.label(t, t["name"]), t["name"] in chosen)
            for t in offered_transitions(docs, entity)
        ],
        "has_workflow": any(w.get("entity") == entity for w in docs.of("workflow").values()),
    }


def role_page(
    dc: DesignContext, name: str, errors: dict, grant: int | None = None, condition: Any = _UNSET
) -> dict[str, Any]:
    """Everything ``designer/role.html`` shows (``grant``: the grant whose settings are open)."""
    state = dc.history.state(KIND, name)
    doc, ws = state.body, dc.workspace
    docs = AppDocuments(ws.docs)
    grants = list(doc.get("grants") or ())
    chosen_ops = set(doc.get("operations") or ())

    def label_of(key: str) -> dict:
        value = doc.get(key)
        return value if isinstance(value, dict) else ({"en": value} if value else {})

    panel = None
    if grant is not None and grant < len(grants):
        panel = _panel(dc, docs, grant, grants[grant], errors, condition)
    return {
        "app": ws.app,
        "name": name,
        "title": ws.label(doc, name),
        "label": label_of("label"),
        "description": label_of("description"),
        "admin": bool(doc.get("admin")),
        "state": state,
        "steps": dc.history.steps(KIND, name)[:20],
        "errors": errors,
        "actions": [(a, grant_action_label(a)) for a in ACTIONS],
        "grid": _grid(dc, docs, grants),
        "operations": [
            (op["name"], ws.label(op, op["name"]), op["entity"], op["action"], op["name"] in chosen_ops)
            for op in sensitive_operations(docs)
        ],
        "panel": panel,
        "user_facts": [f"$user.{f}" for f in sorted(USER_FACTS, key=lambda f: (f not in COMMON_FACTS, f))],
    }


def render_role(dc: DesignContext, name: str, errors: dict | None = None, status: int = 200, **kw):
    """The role designer page."""
    grant = kw.pop("grant", digits_to_int(request.args.get("grant", "")))
    page = role_page(dc, name, errors or {}, grant, **kw)
    return render_template("designer/role.html", p=page), status


@bp.get("/<app>/role/<name>")
def role(app: str, name: str):
    """The role designer (``?grant=<i>``: that grant's settings open)."""
    with design_work(app) as dc:
        return render_role(dc, name)


@bp.post("/<app>/role/<name>/edit/<section>")
def edit_role(app: str, name: str, section: str):
    """Save one part of the role (``settings``, ``grid``, ``operations``; for the grant ``grant``: ``fields``,
    ``record_rule``, ``context``, ``transitions``, ``remove``) to the draft; a refusal shows the page again with
    its errors and saves nothing."""
    with design_work(app) as dc:
        base = posted_base()
        body = dc.history.state(KIND, name).body
        grant = digits_to_int(request.form.get("grant", ""))
        try:
            new_body, summary = apply_edit(
                section, body, request.form, AppDocuments(dc.workspace.docs), dc.workspace.language
            )
        except UnknownType as exc:
            raise BadRequest(exc.message) from exc
        except DefinitionInvalid as exc:
            extra = {"condition": exc.extra["condition"]} if "condition" in exc.extra else {}
            return render_role(dc, name, exc.fields, 422, grant=grant, **extra)
        try:
            with dc.ctx.session.begin_nested():
                dc.history.edit(KIND, name, base, new_body, summary)
        except DefinitionInvalid as exc:
            return render_role(dc, name, exc.fields, 422, grant=grant)
        dc.audit(KIND, name, summary)
    keep = grant if section not in ("remove", "grid", "settings", "operations") else None
    anchor = "grant" if keep is not None else section
    return redirect(url_for("designer.role", app=app, name=name, grant=keep, _anchor=anchor), code=303)


@bp.post("/<app>/role/<name>/undo")
def role_undo(app: str, name: str):
    """Undo the last change of the role's draft (Ctrl+Z)."""
    return _walk(app, name, "undo")


@bp.post("/<app>/role/<name>/redo")
def role_redo(app: str, name: str):
    """Redo the change undone last (Ctrl+Shift+Z)."""
    return _walk(app, name, "redo")


def _walk(app: str, name: str, direction: str):
    with design_work(app) as dc:
        dc.walk(KIND, name, direction)
    return redirect(url_for("designer.role", app=app, name=name), code=303)
