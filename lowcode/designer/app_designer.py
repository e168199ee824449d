"""The designer's start: ``/design`` (the apps the user may design, a new app) and ``/design/<app>`` (its
entities, forms and views with their draft state, a new entity). A new entity comes with a form and a list
view of its own, so that it can be used in the runtime as soon as it is published."""

from __future__ import annotations

import re

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from lowcode.api.edge import services, unit_of_work
from lowcode.auth.design_access import sandbox_of
from lowcode.definitions import publisher, store
from lowcode.definitions.app_names import require_free_app_name
from lowcode.definitions.installs import installed
from lowcode.designer.app_menu import menu_with_table
from lowcode.designer.blueprint import bp, design_work, scoped_design_work
from lowcode.designer.history import DraftHistory
from lowcode.designer.panels import read_label
from lowcode.designer.workspace import design_scope
from lowcode.errors import DefinitionInvalid
from lowcode.pages.i18n import current_language
from lowcode.pages.security import require_csrf
from lowcode.sandbox.access import sandboxes_of
from lowcode.sandbox.making import DEFAULT_SAMPLE, default_name

KEY = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


def posted_key() -> str:
    """The posted ``name`` of a new definition. :raises DefinitionInvalid: not a key."""
    key = request.form.get("name", "").strip()
    if not KEY.match(key):
        raise DefinitionInvalid(
            _("A name is lower-case letters, digits and _ and starts with a letter"), {"name": [key or "-"]}
        )
    return key


@bp.get("")
def apps():
    """The apps this user may design."""
    with unit_of_work(write=False, source="page") as ctx:
        names = sorted({d.app for d in store.list_definitions(ctx.session) if d.kind == "app"})
        permissions = services().permissions
        designable = [n for n in names if design_scope(permissions, ctx, n) != frozenset()]
        lang = current_language()
        rows = [
            {"name": n, "label": ctx.snapshot.apps[n].label_for(lang) if n in ctx.snapshot.apps else n}
            for n in designable
        ]
        return render_template("designer/apps.html", apps=rows, may_create=ctx.actor.is_admin)


@bp.post("")
def create_app():
    """Create an app (administrators): its app definition, published; with a first table (``table``,
    ``table_label:<lang>``) as drafts - the table, its form and list view - listed in the app's first menu
    group. Then the app's settings page (menu groups, home work queues), where the creator goes on."""
    require_csrf()
    with unit_of_work(write=True, source="page") as ctx:
        svc = services()
        svc.permissions.authorize_platform(ctx.actor, "create apps")
        name = posted_key()
        require_free_app_name(name, svc.reserved_app_names)
        if store.list_definitions(ctx.session, name):
            raise DefinitionInvalid(_("An app with this name exists already"), {"name": [name]})
        table = request.form.get("table", "").strip()
        if table and not KEY.match(table):
            raise DefinitionInvalid(
                _("A name is lower-case letters, digits and _ and starts with a letter"), {"table": [table]}
            )
        body = {"schema_version": 1, "name": name, "label": read_label(request.form, "label") or {"en": name}}
        if table:
            body = menu_with_table(body, table)
        store.save_draft(ctx.session, name, "app", name, body)
        publisher.publish_definition(
            ctx.session, name, "app", name, ctx.actor.username, "created in the designer"
        )
        if table:
            history = DraftHistory(ctx.session, name, ctx.actor.username)
            label = read_label(request.form, "table_label")
            for kind, doc in new_entity_documents(table, label, child=False).items():
                history.create(kind, doc["name"], doc, f"created {kind} {doc['name']}")
    return redirect(url_for("designer.app_settings", app=name, created=1), code=303)


@bp.get("/<app>")
def app(app: str):
    """An app in the designer: its entities with their forms and views, and what is waiting to be published."""
    with scoped_design_work(app) as dc:
        ws = dc.workspace
        pending = {
            (kind, name) for kind, bodies in ws.docs.items() for name in bodies if ws.pending(kind, name)
        }
        entities = [
            {
                "name": n,
                "label": ws.label(b, n),
                "child": bool(b.get("child")),
                "fields": len(b.get("fields") or ()),
                "pending": ("entity", n) in pending,
                "form": ws.form_of(n),
                "view": ws.view_of(n),
            }
            for n, b in sorted(ws.entities().items())
            if dc.shows("entity", n)
        ]
        pending = [p for p in pending if dc.shows(*p)]
        return render_template(
            "designer/app.html",
            app=app,
            entities=entities,
            pending=sorted(pending),
            app_wide=dc.scope is None,
            sandbox=sandbox_of(dc.ctx.session, app),
            sandboxes=sandboxes_of(dc.ctx.session, app) if dc.scope is None else [],
            default_sandbox=default_name(app),
            default_sample=DEFAULT_SAMPLE,
            platform=dc.ctx.actor.is_admin,
            installed=installed(dc.ctx.session, app) is not None,
        )


def new_entity_documents(name: str, label: dict[str, str], child: bool) -> dict[str, dict]:
    """The definitions of a new entity: the entity with a name field, its form and its list view."""
    field = {"name": "name", "type": "text", "label": {"en": "Name", "zh-CN": "名称"}, "required": True}
    entity = {"schema_version": 1, "name": name, "label": label or {"en": name}, "fields": [field]}
    if child:
        entity["child"] = True
        return {"entity": entity}
    entity["title_field"] = "name"
    return {
        "entity": entity,
        "form": {
            "schema_version": 1,
            "name": f"{name}_form",
            "entity": name,
            "sections": [{"fields": ["name"]}],
        },
        "view": {
            "schema_version": 1,
            "name": f"{name}_list",
            "entity": name,
            "columns": ["name"],
            "search_fields": ["name"],
        },
    }


@bp.post("/<app>/entities")
def create_entity(app: str):
    """A new entity (with its form and list view) as drafts, opened in the entity designer."""
    with design_work(app) as dc:
        name = posted_key()
        if name in dc.workspace.entities():
            raise DefinitionInvalid(_("This app already has a table with that name"), {"name": [name]})
        child = request.form.get("child") == "1"
        for kind, body in new_entity_documents(name, read_label(request.form, "label"), child).items():
            dc.history.create(kind, body["name"], body, f"created {kind} {body['name']}")
            dc.audit(kind, body["name"], "created")
        if not child:
            state = dc.history.state("app", app)
            listed = menu_with_table(state.body, name)
            if listed != state.body:
                dc.history.edit("app", app, state.seq, listed, f"listed {name} in the menu")
    return redirect(url_for("designer.entity", app=app, name=name), code=303)
