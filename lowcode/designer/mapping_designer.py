"""The mapping designer (app designers only): ``/design/<app>/mappings`` lists the app's mappings and makes a
new one (name, target table, source kind); ``/design/<app>/mappings/<name>`` edits one as JSON with a table
view of its entries, its problems by JSON path (the publish's own checks), undo/redo over its draft steps,
and a preview panel - paste a payload (or rows) or pick a record of the source table and see the record and
lines it makes, or each error with its source path. Published through the app's publish page."""

from __future__ import annotations

import re

from flask import redirect, render_template, request, url_for

from lowcode.api.mappings import mapping_service
from lowcode.core.jsonutil import dumps, loads_exact
from lowcode.core.numbers import int_from_text
from lowcode.core.texts import Text
from lowcode.designer.blueprint import DesignContext, bp, design_work, posted_base
from lowcode.designer.checks import problems_by_path
from lowcode.designer.mapping_page import (
    KIND,
    SOURCE_KINDS,
    entry_rows,
    mapping_list,
    starter,
)
from lowcode.errors import BadRequest, DefinitionInvalid, LowcodeError, NotFound, PermissionDenied
from lowcode.mappings.preview import checked_mapping, preview
from lowcode.pages.display import record_title
from lowcode.pages.i18n import current_language
from lowcode.runtime.queries import ListQuery, SortKey

NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
MAX_BODY_CHARS = 200_000


def _tables(dc: DesignContext) -> list[str]:
    return sorted(n for n, e in dc.workspace.entities().items() if not e.get("child"))


@bp.get("/<app>/mappings")
def mappings(app: str):
    """The app's mappings and the form of a new one."""
    with design_work(app) as dc:
        return _render_list(dc, {}, 200)


def _render_list(dc: DesignContext, errors: dict, status: int):
    page = {
        "app": dc.workspace.app,
        "mappings": mapping_list(dc, current_language()),
        "tables": _tables(dc),
        "sources": SOURCE_KINDS,
        "errors": errors,
        "posted": request.form if errors else {},
    }
    return render_template("designer/mappings.html", p=page), status


@bp.post("/<app>/mappings")
def create_mapping(app: str):
    """A new mapping's first draft (source and target, no entries), then its page."""
    with design_work(app) as dc:
        form = request.form
        name, target = form.get("name", "").strip(), form.get("target", "")
        source, source_entity = form.get("source", ""), form.get("source_entity") or None
        tables = _tables(dc)
        errors: dict[str, list] = {}
        if not NAME.match(name) or name in dc.workspace.docs.get(KIND, {}):
            errors["name"] = [Text("Choose another name: lower-case letters, digits and _, not taken")]
        if target not in tables:
            errors["target"] = [Text("Choose a table")]
        if source not in SOURCE_KINDS or (source == "record" and source_entity not in tables):
            errors["source"] = [Text("Choose the source (a record source names its table)")]
        if errors:
            return _render_list(dc, errors, 422)
        dc.history.create(KIND, name, starter(name, target, source, source_entity), "created")
        dc.audit(KIND, name, "created")
    return redirect(url_for("designer.mapping", app=app, name=name), 303)


def _page(dc: DesignContext, name: str, **extra):
    state = dc.history.state(KIND, name)
    problems: list[tuple[str, str]] = extra.pop("problems", None) or []
    if not problems:
        try:
            checked_mapping(dc.ctx, dc.workspace.app, name, state.body)
        except DefinitionInvalid as exc:
            problems = problems_by_path(exc.fields, KIND, name)
    source = state.body.get("source") or {}
    record_source = source.get("kind") == "record"
    page = {
        "app": dc.workspace.app,
        "name": name,
        "state": state,
        "text": extra.pop("text", None) or _pretty(state.body),
        "rows": entry_rows(state.body),
        "problems": problems,
        "record_source": record_source,
        "records": _record_choices(dc, source.get("entity", "")) if record_source else [],
        "source_entity": source.get("entity", ""),
        "preview": None,
        "preview_error": None,
        "sample": "",
        "record_id": "",
        **extra,
    }
    return render_template("designer/mapping.html", p=page)


