"""The view designer: ``/design/<app>/view/<name>`` - a list view's columns (chosen, ordered by drag and drop or
up/down), default sort, filter (the condition builder), search fields, page size, board, calendar, related
lists and which columns get totals, beside a live preview of the runtime list rendered from the draft
(:mod:`lowcode.designer.view_preview`). Every change is saved to the draft at once with undo and redo
(:mod:`lowcode.designer.history`); the edits themselves are :mod:`lowcode.designer.view_edits`."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for

from lowcode.definitions.checks import AppDocuments
from lowcode.designer.blueprint import DesignContext, bp, posted_base
from lowcode.designer.conditions import ConditionBuilder
from lowcode.designer.index_advice import wanted_index
from lowcode.designer.view_access import KIND, view_work
from lowcode.designer.view_edits import apply_edit, date_fields, kanban_fields, related_sources
from lowcode.designer.view_preview import unpublished_fields
from lowcode.errors import BadRequest, DefinitionInvalid, UnknownType
from lowcode.pages.list_totals import summable

_UNSET = object()


def _sort_rows(keys: list[dict]) -> list[dict]:
    """The sort keys shown as rows, with one blank row to add a key."""
    return [
        *({"field": k["field"], "direction": k.get("direction", "asc")} for k in keys),
        {"field": "", "direction": "asc"},
    ]


def view_page(dc: DesignContext, name: str, errors: dict, condition: Any = _UNSET) -> dict[str, Any]:
    """Everything ``designer/view.html`` shows (``condition``: the filter as posted, when it was refused)."""
    state = dc.history.state(KIND, name)
    doc, ws = state.body, dc.workspace
    docs = AppDocuments(ws.docs)
    entity = doc["entity"]
    typed = docs.typed_fields(entity)
    language = ws.language

    def label(n: str, fields=typed) -> str:
        return fields[n].fdef.label_for(language) if n in fields else n

    stored = [n for n, cf in typed.items() if cf.has_column]
    kinds = docs.kinds(entity)
    compiled = dc.ctx.snapshot.entities.get((ws.app, entity))
    columns = list(doc.get("columns") or [])
    totals = {
        n
        for n in columns
        if compiled is not None and n in compiled.fields and summable(compiled, compiled.fields[n])
    }
    builder = ConditionBuilder.for_entity(docs, entity, language)
    sortable = [(n, label(n)) for n in kinds]
    board = doc.get("kanban") or {}
    runtime_view = ws.view_of(entity)
    return {
        "app": ws.app,
        "name": name,
        "entity": entity,
        "entity_label": ws.label(docs.entities.get(entity, {}), entity),
        "label": doc.get("label") if isinstance(doc.get("label"), dict) else {"en": doc.get("label") or ""},
        "state": state,
        "steps": dc.history.steps(KIND, name)[:20],
        "errors": errors,
        "columns": [{"key": n, "label": label(n), "total": n in totals} for n in columns],
        "addable": [(n, label(n)) for n in stored if n not in columns],
        "totals": [label(n) for n in columns if n in totals],
        "sortable": sortable,
        "sort": _sort_rows(doc.get("sort") or []),
        "filter": builder.rows(doc.get("filter") if condition is _UNSET else condition, "filter", errors),
        "search": [
            (n, label(n), n in (doc.get("search_fields") or []))
            for n, k in kinds.items()
            if k == "text" and n in typed
        ],
        "page_size": doc.get("page_size") or "",
        "group_by": [(n, label(n)) for n in kanban_fields(docs, entity)],
        "board": board,
        "cards": [(n, label(n), n in (board.get("card_fields") or [])) for n in stored],
        "dates": [(n, label(n)) for n in date_fields(docs, entity)],
        "calendar": (doc.get("calendar") or {}).get("date_field", ""),
        "sources": [
            (f"{e}.{f}", f"{ws.label(docs.entities[e], e)} · {label(f, docs.typed_fields(e))}")
            for e, f in related_sources(docs, entity)
        ],
        "related": [_related(docs, r, i, language) for i, r in enumerate(doc.get("related") or [])],
        "unpublished": unpublished_fields(doc, compiled),
        "entity_published": compiled is not None,
        "runtime_view": runtime_view[0] if runtime_view else None,
        "preview_url": url_for("designer.view_preview", app=ws.app, name=name),
        "row_url": url_for("designer.condition_row", app=ws.app, name=entity),
        "index_advice": _index_advice(dc, doc, docs, label),
    }


def _index_advice(dc: DesignContext, doc: dict, docs: AppDocuments, label) -> dict[str, Any] | None:
    """The index this list wants and the table lacks (fields, their labels, the entity draft's step)."""
    wanted = wanted_index(doc, docs)
    if wanted is None:
        return None
    step = dc.history.state("entity", doc["entity"]).seq
    return {"fields": wanted, "labels": [label(n) for n in wanted], "base": step}


def _related(docs: AppDocuments, entry: dict, index: int, language: str) -> dict[str, Any]:
    typed = docs.typed_fields(entry["entity"])
    chosen = entry.get("columns") or []
    sortable = [
        (n, typed[n].fdef.label_for(language) if n in typed else n) for n in docs.kinds(entry["entity"])
    ]
    return {
        "index": index,
        "name": entry["name"],
        "entity": entry["entity"],
        "field": entry["field"],
        "columns": [
            (n, cf.fdef.label_for(language), n in chosen) for n, cf in typed.items() if cf.has_column
        ],
        "sortable": sortable,
        "sort": _sort_rows(entry.get("sort") or []),
        "page_size": entry.get("page_size") or "",
    }


def render_view(
    dc: DesignContext, name: str, errors: dict | None = None, condition: Any = _UNSET, status: int = 200
):
    """The view designer page (``errors`` by path, ``filter/0`` for a row of the filter)."""
    page = view_page(dc, name, errors or {}, condition)
    return render_template("designer/view.html", p=page), status


@bp.get("/<app>/view/<name>")
def view(app: str, name: str):
    """The view designer."""
    with view_work(app, name) as dc:
        return render_view(dc, name)


@bp.post("/<app>/view/<name>/edit/<section>")
def edit_view(app: str, name: str, section: str):
    """Save one section of the view (``label``, ``columns``, ``sort``, ``filter``, ``search``, ``page_size``,
    ``kanban``, ``calendar``, ``related``) to the draft; a refusal shows the page again with its errors."""
    with view_work(app, name) as dc:
        base = posted_base()
        body = dc.history.state(KIND, name).body
        try:
            new_body, summary = apply_edit(
                section, body, request.form, AppDocuments(dc.workspace.docs), dc.workspace.language
            )
        except UnknownType as exc:
            raise BadRequest(exc.message) from exc
        except DefinitionInvalid as exc:
            return render_view(dc, name, exc.fields, exc.extra.get("condition", _UNSET), 422)
        try:
            with dc.ctx.session.begin_nested():
                dc.history.edit(KIND, name, base, new_body, summary)
        except DefinitionInvalid as exc:
            return render_view(dc, name, exc.fields, status=422)
        dc.audit(KIND, name, summary)
        return redirect(url_for("designer.view", app=app, name=name, _anchor=section), code=303)


@bp.post("/<app>/view/<name>/undo")
def view_undo(app: str, name: str):
    """Undo the last change of the view's draft (Ctrl+Z)."""
    return _walk(app, name, "undo")


@bp.post("/<app>/view/<name>/redo")
def view_redo(app: str, name: str):
    """Redo the change undone last (Ctrl+Shift+Z)."""
    return _walk(app, name, "redo")


def _walk(app: str, name: str, direction: str):
    with view_work(app, name) as dc:
        dc.walk(KIND, name, direction)
        return redirect(url_for("designer.view", app=app, name=name), code=303)
