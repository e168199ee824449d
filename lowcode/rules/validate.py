"""Publish-time checks of rule definitions: the entity, trigger conditions, every action and expression."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator

from lowcode.definitions.checks import AppDocuments
from lowcode.definitions.names import CONDITION_SCOPE, condition_problems, join
from lowcode.errors import LowcodeError, UnknownType
from lowcode.expressions import compile_expression
from lowcode.rules.actions.base import RuleAction, rule_actions
from lowcode.rules.cron import schedule_errors
from lowcode.rules.names import rule_name_errors

EXPRESSION_KEYS = ("when", "guard", "value")
EXPRESSION_MAPS = ("values", "set", "key", "insert")


def rule_errors(rule: Mapping[str, Any], docs: AppDocuments) -> dict[str, list[str]]:
    """Every problem of one rule in its app (``docs``: the app's definitions as they will be published),
    keyed by ``rule:<name>/<json path>``: the entity, trigger and schedule, each action's options and
    expressions; once those are sound, every name the rule uses (:mod:`lowcode.rules.names`)."""
    prefix = f"rule:{rule['name']}"
    errors: dict[str, list[str]] = {}
    if rule["entity"] not in docs.entities:
        return {f"{prefix}/entity": [f"unknown entity '{rule['entity']}'"]}
    kinds = docs.kinds(rule["entity"])
    trigger = rule.get("trigger") or {}
    for key in ("condition", "old_condition"):
        _check_condition(trigger.get(key), kinds, f"{prefix}/trigger/{key}", errors)
    _check_condition(
        (rule.get("schedule") or {}).get("condition"), kinds, f"{prefix}/schedule/condition", errors
    )
    errors.update(schedule_errors(rule.get("schedule"), f"{prefix}/schedule"))
    field_names = docs.fields(rule["entity"])
    for i, name in enumerate(trigger.get("fields_changed", [])):
        if name not in field_names:
            errors.setdefault(f"{prefix}/trigger/fields_changed/{i}", []).append(f"unknown field '{name}'")
    transition = trigger["transition"].get("field") if isinstance(trigger.get("transition"), dict) else None
    if transition is not None and transition not in field_names:
        errors.setdefault(f"{prefix}/trigger/transition/field", []).append(f"unknown field '{transition}'")
    phase = "schedule" if "schedule" in rule else trigger.get("phase", "after")
    _check_actions(rule["actions"], phase, set(docs.entities), f"{prefix}/actions", errors)
    if not errors:
        errors.update(rule_name_errors(rule, docs))
    return errors


def _check_condition(doc, kinds, path, errors) -> None:
    """A trigger or schedule condition: fields, operators, values, and only ``$user``/``$now``/``$today``."""
    if not doc:
        return
    for where, messages in condition_problems(doc, kinds, CONDITION_SCOPE).items():
        errors.setdefault(join(path, where), []).extend(messages)


def _check_actions(actions: list, phase: str, entity_names: set[str], path: str, errors: dict) -> None:
    for i, action in enumerate(actions):
        here = f"{path}/{i}"
        try:
            plugin = rule_actions.get(action.get("type", ""))
        except UnknownType as exc:
            errors.setdefault(f"{here}/type", []).append(exc.message)
            continue
        if phase not in plugin.phases:
            errors.setdefault(f"{here}/type", []).append(f"'{plugin.type}' cannot run in the {phase} phase")
        for err in options_validator(plugin).iter_errors(action):
            where = "/".join(str(p) for p in err.absolute_path)
            errors.setdefault(f"{here}/{where}".rstrip("/"), []).append(err.message)
        errors.update({f"{here}/{k}": v for k, v in expression_errors(action).items()})
        for message in plugin.check(action, entity_names):
            errors.setdefault(here, []).append(message)
        if isinstance(action.get("actions"), list):
            _check_actions(action["actions"], phase, entity_names, f"{here}/actions", errors)


@functools.cache
def options_validator(plugin: RuleAction) -> Draft202012Validator:
    """The validator of an action's options (its schema plus ``type`` and ``when``), built once per plugin."""
    properties = {
        **plugin.options_schema.get("properties", {}),
        "type": {"const": plugin.type},
        "when": {"type": "string"},
    }
    return Draft202012Validator(
        {**plugin.options_schema, "properties": properties, "additionalProperties": False}
    )


def expression_errors(action: Mapping[str, Any]) -> dict[str, list[str]]:
    """The syntax errors of an action's own expressions (``when``, ``guard``, ``value``, the values of
    ``values``/``set``/``key``/``insert``), by path within the action."""
    errors: dict[str, list[str]] = {}
    texts = [(k, action[k]) for k in EXPRESSION_KEYS if isinstance(action.get(k), str)]
    for key in EXPRESSION_MAPS:
        if isinstance(action.get(key), dict):
            texts += [(f"{key}/{n}", v) for n, v in action[key].items() if isinstance(v, str)]
    for where, text in texts:
        try:
            compile_expression(text)
        except LowcodeError as exc:
            errors.setdefault(where, []).append(exc.message)
    return errors
