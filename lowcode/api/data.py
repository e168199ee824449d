"""``/api/data/<app>/<entity>[/<id>]``: CRUD, list with filter/sort/keyset paging, restore, history."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from lowcode.api.bulk import bulk_write
from lowcode.api.edge import body_version, if_match_version, json_body, services, unit_of_work
from lowcode.api.params import int_arg
from lowcode.api.record_json import record_renderer
from lowcode.auth.security_log import log_event_now
from lowcode.core.jsonutil import loads_exact, to_jsonable
from lowcode.errors import BadRequest
from lowcode.query_costs import costly_query
from lowcode.runtime.audit import history
from lowcode.runtime.context import WriteContext
from lowcode.runtime.export import export_csv
from lowcode.runtime.queries import ListQuery, parse_sort
from lowcode.runtime.reconcile import reconcile
from lowcode.runtime.serialize import record_to_json

bp = Blueprint("api_data", __name__, url_prefix="/api/data")


def _record_json(ctx: WriteContext, app: str, entity_name: str, record: dict) -> dict:
    """One record as JSON (see :func:`lowcode.api.record_json.record_renderer`)."""
    return record_renderer(ctx, app, entity_name)(record)


def _with_etag(body: dict, status: int = 200):
    response = jsonify(body)
    response.status_code = status
    response.headers["ETag"] = f'"{body["version"]}"'
    return response


def _limit() -> int:
    settings = current_app.config["LOWCODE"]
    return int_arg(request.args, "limit", settings["PAGE_SIZE"], 1, settings["MAX_PAGE_SIZE"])


def _list_query(compiled, condition, **paging: Any) -> ListQuery:
    """The list's query from the request: ``condition``, the search ``q`` and ``sort``; ``paging``: the
    list's limit, cursor, deleted and count arguments (none for an export)."""
    return ListQuery(
        condition=condition,
        search=request.args.get("q", "")[:200],
        sort=parse_sort(compiled, request.args.get("sort")),
        **paging,
    )


@bp.get("/<app>/<entity>")
@costly_query
def list_records(app: str, entity: str):
    """A page of records: ``filter`` (condition JSON), ``q`` (search), ``sort``, ``limit``, ``after``."""
    condition = _filter_param()
    with unit_of_work(write=False) as ctx:
        compiled = ctx.snapshot.entity(app, entity)
        query = _list_query(
            compiled,
            condition,
            limit=_limit(),
            after=request.args.get("after") or None,
            deleted=request.args.get("deleted") == "1",
            with_total=not request.args.get("after"),
            count_limit=services().settings["COUNT_LIMIT"],
        )
        page = services().queries.list(ctx, app, entity, query)
        hidden = services().permissions.hidden_fields(ctx.actor, compiled)
        items = [record_to_json(compiled, r, hidden) for r in page.records]
    return jsonify(
        {"data": items, "next": page.next_cursor, "total": page.total, "total_exact": page.total_exact}
    )


