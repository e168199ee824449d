"""Bulk writes of ``/api/data/<app>/<entity>``: a JSON list POSTed creates many records, PATCH updates many
(``{id, version, ...changes}``), DELETE soft-deletes many (``{id, version}``), all through the record service
(:mod:`lowcode.runtime.bulk`).

``?mode=all`` (the default): all or nothing - 201/200 with ``data``, the records in the items' order, or 422
``bulk_failed`` whose ``items`` name each failing item (``index``, ``status``, ``code``, ``message``,
``fields``) and nothing written. ``?mode=each``: 200 with one result per item (``index``, ``status`` and
``record`` or ``error``); the good ones are kept. At most ``BULK_MAX_ITEMS`` items (413); the body's bytes are
held to ``MAX_BODY_BYTES`` like any request (413); anything but a non-empty list of objects is a 400.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, jsonify, request

from lowcode.api.edge import services, unit_of_work
from lowcode.api.errors import error_body, status_of
from lowcode.api.record_json import record_renderer
from lowcode.auth.security_log import log_denial_now
from lowcode.core.texts import localize
from lowcode.errors import BadRequest, BulkFailed, LowcodeError, PayloadTooLarge, PermissionDenied
from lowcode.runtime.context import Actor

ACTIONS = {"create": "create", "update": "update", "delete": "delete"}
"""The grant each kind of bulk write needs (checked before the items are looked at)."""
OK_STATUS = {"create": 201, "update": 200, "delete": 200}
MODES = {"all": False, "each": True}


def bulk_write(kind: str, app: str, entity: str, body: Any):
    """Run one bulk write of ``kind`` (create, update, delete) and answer it (see the module docstring)."""
    svc = services()
    writers = {
        "create": svc.records.create_many,
        "update": svc.records.update_many,
        "delete": svc.records.delete_many,
    }
    write = writers[kind]
    try:
        with unit_of_work(write=True) as ctx:
            svc.permissions.authorize(ctx.actor, ctx.snapshot.entity(app, entity), ACTIONS[kind])
            each = _mode()
            items = _items(body, current_app.config["LOWCODE"]["BULK_MAX_ITEMS"])
            outcome = write(ctx, app, entity, items, each)
            render = record_renderer(ctx, app, entity)
            records = {i: render(r) if r is not None else None for i, r in outcome.records.items()}
            actor = ctx.actor
    except BulkFailed as exc:
        _log_denials(g.lowcode_ctx.actor, exc.failures)
        body = error_body(exc.code, localize(exc.message), items=[_item_error(i, e) for i, e in exc.failures])
        return jsonify(body), 422
    _log_denials(actor, outcome.failures)
    if not each:
        return jsonify({"data": [records[i] for i in range(len(items))]}), OK_STATUS[kind]
    results: list[dict[str, Any]] = [
        {"index": i, "status": OK_STATUS[kind], "record": record} for i, record in records.items()
    ]
    results += [_item_error(i, e) for i, e in outcome.failures]
    results.sort(key=lambda r: r["index"])
    return jsonify({"data": results, "written": len(records), "failed": len(outcome.failures)}), 200


def _mode() -> bool:
    """Whether ``?mode=each`` asks for per-item results (``all``, the default, is all or nothing)."""
    mode = request.args.get("mode", "all")
    if mode not in MODES:
        raise BadRequest("mode must be 'all' (all or nothing) or 'each' (each item on its own)")
    return MODES[mode]


def _items(body: Any, limit: int) -> list[dict[str, Any]]:
    """The items of a bulk body: a non-empty list of JSON objects, at most ``limit`` of them."""
    if not isinstance(body, list) or not body:
        raise BadRequest("Send a non-empty JSON list of objects")
    if len(body) > limit:
        raise PayloadTooLarge(f"At most {limit} items per request; send the rest in further requests")
    bad = [i for i, item in enumerate(body) if not isinstance(item, dict)]
    if bad:
        raise BadRequest(f"Each item must be a JSON object (item {bad[0]} is not)", items=bad[:20])
    return body


def _item_error(index: int, error: LowcodeError) -> dict[str, Any]:
    """One failing item of the answer."""
    inner = error_body(error.code, localize(error.message), localize(error.fields), **error.extra)["error"]
    return {"index": index, "status": status_of(error), **inner}


def _log_denials(actor: Actor | None, failures: list[tuple[int, LowcodeError]]) -> None:
    """Items refused by permissions are denials like any other: one security event for the request."""
    denied = [(i, e) for i, e in failures if isinstance(e, PermissionDenied)]
    if not denied:
        return
    reason = str(localize(denied[0][1].message))
    log_denial_now(services().db, actor, reason, request, items=[i for i, _ in denied][:100])
