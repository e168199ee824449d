"""The link picker: the options of a link field, searched and paged on the server.

``GET /a/<app>/<entity>/options/<field>?q=<text>&after=<cursor>`` answers
``{"items": [{"value": "7", "text": "<title>", "hint": "<search fields>"}], "next": <cursor or null>}``
for a link field of the entity (``customer``) or of one of its child tables (``lines.product``). The
target's records are read through the query service, so the reader's record rules and hidden fields apply;
``q`` searches the target's title field and its list view's search fields. Forms (``widgets.html``), child
rows and list filters use it through Tom Select (``static/js/picker.js``)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for

from lowcode.api.edge import services, unit_of_work
from lowcode.errors import BadRequest, NotFound
from lowcode.pages.binding import is_child_table
from lowcode.pages.blueprint import bp
from lowcode.pages.display import is_link, record_title, title_sort
from lowcode.pages.i18n import current_language
from lowcode.pages.viewmodels import top_entity
from lowcode.runtime.compiler import CompiledEntity, CompiledField
from lowcode.runtime.context import WriteContext
from lowcode.runtime.queries import ListQuery

PAGE_SIZE = 20
MAX_QUERY = 100
HINT_FIELDS = 2


def picker_url(entity: CompiledEntity, path: str) -> str:
    """The options URL of the link field at ``path`` (``customer``, ``lines.product``) of a top entity."""
    return url_for("pages.link_options", app=entity.app, entity=entity.name, field=path)


def link_field(ctx: WriteContext, entity: CompiledEntity, path: str) -> tuple[CompiledEntity, CompiledField]:
    """The entity holding the link field at ``path`` and the field; hidden fields are not found.

    :raises NotFound: for anything but a visible link field of the entity or of one of its child tables."""
    permissions = services().permissions
    owner, name = entity, path
    if "." in path:
        table, _dot, name = path.partition(".")
        cf = entity.fields.get(table)
        if cf is None or not is_child_table(cf) or table in permissions.hidden_fields(ctx.actor, entity):
            raise NotFound(f"No link field '{path}' on {entity.name}")
        owner = ctx.snapshot.entity(entity.app, cf.fdef.options["entity"])
    cf = owner.fields.get(name)
    if cf is None or not is_link(cf) or name in permissions.hidden_fields(ctx.actor, owner):
        raise NotFound(f"No link field '{path}' on {entity.name}")
    return owner, cf


def search_fields(ctx: WriteContext, target: CompiledEntity) -> tuple[str, ...]:
    """The target's title field and its list view's search fields that hold text."""
    view = ctx.snapshot.view_for(target.app, target.name) or {}
    names = [target.title_field or "", *view.get("search_fields", [])]
    text = [n for n in names if target.kinds.get(n) == "text"]
    return tuple(dict.fromkeys(text))


def options_page(ctx: WriteContext, target: CompiledEntity, q: str, after: str | None, language: str) -> dict:
    """One page of the picker's options for the reader."""
    hidden = services().permissions.hidden_fields(ctx.actor, target)
    fields = tuple(n for n in search_fields(ctx, target) if n not in hidden)
    titled = target.title_field not in hidden
    query = ListQuery(
        search=q,
        search_fields=fields,
        sort=title_sort(target) if titled else (),
        limit=PAGE_SIZE,
        after=after,
        with_total=False,
    )
    page = services().queries.list(ctx, target.app, target.name, query)
    hints = [n for n in fields if n != target.title_field][:HINT_FIELDS]
    items = []
    for r in page.records:
        text = record_title(target, r, language) if titled else f"#{r['id']}"
        hint = " · ".join(str(r[n]) for n in hints if r.get(n) not in (None, "") and str(r[n]) != text)
        items.append({"value": str(r["id"]), "text": text, "hint": hint})
    return {"items": items, "next": page.next_cursor}


def search_text() -> str:
    """The request's picker search text (``q``); 400 when it is longer than :data:`MAX_QUERY`."""
    q = request.args.get("q", "").strip()
    if len(q) > MAX_QUERY:
        raise BadRequest(f"The search text is longer than {MAX_QUERY} characters")
    return q


def param_options(ctx: WriteContext, app: str, name: str, declared: Any, q: str) -> dict:
    """The picker's page for a report's or dashboard's parameter ``name`` (``declared``; None: not declared):
    the records of its entity the reader may read; 404 unless it is a link parameter."""
    if declared is None or declared.type != "link":
        raise NotFound(f"No link parameter '{name}'")
    target = ctx.snapshot.entity(app, declared.entity)
    return options_page(ctx, target, q, request.args.get("after") or None, current_language())


def options_response(body: dict):
    """The picker's JSON answer, never cached (it depends on the reader's permissions)."""
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/a/<app>/<entity>/options/<field>")
def link_options(app: str, entity: str, field: str):
    """The link picker's JSON: options of the link field ``field`` matching ``q``, a page at a time."""
    q = search_text()
    after = request.args.get("after") or None
    with unit_of_work(write=False, source="page") as ctx:
        compiled = top_entity(ctx, app, entity)
        services().permissions.authorize(ctx.actor, compiled, "read")
        _owner, cf = link_field(ctx, compiled, field)
        target = ctx.snapshot.entity(compiled.app, cf.fdef.options["entity"])
        body: dict[str, Any] = options_page(ctx, target, q, after, current_language())
    return options_response(body)