def _record_choices(dc: DesignContext, entity_name: str) -> list[tuple[int, str]]:
    """The newest records of the source table the designer may read (at most 50), for the preview's picker:
    ``(id, "#id title")`` - a title hidden from them is left out."""
    app = dc.workspace.app
    try:
        entity = dc.ctx.snapshot.entity(app, entity_name)
        hidden = mapping_service().permissions.hidden_fields(dc.ctx.actor, entity)
        query = ListQuery(sort=(SortKey("id", descending=True),), limit=50, with_total=False)
        records = mapping_service().queries.list(dc.ctx, app, entity_name, query).records
    except (NotFound, PermissionDenied):
        return []
    language = current_language()
    shown = entity.title_field not in hidden

    def label(record: dict) -> str:
        title = record_title(entity, record, language) if shown else ""
        return f"#{record['id']}" if title in ("", f"#{record['id']}") else f"#{record['id']} {title}"

    return [(r["id"], label(r)) for r in records]


def _pretty(body) -> str:
    return dumps(body, indent=2)


@bp.get("/<app>/mappings/<name>")
def mapping(app: str, name: str):
    """One mapping: JSON editor, entries table, problems, undo/redo and the preview panel."""
    with design_work(app) as dc:
        return _page(dc, name)


@bp.post("/<app>/mappings/<name>")
def save_mapping(app: str, name: str):
    """Save the posted JSON as the next draft step (refused with its problems, nothing saved)."""
    with design_work(app) as dc:
        dc.history.state(KIND, name)  # 404 before anything else
        text = request.form.get("body", "")
        try:
            if len(text) > MAX_BODY_CHARS:
                raise BadRequest(f"The mapping is longer than {MAX_BODY_CHARS} characters")
            body = loads_exact(text)
        except (BadRequest, ValueError) as exc:
            problems = [("/", str(getattr(exc, "message", exc)))]
            return _page(dc, name, text=text, problems=problems), 422
        try:
            dc.history.edit(KIND, name, posted_base(), body, "edited as JSON")
        except DefinitionInvalid as exc:
            return _page(dc, name, text=text, problems=problems_by_path(exc.fields, KIND, name)), 422
        dc.audit(KIND, name, "edited as JSON")
    return redirect(url_for("designer.mapping", app=app, name=name), 303)


@bp.post("/<app>/mappings/<name>/undo")
def undo_mapping(app: str, name: str):
    """Undo the last step of the mapping's draft."""
    with design_work(app) as dc:
        dc.walk(KIND, name, "undo")
    return redirect(url_for("designer.mapping", app=app, name=name), 303)


@bp.post("/<app>/mappings/<name>/redo")
def redo_mapping(app: str, name: str):
    """Redo the step undone last."""
    with design_work(app) as dc:
        dc.walk(KIND, name, "redo")
    return redirect(url_for("designer.mapping", app=app, name=name), 303)


@bp.get("/<app>/mappings/<name>/preview")
def preview_address(app: str, name: str):
    """The preview's address reloaded (a language switch after a preview): the mapping's page."""
    with design_work(app) as dc:
        dc.history.state(KIND, name)
    return redirect(url_for("designer.mapping", app=app, name=name), 303)


@bp.post("/<app>/mappings/<name>/preview")
def preview_mapping_page(app: str, name: str):
    """The draft run on the pasted sample (an object, or a list of rows) or on a record; nothing written."""
    with design_work(app) as dc:
        dc.history.state(KIND, name)
        sample, record_text = request.form.get("sample", ""), request.form.get("record_id", "").strip()
        try:
            if record_text:
                asked = {"record_id": int_from_text(record_text)}
            else:
                parsed = loads_exact(sample) if sample.strip() else None
                if parsed is None:
                    raise BadRequest("Paste a sample payload or pick a record")
                asked = {"rows": parsed} if isinstance(parsed, list) else {"payload": parsed}
            answer = preview(dc.ctx, mapping_service(), app, name, asked)
        except DefinitionInvalid as exc:
            return _page(dc, name, problems=problems_by_path(exc.fields, KIND, name), sample=sample), 422
        except (LowcodeError, ValueError) as exc:
            if isinstance(exc, NotFound) and not record_text:
                raise
            message = str(getattr(exc, "message", exc))
            return _page(dc, name, preview_error=message, sample=sample, record_id=record_text), 422
        return _page(dc, name, preview=answer, sample=sample, record_id=record_text)
