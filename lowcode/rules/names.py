"""Publish-time name checks of a rule: every name its expressions, templates, conditions and actions use
must resolve in the app's definitions as they will be after the publish (:mod:`lowcode.definitions.checks`).

The actions are walked in order with the scope they will run with, as the engine builds it
(:meth:`lowcode.rules.engine.RuleEngine.scope`): the trigger record's fields bare and as ``record`` and
``old``, ``user``, ``now`` and ``today``; a loop adds its row (``line``/``item`` or its ``as``) and
``for_each_child`` the ``parent``; ``create_record`` with ``as`` names the created record for the actions
after it. Each action declares what it uses in :meth:`RuleAction.check_in_app` through an
:class:`ActionCheck`, which records problems at JSON paths below the action's
(``rule:reserve/actions/2/set/reserved``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from lowcode.definitions.checks import AppDocuments
from lowcode.definitions.names import (
    ANY,
    USER,
    Shape,
    condition_problems,
    expression_problems,
    field_shapes,
    join,
)
from lowcode.fields.base import SYSTEM_NAMES
from lowcode.rules.actions.base import TEMPLATE_PART, message_texts, rule_actions

Scope = dict[str, Shape]


class ActionCheck:
    """The check of one action: its JSON ``path``, the ``scope`` it runs in (shared with the actions after
    it, which see what it binds), and helpers that record each problem at ``path/<where>``."""

    def __init__(self, rule: Mapping[str, Any], docs: AppDocuments, path: str, scope: Scope, errors: dict):
        self.rule = rule
        self.docs = docs
        self.path = path
        self.scope = scope
        self.errors = errors

    @property
    def entity(self) -> str:
        """The rule's entity (the trigger record's)."""
        return self.rule["entity"]

    def add(self, where: str, message: str) -> None:
        """Record a problem at ``path/where``."""
        known = self.errors.setdefault(join(self.path, where), [])
        if message not in known:
            known.append(message)

    def expression(self, where: str, text: Any, scope: Mapping[str, Shape] | None = None) -> None:
        """An expression evaluated in ``scope`` (default: the action's)."""
        for problem in expression_problems(text, self.scope if scope is None else scope):
            self.add(where, problem)

    def expressions(
        self, where: str, values: Mapping[str, Any] | None, scope: Mapping[str, Shape] | None = None
    ) -> None:
        """A ``{key: expression}`` mapping; each problem at ``where/key``."""
        for key, text in (values or {}).items():
            self.expression(f"{where}/{key}", text, scope)

    def template(self, where: str, text: Any, scope: Mapping[str, Shape] | None = None) -> None:
        """A message template: each ``{expression}`` part evaluated in ``scope``."""
        for part in (p for t in message_texts(text) for p in TEMPLATE_PART.findall(t)):
            for problem in expression_problems(part, self.scope if scope is None else scope):
                self.add(where, f"{{{part}}}: {problem}")

    def condition(self, where: str, doc: Any, entity: str) -> None:
        """A condition over ``entity``'s fields whose variables come from the action's scope."""
        variables = {**self.scope, "user": USER}
        for path, messages in condition_problems(doc, self.docs.kinds(entity), variables).items():
            for message in messages:
                self.add(join(where, path), message)

    def fields(
        self, where: str, names: Iterable[str], allowed: set[str], what: str, entity: str = ""
    ) -> None:
        """Each of ``names`` (fields of ``entity``) must be in ``allowed`` (``what``: "a writable field of
        order" in messages)."""
        for name in names:
            if name not in allowed:
                self.add(f"{where}/{name}", f"'{name}' is not {what}")

    def names_field(self, where: str, entity: str, name: str) -> None:
        """The option at ``where`` names field ``name`` of ``entity``. Nothing to check here (the action
        reports a wrong one in its own words); the "used by" search of the designer records it."""

    def writable(self, entity: str) -> set[str]:
        """Fields of ``entity`` a rule may write: stored, not computed."""
        return self.docs.writable(entity)

    def row_scope(self, name: str, shape: Shape, **more: Shape) -> Scope:
        """A copy of the scope with ``name`` (and ``more``) bound: the scope of a loop's iterations."""
        return {**self.scope, **more, name: shape}

    def bind(self, name: str, shape: Shape) -> None:
        """Bind ``name`` for the actions after this one (``create_record``'s ``as``)."""
        self.scope[name] = shape

    def actions(self, where: str, actions: Any, scope: Scope) -> None:
        """Nested actions, run in ``scope``."""
        if isinstance(actions, list):
            path = join(self.path, where)
            check_actions(self.rule, self.docs, path, actions, scope, self.errors, type(self))


def trigger_scope(rule: Mapping[str, Any], docs: AppDocuments) -> Scope:
    """The names a rule's actions start with. A scheduled rule without a condition runs once with no record
    (``record`` holds only a null ``id``)."""
    fields = docs.fields(rule["entity"]) | SYSTEM_NAMES
    record = docs.record(rule["entity"])
    bare: Scope = field_shapes(rule["entity"], fields)
    old = record
    if "schedule" in rule and not rule["schedule"].get("condition"):
        bare, old = {"id": ANY}, ANY
        record = Shape(frozenset({"id"}), "no record: a schedule without a condition runs once")
    return {**bare, "record": record, "old": old, "user": USER, "now": ANY, "today": ANY}


def rule_name_errors(rule: Mapping[str, Any], docs: AppDocuments) -> dict[str, list[str]]:
    """Every name of ``rule`` that does not resolve, keyed by JSON path (the rule's structure must be valid:
    schema and action options checked first)."""
    errors: dict[str, list[str]] = {}
    check_actions(
        rule, docs, f"rule:{rule['name']}/actions", rule["actions"], trigger_scope(rule, docs), errors
    )
    return errors


def check_actions(
    rule, docs: AppDocuments, path: str, actions: list, scope: Scope, errors, check_class=ActionCheck
) -> None:
    """Check actions in order: each one's ``when`` and what its plugin declares (through ``check_class``, an
    :class:`ActionCheck` or a subclass that collects something else from the same walk)."""
    for i, action in enumerate(actions):
        check = check_class(rule, docs, f"{path}/{i}", scope, errors)
        check.expression("when", action.get("when"))
        rule_actions.get(action["type"]).check_in_app(action, check)
