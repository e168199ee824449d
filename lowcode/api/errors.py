"""One error shape for the API: ``{"error": {"code", "message", "fields", ...}}`` with the right status."""

from __future__ import annotations

from flask import Flask, jsonify, request
from sqlalchemy.exc import DBAPIError, IntegrityError
from werkzeug.exceptions import HTTPException

from lowcode import errors as e
from lowcode.core.budget import is_over_budget
from lowcode.core.integrity import parse_violation
from lowcode.core.jsonutil import to_jsonable
from lowcode.core.texts import localize
from lowcode.query_costs import log_refusal

STATUS: dict[type[e.LowcodeError], int] = {
    e.BadRequest: 400,
    e.ConditionInvalid: 400,
    e.UnknownType: 400,
    e.Unauthenticated: 401,
    e.PermissionDenied: 403,
    e.LockedOut: 429,
    e.NotFound: 404,
    e.VersionConflict: 409,
    e.WorkflowRefused: 409,
    e.NotOffered: 409,
    e.SchemaChangeRefused: 409,
    e.LiveChanged: 409,
    e.NotNewer: 409,
    e.PayloadTooLarge: 413,
    e.ValidationFailed: 422,
    e.DefinitionInvalid: 422,
    e.RuleRefused: 422,
    e.TooManyRows: 422,
    e.QueryTooCostly: 422,
    e.ExpressionSyntaxError: 422,
    e.ExpressionEvaluationError: 422,
    e.PreconditionRequired: 428,
    e.ServerBusy: 503,
}

KIND_NAMES = {
    "unique": "a unique constraint",
    "not_null": "a value is required",
    "foreign_key": "a foreign key",
    "check": "a check constraint",
    "exclusion": "an exclusion constraint",
    "integrity": "an integrity constraint",
}


def status_of(error: e.LowcodeError) -> int:
    """HTTP status of a domain error (the most specific class wins)."""
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def error_body(code: str, message: str, fields: dict | None = None, **extra) -> dict:
    """The JSON error document."""
    return {
        "error": {"code": code, "message": message, "fields": to_jsonable(fields or {}), **to_jsonable(extra)}
    }


NUMERIC_OUT_OF_RANGE = "22003"
"""PostgreSQL's SQLSTATE for a number its column type cannot hold (SQLite has no such limit)."""


def register_error_handlers(app: Flask) -> None:
    """JSON errors for API paths; pages get their own HTML handlers."""

    @app.errorhandler(e.LowcodeError)
    def _domain(error: e.LowcodeError):
        status = status_of(error)
        if isinstance(error, e.PermissionDenied):
            _audit_denial(app, error)
        if isinstance(error, e.QueryTooCostly | e.ServerBusy):
            log_refusal(error)
        headers = {"Retry-After": str(error.extra["retry_after"])} if "retry_after" in error.extra else {}
        if not request.path.startswith("/api/"):
            from lowcode.pages.errors import render_error_page

            page = render_error_page(error, status)
            return (*page, headers) if headers else page
        body = error_body(error.code, localize(error.message), localize(error.fields), **error.extra)
        return jsonify(body), status, headers

    @app.errorhandler(DBAPIError)
    def _database(error: DBAPIError):
        """Concurrency failures the database reports (deadlock, serialization, lock timeout) are a 409
        the client can retry - the transaction was rolled back and nothing was written. A statement stopped
        by its budget outside ``Database.read``/``write`` (which map it themselves) is the same 422 as there;
        a number beyond its column (a system table's 32-bit id asked for in a URL) is a 422 too."""
        if is_over_budget(error):
            return _domain(
                e.QueryTooCostly("A statement ran over its budget and was stopped; nothing was changed.")
            )
        if getattr(error.orig, "sqlstate", None) == NUMERIC_OUT_OF_RANGE:  # e.g. an id beyond a 32-bit key
            return _domain(
                e.ValidationFailed("A number in the request is out of range; nothing was changed.")
            )
        if not _is_concurrency_failure(error):
            raise error
        body = error_body(
            "concurrent_update", "A concurrent change got in the way; nothing was written. Try again."
        )
        if not request.path.startswith("/api/"):
            from lowcode.pages.errors import render_error_page

            return render_error_page(e.LowcodeError(body["error"]["message"]), 409)
        return jsonify(body), 409

    @app.errorhandler(IntegrityError)
    def _integrity(error: IntegrityError):
        """The last resort for a constraint the write path could not place on a field (a system table,
        SQLite's anonymous foreign key at commit): a 409, never a 500. The database's own text is not
        shown - it can hold another record's values."""
        kind = parse_violation(error).kind
        message = f"The database refused the change ({KIND_NAMES.get(kind, kind)}); nothing was written."
        if not request.path.startswith("/api/"):
            from lowcode.pages.errors import render_error_page

            return render_error_page(e.LowcodeError(message), 409)
        return jsonify(error_body("integrity_error", message, constraint=kind)), 409

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if not request.path.startswith("/api/"):
            return error
        code = (error.name or "error").lower().replace(" ", "_")
        return jsonify(error_body(code, error.description or error.name)), error.code


def _audit_denial(app: Flask, error: e.PermissionDenied) -> None:
    """Every denial is a security event, written in its own transaction (the request rolled back)."""
    from flask import g

    from lowcode.auth.security_log import log_denial_now

    ctx = g.get("lowcode_ctx")
    actor = ctx.actor if ctx is not None else None
    log_denial_now(app.extensions["lowcode"].db, actor, error.message, request)


CONCURRENCY_SQLSTATES = {"40P01", "40001", "55P03"}  # deadlock, serialization failure, lock not available


def _is_concurrency_failure(error: DBAPIError) -> bool:
    code = getattr(error.orig, "sqlstate", None) or getattr(
        getattr(error.orig, "diag", None), "sqlstate", None
    )
    return code in CONCURRENCY_SQLSTATES or "database is locked" in str(error.orig)
