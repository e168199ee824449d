"""The rule-action contract and the registry. Each action is one small class with its own JSON Schema."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from lowcode.core.jsonutil import to_jsonable
from lowcode.errors import RowBudgetExceeded
from lowcode.expressions import compile_expression
from lowcode.fields.base import normalise_label, pick_label
from lowcode.registry import Registry
from lowcode.runtime.context import WriteContext

TEMPLATE_PART = re.compile(r"\{([^{}]+)\}")


@dataclass
class RuleRun:
    """One run of one rule: the system context it writes with, the services, and what it did."""

    ctx: WriteContext
    engine: Any
    """The RuleEngine (for nested actions and the record service)."""
    rule: Any
    event: Any
    done: list[str] = field(default_factory=list)

    @property
    def rows_left(self) -> int:
        """How many more rows the rules of this write may loop over or write."""
        return max(self.engine.row_budget - self.ctx.rows.rows, 0)

    def count_rows(self, count: int) -> None:
        """Add rows this run loops over or writes to its write's tally.

        :raises RowBudgetExceeded: when the tally goes over the engine's row budget."""
        self.ctx.rows.rows += count
        budget = self.engine.row_budget
        if self.ctx.rows.rows > budget:
            raise RowBudgetExceeded(
                f"Rule '{self.rule.name}': more than {budget} rows in one write (rows looped over or "
                "written by the rules it sets off); nothing was written",
                rule=self.rule.name,
                row_budget=budget,
            )

    @property
    def records(self):
        """The record service every action writes through."""
        return self.engine.records

    def variables(self, scope: Mapping[str, Any]) -> dict[str, Any]:
        """Condition-language variables: ``$record.x``, ``$line.x``, ``$user.id``, ``$now``..."""
        return {**scope, "user": self.ctx.actor.variables if scope.get("user") is None else scope["user"]}


class RuleAction:
    """Base class of rule actions."""

    type: ClassVar[str] = ""
    options_schema: ClassVar[dict[str, Any]] = {"type": "object"}
    """JSON Schema of the action object (``type`` and ``when`` are always allowed). ``x-widget`` annotations
    tell the designer's property panel what a property names (``entity``, ``child_table``, ``expression``,
    ``message``); the validators ignore them."""
    starter_options: ClassVar[dict[str, Any]] = {}
    """Options a new action starts with in the designer (its required options the designer cannot choose
    from the app's definitions), so that the action is valid as soon as it is added."""
    phases: ClassVar[frozenset[str]] = frozenset({"before", "after", "schedule"})
    """Phases in which the action may be used."""
    updates_matched: ClassVar[bool] = False
    """Its :meth:`locks` are the rows it updates itself (:meth:`loop_reads` then names them)."""

    def check(self, options: Mapping[str, Any], entity_names: set[str]) -> list[str]:
        """Publish-time checks beyond the schema (e.g. the target entity exists). Returns messages."""
        target = options.get("entity")
        return [f"unknown entity '{target}'"] if target and target not in entity_names else []

    def check_in_app(self, options: Mapping[str, Any], check: Any) -> None:
        """Publish-time checks against the app and the deployment, through ``check`` (a
        :class:`lowcode.rules.names.ActionCheck`: the scope the action runs in, the app's definitions as
        published, the settings): report every name the action uses that will not resolve, and bind what
        it names for the actions after it. Called once the options fit the schema."""

    def run(self, run: RuleRun, options: Mapping[str, Any], scope: dict[str, Any]) -> None:
        """Do the action. May raise RuleRefused."""
        raise NotImplementedError

    def locks(self, plan: Any, options: Mapping[str, Any], scope: Mapping[str, Any]) -> Iterable[Any]:
        """The rows this action will lock when run in ``scope``, as ``LockTarget`` s, as far as they can be
        known before a loop runs (see :mod:`lowcode.rules.lockahead`; ``plan`` is its ``LockPlan``)."""
        return ()

    def loop_reads(self, plan: Any, options: Mapping[str, Any], scope: Mapping[str, Any]) -> Iterable[Any]:
        """The rows this action will read or update by a condition of its own when run in ``scope``, as
        ``(updates, LockTarget)`` pairs, as far as they can be known before a loop runs: the loop reads
        them for all its lines at once (:func:`lowcode.rules.lockahead.loop_rows`)."""
        if self.updates_matched:
            return ((True, target) for target in self.locks(plan, options, scope))
        return ()

    def link_values(
        self, run: RuleRun, options: Mapping[str, Any], scope: Mapping[str, Any]
    ) -> Iterable[Any]:
        """The ``(target entity, id)`` link values the records this action writes in ``scope`` will hold, as
        far as they are known before a loop runs (their link checks are then made in one query)."""
        return ()


rule_actions: Registry[RuleAction] = Registry("rule action")


def evaluate(text: Any, scope: Mapping[str, Any]) -> Any:
    """Evaluate an expression string in a scope; non-strings are literal values."""
    return compile_expression(text).evaluate(scope) if isinstance(text, str) else text


def evaluate_values(values: Mapping[str, Any], scope: Mapping[str, Any]) -> dict[str, Any]:
    """Evaluate every expression of a ``{field: expression}`` mapping into JSON-safe values."""
    return {name: to_jsonable(evaluate(expr, scope)) for name, expr in values.items()}


MESSAGE = {
    "oneOf": [
        {"type": "string", "minLength": 1, "maxLength": 500},
        {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": "^[a-z]{2}([-_][A-Za-z]{2,4})?$"},
            "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 500},
        },
    ],
    "description": 'A message template, or one per language like labels: {"en": ..., "zh-CN": ...}',
    "x-widget": "message",
}
"""Schema of a rule message (``refuse``'s ``message``, ``refuse_message``, ``missing_message``)."""


def message_texts(message: Any) -> list[str]:
    """Every template of a message: the string, or each language's of a ``{en, zh-CN}`` object."""
    if isinstance(message, str):
        return [message]
    return [t for t in message.values() if isinstance(t, str)] if isinstance(message, Mapping) else []


def message_languages(message: Any) -> list[str]:
    """The languages a message is written in (none named for a plain string)."""
    return list(message) if isinstance(message, Mapping) else []


def pick_message(message: str | Mapping[str, str], language: str) -> str:
    """The template of ``message`` in ``language`` (``zh_CN`` or ``zh-CN``), falling back to English."""
    return message if isinstance(message, str) else pick_label(normalise_label(message, ""), language, "")


Show = Callable[[str, Any], "str | None"]
"""Text for a template part's value (``(part, value)`` -> text, None: the plain value)."""


def render(template: str, scope: Mapping[str, Any], show: Show | None = None) -> str:
    """A message template: each ``{expression}`` is replaced by its value (``show`` may give its text)."""

    def part(match: re.Match) -> str:
        value = compile_expression(match.group(1)).evaluate(scope)
        text = show(match.group(1), value) if show is not None else None
        if text is not None:
            return text
        value = to_jsonable(value)
        return "" if value is None else str(value)

    return TEMPLATE_PART.sub(part, template)


def expression_schema(description: str = "") -> dict[str, Any]:
    """Schema of an expression-or-literal value."""
    return {
        "type": ["string", "number", "boolean", "null"],
        "description": description,
        "x-widget": "expression",
    }


def values_schema(keys: str = "") -> dict[str, Any]:
    """Schema of ``{key: expression}``; ``keys="fields"`` says the keys are fields of the action's target
    entity (the designer offers them as a choice; a payload's keys stay free text)."""
    schema: dict[str, Any] = {"type": "object", "additionalProperties": expression_schema()}
    return {**schema, "x-keys": keys} if keys else schema