@bp.get("/<app>/<entity>/export.csv")
@costly_query
def export_records(app: str, entity: str):
    """The list as CSV (same filter/search/sort parameters; needs the ``export`` action)."""
    condition = _filter_param()
    with unit_of_work(write=False) as ctx:
        compiled = ctx.snapshot.entity(app, entity)
        query = _list_query(compiled, condition)
        rows: list[int] = []
        chunks = list(export_csv(ctx, services().queries, app, entity, query, rows))
        actor = ctx.actor
    log_event_now(
        services().db,
        "data_exported",
        username=actor.username,
        user_id=actor.user_id,
        ip=actor.ip,
        app=app,
        entity=entity,
        rows=sum(rows),
        format="csv",
        selected=False,
        api=True,
    )
    response = Response("\ufeff" + "".join(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{app}-{entity}.csv"'
    return response


def _filter_param():
    raw_filter = request.args.get("filter")
    condition = (
        loads_exact(raw_filter, current_app.config["LOWCODE"]["MAX_JSON_DEPTH"]) if raw_filter else None
    )
    if condition is not None and not isinstance(condition, dict):
        raise BadRequest("filter must be a JSON object in the condition language")
    return condition


@bp.post("/<app>/<entity>")
def create_record(app: str, entity: str):
    """Create a record (child rows included); 201 with the record and its ETag. A JSON list creates many
    (:mod:`lowcode.api.bulk`)."""
    body = json_body()
    if isinstance(body, list):
        return bulk_write("create", app, entity, body)
    with unit_of_work(write=True) as ctx:
        out = _record_json(ctx, app, entity, services().records.create(ctx, app, entity, body))
    response = _with_etag(out, 201)
    response.headers["Location"] = f"/api/data/{app}/{entity}/{out['id']}"
    return response


@bp.patch("/<app>/<entity>")
def update_records(app: str, entity: str):
    """Update many records: a JSON list of ``{id, version, ...changes}`` (:mod:`lowcode.api.bulk`)."""
    return bulk_write("update", app, entity, json_body())


@bp.delete("/<app>/<entity>")
def delete_records(app: str, entity: str):
    """Soft-delete many records: a JSON list of ``{id, version}`` (:mod:`lowcode.api.bulk`)."""
    return bulk_write("delete", app, entity, json_body())


@bp.get("/<app>/<entity>/<int:record_id>")
def get_record(app: str, entity: str, record_id: int):
    """One record with its child rows and ETag."""
    with unit_of_work(write=False) as ctx:
        out = _record_json(ctx, app, entity, services().queries.get(ctx, app, entity, record_id))
    return _with_etag(out)


@bp.route("/<app>/<entity>/<int:record_id>", methods=["PATCH", "PUT"])
def update_record(app: str, entity: str, record_id: int):
    """Change fields; the edited version comes from ``If-Match`` or ``version`` in the body."""
    body = json_body()
    header, in_body = if_match_version(), body_version(body)
    version = header if header is not None else in_body
    with unit_of_work(write=True) as ctx:
        out = _record_json(
            ctx, app, entity, services().records.update(ctx, app, entity, record_id, body, version)
        )
    return _with_etag(out)


@bp.post("/<app>/<entity>/<int:record_id>/transitions/<name>")
def take_transition(app: str, entity: str, record_id: int, name: str):
    """Take a workflow transition; the body holds the fields it requires; If-Match (or ``version``) needed."""
    body = json_body() if request.get_data() else {}
    header, in_body = if_match_version(), body_version(body)
    version = header if header is not None else in_body
    with unit_of_work(write=True) as ctx:
        out = _record_json(
            ctx, app, entity, services().records.transition(ctx, app, entity, record_id, name, body, version)
        )
    return _with_etag(out)


@bp.delete("/<app>/<entity>/<int:record_id>")
def delete_record(app: str, entity: str, record_id: int):
    """Soft-delete (restorable); ``If-Match`` optional but checked when sent."""
    with unit_of_work(write=True) as ctx:
        services().records.delete(ctx, app, entity, record_id, if_match_version())
    return "", 204


@bp.post("/<app>/<entity>/<int:record_id>/restore")
def restore_record(app: str, entity: str, record_id: int):
    """Bring a soft-deleted record back."""
    with unit_of_work(write=True) as ctx:
        services().records.restore(ctx, app, entity, record_id)
        out = _record_json(ctx, app, entity, services().queries.get(ctx, app, entity, record_id))
    return _with_etag(out)


@bp.post("/<app>/<entity>/reconcile")
@costly_query
def reconcile_records(app: str, entity: str):
    """Compare an external system's ``(key, version or checksum)`` list with the records (see
    :mod:`lowcode.runtime.reconcile`): ``{"missing", "extra", "extra_truncated", "differing", "same"}``."""
    with unit_of_work(write=False) as ctx:  # the caller (and a cookie's CSRF token) before the body
        compiled = ctx.snapshot.entity(app, entity)
        services().permissions.authorize(ctx.actor, compiled, "read")
        hidden = services().permissions.hidden_fields(ctx.actor, compiled)
        answer = reconcile(ctx, services().queries, app, entity, json_body(), hidden)
    return jsonify(to_jsonable(answer.as_json()))


@bp.get("/<app>/<entity>/<int:record_id>/history")
def record_history(app: str, entity: str, record_id: int):
    """The audit trail of one record, newest first."""
    with unit_of_work(write=False) as ctx:
        services().queries.get(ctx, app, entity, record_id, deleted=request.args.get("deleted") == "1")
        entries = history(ctx.session, app, entity, record_id)
        hidden = services().permissions.hidden_fields(ctx.actor, ctx.snapshot.entity(app, entity))
        items = [
            to_jsonable(
                {
                    "at": e.at,
                    "version": e.version,
                    "action": e.action,
                    "actor": e.actor_name,
                    "source": e.source,
                    "diff": {k: v for k, v in (e.diff or {}).items() if k not in hidden},
                }
            )
            for e in entries
        ]
    return jsonify({"data": items})
