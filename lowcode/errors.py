"""Domain errors. They carry data and know nothing about HTTP; `lowcode.api.errors` maps them to statuses."""

from __future__ import annotations

from typing import Any


class LowcodeError(Exception):
    """Root of every error the platform raises on purpose.

    :param message: a plain sentence a user can read.
    :param fields: per-field messages (field name -> list of messages), when the error is about fields.
    """

    code = "error"

    def __init__(self, message: str, fields: dict[str, Any] | None = None, **extra: Any):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.extra = extra


class BadRequest(LowcodeError):
    """The request itself is malformed (not JSON, too deep, wrong shape)."""

    code = "bad_request"


class PreconditionRequired(LowcodeError):
    """A conditional request header (If-Match / the edited version) is required but missing."""

    code = "precondition_required"


class PayloadTooLarge(LowcodeError):
    """The request body is over the configured size limit."""

    code = "payload_too_large"


class Unauthenticated(LowcodeError):
    """No valid credentials were presented."""

    code = "unauthenticated"


class LockedOut(LowcodeError):
    """Too many failed sign-ins: the account or address is locked for a while."""

    code = "locked_out"


class PermissionDenied(LowcodeError):
    """The actor may not do this; the message says why."""

    code = "forbidden"


class NotFound(LowcodeError):
    """The thing asked for does not exist (or is not visible to the actor)."""

    code = "not_found"


class ValidationFailed(LowcodeError):
    """Input does not satisfy the definition; `fields` holds the per-field messages."""

    code = "validation_failed"


class ConstraintViolated(ValidationFailed):
    """The database refused a write by one of its constraints (unique, not null, foreign key, check) that
    the checks before the write did not catch - two writers passing the unique check at once, or a
    constraint the definition does not declare. ``fields`` names the field(s) where the database says
    which; ``extra["constraint"]`` is the kind. Nothing was written: the transaction rolls back."""


class WorkflowRefused(LowcodeError):
    """The record's workflow state does not allow this write: no transition leads there from the current
    state, the transition's condition does not hold, the state locks the record or a field, or forbids
    deleting. The message names the state; ``fields`` the fields concerned."""

    code = "workflow_refused"


class NotOffered(LowcodeError):
    """A "create from" asked of a record its offer's condition does not hold on (a draft order, say)."""

    code = "not_offered"


class VersionConflict(LowcodeError):
    """Optimistic concurrency: the record changed since the client read it.

    ``extra["changed"]`` maps each field changed since the client's version to its current value.
    """

    code = "version_conflict"


class LiveChanged(LowcodeError):
    """A sandbox's changes were not published: the live app changed since the sandbox was made and the
    publisher has not confirmed after seeing it. ``extra["changed"]`` lists the definitions changed live."""

    code = "live_changed"


class NotNewer(LowcodeError):
    """A template upgrade to a bundle whose version is not newer than the installed one (the same or older),
    without the caller saying to install it anyway. ``extra``: ``installed`` and ``offered`` versions."""

    code = "not_newer"


class DefinitionInvalid(LowcodeError):
    """A definition document fails its JSON Schema or a semantic check; `fields` maps paths to messages."""

    code = "definition_invalid"


class SchemaChangeRefused(LowcodeError):
    """Publishing would change a table in a way that would lose or corrupt data."""

    code = "schema_change_refused"


class ConditionInvalid(LowcodeError):
    """A condition (filter, record rule, trigger) is malformed or names an unknown field/operator."""

    code = "condition_invalid"


class ExpressionSyntaxError(LowcodeError):
    """A formula/expression cannot be parsed (an authoring mistake)."""

    code = "expression_syntax"


class ExpressionEvaluationError(LowcodeError):
    """A formula/expression failed while running (division by zero, wrong types)."""

    code = "expression_evaluation"


class UnknownType(LowcodeError):
    """A registry was asked for a type it does not hold."""

    code = "unknown_type"


class DuplicateType(LowcodeError):
    """A registry was given a second entry under an existing name."""

    code = "duplicate_type"


class RuleRefused(LowcodeError):
    """A rule refused the write; the message is the rule's message for the user."""

    code = "refused"


class RowBudgetExceeded(RuleRefused):
    """The rules set off by one write looped over or wrote more rows than the row budget allows; the write
    is refused whole. ``extra["row_budget"]`` is the budget."""

    code = "row_budget_exceeded"


class TooManyRows(LowcodeError):
    """A guarded update matched more rows than its caller allows (``extra["max_rows"]``); nothing changed."""

    code = "too_many_rows"


class QueryTooCostly(LowcodeError):
    """A request's query is over a cost limit: its filter or search is too big (refused before it runs), or
    one of its statements ran over the statement budget (stopped by the database). Nothing was changed.
    ``extra["limit"]`` names the setting (``LOWCODE_<NAME>``), ``extra["max"]`` its value."""

    code = "query_too_costly"


class ServerBusy(LowcodeError):
    """Too many costly queries are running (or no database connection came free) for this request to wait
    its turn; nothing was done and the client may try again shortly (``extra["retry_after"]`` seconds)."""

    code = "server_busy"


class BulkFailed(LowcodeError):
    """Some items of an all-or-nothing bulk write failed, so nothing was written. ``failures``: each failing
    item's index in the request with its own error (the API answers them as ``items``)."""

    code = "bulk_failed"

    def __init__(self, message: str, failures: list[tuple[int, LowcodeError]]):
        super().__init__(message)
        self.failures = failures
