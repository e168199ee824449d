"""Actions that tell someone: in-app ``notify``, ``call_webhook`` and ``publish_event``.

All of them only write rows in the rule's transaction - notifications, or outbox events that the
dispatcher (:mod:`lowcode.delivery`) delivers after commit - so a refused write tells nobody anything and
nothing leaves the process before commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from lowcode import notifications
from lowcode.core.jsonutil import to_jsonable
from lowcode.core.numbers import digits_to_int
from lowcode.errors import ExpressionEvaluationError, LowcodeError, RuleRefused
from lowcode.expressions import compile_expression
from lowcode.rules.actions.base import (
    TEMPLATE_PART,
    RuleAction,
    RuleRun,
    evaluate,
    expression_schema,
    message_texts,
    pick_message,
    render,
    values_schema,
)
from lowcode.rules.messages import shown_values
from lowcode.runtime import outbox
from lowcode.webhook_targets import literal_target_problem

KEY = {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,47}$"}
RECIPIENT = {
    "type": "object",
    "minProperties": 1,
    "maxProperties": 1,
    "properties": {
        "user": expression_schema("Expression giving a user id (or a list of them)"),
        "role": {**KEY, "description": "Every user holding this role of the rule's app now"},
        "field": {**KEY, "description": "A user field of the record"},
    },
    "additionalProperties": False,
}
TEMPLATE = {
    "type": "string",
    "maxLength": 2000,
    "description": "Text; each {expression} is replaced by its value",
}
NOTICE = {
    "oneOf": [
        TEMPLATE,
        {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": "^[a-z]{2}([-_][A-Za-z]{2,4})?$"},
            "additionalProperties": TEMPLATE,
        },
    ],
    "description": 'A template, or one per language ({"en": ..., "zh-CN": ...}): each user gets theirs',
    "x-widget": "message",
}
HEADER_NAME = "^[A-Za-z0-9-]{1,64}$"
MAX_USER_ID = 2**31 - 1


def _template_errors(text: Any, where: str) -> list[str]:
    """Syntax errors of the ``{expression}`` parts of a template."""
    errors = []
    for part in (p for t in message_texts(text) for p in TEMPLATE_PART.findall(t)):
        try:
            compile_expression(part)
        except LowcodeError as exc:
            errors.append(f"{where}: {exc.message}")
    return errors


def _expression_errors(values: Mapping[str, Any] | None, where: str) -> list[str]:
    errors = []
    for name, text in (values or {}).items():
        if isinstance(text, str):
            try:
                compile_expression(text)
            except LowcodeError as exc:
                errors.append(f"{where}/{name}: {exc.message}")
    return errors


def payload_values(values: Mapping[str, Any], scope: Mapping[str, Any]) -> dict[str, Any]:
    """Evaluate ``{key: expression}`` into JSON values: whole numbers (ids, counts) stay numbers, decimals
    with a scale keep it as strings (``"120.50"``), dates become ISO 8601."""
    return {name: _json_value(evaluate(expr, scope)) for name, expr in values.items()}


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal) and value.is_finite() and value.as_tuple().exponent >= 0:
        return int(value)
    if isinstance(value, Mapping):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    return to_jsonable(value)


def _record_id(run: RuleRun, scope: Mapping[str, Any]) -> int | None:
    record = scope.get("record") or {}
    return (
        record.get("id")
        if isinstance(record, Mapping) and record.get("id") is not None
        else run.event.record_id
    )


def _by_language(session: Any, users: list[int], options: Mapping[str, Any]) -> dict[str, list[int]]:
    """The recipients grouped by their language (all under "en" when no text is written per language)."""
    if not any(isinstance(options.get(k), Mapping) for k in ("title", "body")):
        return {"en": users} if users else {}
    groups: dict[str, list[int]] = {}
    for user_id, language in notifications.user_languages(session, users).items():
        groups.setdefault(language, []).append(user_id)
    return groups


class NotifyAction(RuleAction):
    """In-app notification to a user (expression), every holder of a role of the app, or a user field of
    the record - e.g. ``{"type": "notify", "to": {"role": "manager"}, "title": "Order {number} confirmed"}``.
    ``to`` may also be a list of such recipients; each user is notified once."""

    type = "notify"
    starter_options = {"to": {"user": "user.id"}, "title": {"en": "Record changed"}}
    options_schema = {
        "type": "object",
        "required": ["to", "title"],
        "properties": {
            "to": {
                "oneOf": [RECIPIENT, {"type": "array", "minItems": 1, "maxItems": 20, "items": RECIPIENT}],
                "x-widget": "recipients",
            },
            "title": {"oneOf": [{**TEMPLATE, "minLength": 1}, NOTICE["oneOf"][1]], "x-widget": "message"},
            "body": NOTICE,
            "link": {**TEMPLATE, "description": "Where the notification leads (default: the record's page)"},
        },
    }

    def check(self, options, entity_names):
        errors = []
        for key in ("title", "body", "link"):
            errors += _template_errors(options.get(key), key)
        for spec in _recipients(options):
            if isinstance(spec.get("user"), str):
                errors += _expression_errors({"user": spec["user"]}, "to")
        return errors

    def check_in_app(self, options, check):
        users = check.docs.user_fields(check.entity)
        listed = isinstance(options["to"], list)
        for j, spec in enumerate(_recipients(options)):
            where = f"to/{j}" if listed else "to"
            if "role" in spec and spec["role"] not in check.docs.of("role"):
                check.add(f"{where}/role", f"unknown role '{spec['role']}' of this app")
            if "field" in spec:
                check.names_field(f"{where}/field", check.entity, spec["field"])
            if "field" in spec and spec["field"] not in users:
                check.add(f"{where}/field", f"'{spec['field']}' is not a user field of {check.entity}")
            check.expression(f"{where}/user", spec.get("user"))
        for key in ("title", "body", "link"):
            check.template(key, options.get(key))

    def run(self, run: RuleRun, options, scope):
        session = run.ctx.session
        wanted: set[int] = set()
        for spec in _recipients(options):
            if "role" in spec:
                wanted.update(notifications.role_holders(session, run.rule.app, spec["role"]))
            elif "field" in spec:
                wanted.update(
                    _user_ids(self._field_value(run, spec["field"], scope), f"to.field {spec['field']}")
                )
            else:
                wanted.update(_user_ids(evaluate(spec["user"], scope), f"to.user '{spec['user']}'"))
        users = notifications.active_users(session, wanted) if wanted else []
        run.count_rows(len(users))
        record_id = _record_id(run, scope)
        default_link = f"/a/{run.rule.app}/{run.rule.entity}/{record_id}" if record_id is not None else ""
        link = render(options["link"], scope) if options.get("link") else default_link
        count = 0
        for language, ids in _by_language(session, users, options).items():
            shown = shown_values(run, scope, language)  # select labels, numbers in their fields' style
            title = render(pick_message(options["title"], language), scope, shown)
            body = render(pick_message(options.get("body", ""), language), scope, shown)
            count += notifications.notify(
                session,
                ids,
                title,
                body,
                link,
                app=run.rule.app,
                entity=run.rule.entity,
                record_id=record_id,
                rule=run.rule.name,
            )
        run.done.append(f"notified {count} user{'' if count == 1 else 's'}")

    @staticmethod
    def _field_value(run: RuleRun, name: str, scope: Mapping[str, Any]) -> Any:
        entity = run.ctx.snapshot.entity(run.rule.app, run.rule.entity)
        cf = entity.fields.get(name)
        if cf is None or not getattr(cf.ftype, "references_user", False):
            raise RuleRefused(
                f"Rule '{run.rule.name}': notify field '{name}' is not a user field of {run.rule.entity}",
                rule=run.rule.name,
            )
        record = scope.get("record") or {}
        return record.get(name)


def _recipients(options: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    to = options.get("to")
    items = to if isinstance(to, list) else [to]
    return [spec for spec in items if isinstance(spec, Mapping)]


def _user_ids(value: Any, source: str) -> list[int]:
    """User ids from an expression value: an id, a list of ids, or a ``user`` mapping; None gives none."""
    items = value if isinstance(value, (list, tuple, set)) else [value]
    ids = []
    for item in items:
        if isinstance(item, Mapping):
            item = item.get("id")
        if item is None:
            continue
        if isinstance(item, Decimal) and item == item.to_integral_value():
            item = int(item)
        elif isinstance(item, str) and digits_to_int(item) is not None:
            item = digits_to_int(item)
        if isinstance(item, bool) or not isinstance(item, int):
            raise ExpressionEvaluationError(f"{source} must give user ids, not {item!r}")
        if 0 < item <= MAX_USER_ID:
            ids.append(item)
    return ids


class CallWebhookAction(RuleAction):
    """Queue an HTTP call (JSON body) delivered by the outbox dispatcher after commit, with retries;
    e.g. ``{"type": "call_webhook", "url": "https://erp.example/hook", "payload": {"order": "number"}}``.
    Without ``payload`` the body is the app, entity, event and the record."""

    type = "call_webhook"
    starter_options = {"url": "https://example.com/hook"}
    options_schema = {
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": {"type": "string", "pattern": "^https?://[^\\s]+$", "maxLength": 2000},
            "method": {"enum": ["POST", "PUT", "PATCH"]},
            "headers": {
                "type": "object",
                "maxProperties": 20,
                "propertyNames": {"pattern": HEADER_NAME},
                "additionalProperties": {**TEMPLATE, "maxLength": 1000},
            },
            "payload": values_schema(),
        },
    }

    def check(self, options, entity_names):
        errors = _expression_errors(options.get("payload"), "payload")
        for name, value in (options.get("headers") or {}).items():
            errors += _template_errors(value, f"headers/{name}")
        return errors

    def check_in_app(self, options, check):
        check.expressions("payload", options.get("payload"))
        for name, value in (options.get("headers") or {}).items():
            check.template(f"headers/{name}", value)
        problem = literal_target_problem(options["url"], check.docs.settings)
        if problem:
            check.add("url", problem)

    def run(self, run: RuleRun, options, scope):
        record_id = _record_id(run, scope)
        if "payload" in options:
            body = payload_values(options["payload"], scope)
        else:
            body = {
                "app": run.rule.app,
                "entity": run.rule.entity,
                "event": run.event.kind,
                "record": to_jsonable({**(scope.get("record") or {}), "id": record_id}),
            }
        headers = {
            name: _header_value(render(value, scope))
            for name, value in (options.get("headers") or {}).items()
        }
        message = {
            "url": options["url"],
            "method": options.get("method", "POST"),
            "headers": headers,
            "body": body,
            "rule": run.rule.name,
        }
        run.count_rows(1)
        outbox.enqueue(run.ctx, run.rule.app, run.rule.entity, record_id, "webhook", message)
        run.done.append(f"queued webhook {options.get('method', 'POST')} {options['url']}")


def _header_value(text: str) -> str:
    """A header value on one line (record values must not inject further headers)."""
    return " ".join(text.split())[:1000]


class PublishEventAction(RuleAction):
    """Queue a named event with a payload for subscribers (delivered after commit), e.g.
    ``{"type": "publish_event", "topic": "sales.order.confirmed", "payload": {"id": "id"}}``."""

    type = "publish_event"
    starter_options = {"topic": "record.changed"}
    options_schema = {
        "type": "object",
        "required": ["topic"],
        "properties": {
            "topic": {"type": "string", "pattern": "^[A-Za-z0-9_.:/-]{1,200}$"},
            "payload": values_schema(),
        },
    }

    def check(self, options, entity_names):
        return _expression_errors(options.get("payload"), "payload")

    def check_in_app(self, options, check):
        check.expressions("payload", options.get("payload"))

    def run(self, run: RuleRun, options, scope):
        data = payload_values(options.get("payload") or {}, scope)
        message = {"topic": options["topic"], "data": data, "rule": run.rule.name}
        run.count_rows(1)
        outbox.enqueue(run.ctx, run.rule.app, run.rule.entity, _record_id(run, scope), "event", message)
        run.done.append(f"published {options['topic']}")
