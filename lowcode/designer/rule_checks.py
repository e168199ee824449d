"""What the rule designer checks, with the publish's own code (:mod:`lowcode.rules.validate`).

- :func:`save_errors`: what refuses a change outright (nothing saved, a 422 with each error at its JSON path):
  an unknown action type, an action in a phase it cannot run in, options that do not fit the action's JSON
  Schema, an expression that does not parse. A loop without nested actions yet is a draft's normal state
  (reported by the publish, not refused here).
- :func:`publish_problems`: everything the publish would report of the rule in its app as the designer has it
  (names that do not resolve, a condition on an unknown field...), shown on the page, by path.
- :func:`expression_check`: the live check of one expression of an action's panel, as the publish would
  judge it where it stands in the rule (the scope names of its place: loop rows, ``as`` names).
- :func:`with_draft_rule`: a snapshot whose rulebook holds the draft in place of the published rule.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from lowcode.definitions.checks import AppDocuments
from lowcode.errors import BadRequest, LowcodeError, UnknownType
from lowcode.expressions import compile_expression
from lowcode.rules.actions.base import rule_actions
from lowcode.rules.model import Rulebook, compile_rule
from lowcode.rules.validate import expression_errors, options_validator, rule_errors
from lowcode.runtime.snapshot import Snapshot

NESTED_EMPTY = ("should be non-empty", "is too short")


def _relative(name: str, errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Errors keyed ``rule:<name>/<path>`` as ``<path>``."""
    head = f"rule:{name}/"
    return {(k[len(head) :] if k.startswith(head) else k): list(v) for k, v in errors.items()}


def save_errors(rule: Mapping[str, Any]) -> dict[str, list[str]]:
    """The errors that refuse a rule draft, by path (``actions/1/values/total``): the structure of its
    actions (type, phase, options schema, expression syntax); names are left to :func:`publish_problems`."""
    phase = "schedule" if "schedule" in rule else (rule.get("trigger") or {}).get("phase", "after")
    errors: dict[str, list[str]] = {}
    _walk(rule.get("actions") or [], phase, "actions", errors)
    return errors


def _walk(actions: list, phase: str, path: str, errors: dict[str, list[str]]) -> None:
    for i, action in enumerate(actions):
        here = f"{path}/{i}"
        if not isinstance(action, dict):
            errors.setdefault(here, []).append("an action is an object with a type")
            continue
        try:
            plugin = rule_actions.get(action.get("type", ""))
        except UnknownType as exc:
            errors.setdefault(f"{here}/type", []).append(exc.message)
            continue
        if phase not in plugin.phases:
            errors.setdefault(f"{here}/type", []).append(f"'{plugin.type}' cannot run in the {phase} phase")
        for err in options_validator(plugin).iter_errors(action):
            where = "/".join(str(p) for p in err.absolute_path)
            if where == "actions" and err.validator == "minItems":
                continue  # a loop still to be filled
            errors.setdefault(f"{here}/{where}".rstrip("/"), []).append(err.message)
        for key, messages in expression_errors(action).items():
            errors.setdefault(f"{here}/{key}", []).extend(messages)
        if isinstance(action.get("actions"), list):
            _walk(action["actions"], phase, f"{here}/actions", errors)


def publish_problems(
    rule: Mapping[str, Any], docs: Mapping[str, Mapping[str, Any]], settings: Mapping[str, Any] | None = None
) -> dict[str, list[str]]:
    """What publishing the app with this rule draft would report of the rule, by path within the rule."""
    if not isinstance(rule.get("actions"), list) or not rule["actions"]:
        return {"actions": ["a rule needs at least one action"]}
    try:
        return _relative(rule["name"], rule_errors(rule, AppDocuments(docs, settings)))
    except (KeyError, TypeError, LowcodeError) as exc:  # a draft too broken for the name checks
        return {"": [str(getattr(exc, "message", exc))]}


def expression_check(
    rule: Mapping[str, Any], docs: Mapping[str, Mapping[str, Any]], where: str, text: str
) -> tuple[list[str], list[str]]:
    """(problems, names read) of the expression ``text`` at ``where`` (``actions/0/values/total``) of a rule
    draft holding it: its syntax, then what the publish reports at that path."""
    text = (text or "").strip()
    if not text:
        return [], []
    try:
        names = sorted(compile_expression(text).names)
    except LowcodeError as exc:
        return [exc.message], []
    problems = save_errors(rule) or publish_problems(rule, docs)
    found = [m for path, messages in problems.items() if path == where for m in messages]
    return found, names


def with_draft_rule(snapshot: Snapshot, app: str, rule: Mapping[str, Any]) -> Snapshot:
    """A copy of ``snapshot`` whose rulebook has the draft ``rule`` in place of the published one, compiled
    against the published entity (this request only). :raises BadRequest: the entity is not published."""
    entity = snapshot.entities.get((app, rule["entity"]))
    if entity is None or entity.is_child:
        raise BadRequest(f"Table '{rule['entity']}' is not published yet: publish it to try its rules")
    compiled = compile_rule(app, rule, entity, version=0)
    book = snapshot.rulebook
    by_trigger = {
        key: [r for r in rules if not (r.app == app and r.name == compiled.name)]
        for key, rules in book.by_trigger.items()
    }
    trial = Rulebook(
        by_trigger=by_trigger,
        scheduled=[r for r in book.scheduled if not (r.app == app and r.name == compiled.name)],
        all={**book.all, (app, compiled.name): compiled},
    )
    return dataclasses.replace(snapshot, rulebook=trial)
