"""The scope an action of a rule runs in, found by the publish's own walk (:mod:`lowcode.rules.names`): the
trigger record (``record``, ``old``), ``user``, ``now``, ``today``, the rows of the loops around it and the
names earlier actions bound (``as``, ``into``). The designer checks an action's ``where`` against it and
offers its variables (``$record.warehouse``) as a condition's values."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from lowcode.definitions.checks import AppDocuments
from lowcode.definitions.names import ANY, CONDITION_SCOPE, USER, Shape
from lowcode.errors import LowcodeError
from lowcode.rules.names import ActionCheck, Scope, check_actions, trigger_scope

MAX_VARIABLES = 400
"""Most variables offered for one condition."""


class _ScopeProbe(ActionCheck):
    """A walk of the rule that notes the scope each action starts with (in ``errors``, by the action's
    path) instead of reporting problems."""

    def __init__(self, rule, docs, path, scope, errors):
        super().__init__(rule, docs, path, scope, errors)
        errors[path] = {**scope, "user": USER}

    def add(self, where: str, message: str) -> None:
        """Problems are the publish's business, not the probe's."""


def action_scope(rule: Mapping[str, Any], docs: AppDocuments, at: str) -> Scope:
    """The names the action at ``at`` (``2/actions/0``) runs with; a rule too broken to walk gives the
    trigger's names as far as known."""
    found: dict[str, Any] = {}
    with contextlib.suppress(KeyError, TypeError, AttributeError, LowcodeError):  # noted up to the break
        check_actions(rule, docs, "actions", rule["actions"], trigger_scope(rule, docs), found, _ScopeProbe)
    here = found.get(f"actions/{at}")
    if isinstance(here, dict):
        return here
    return {**CONDITION_SCOPE, "record": ANY, "old": ANY}


def scope_variables(scope: Mapping[str, Shape]) -> list[str]:
    """The condition variables of ``scope``: ``$name.key`` for the keys of records and the user's facts,
    ``$name`` for any other value; records (loop rows, the trigger record) first. Bare trigger-record
    fields are left out (``$record.x`` says the same)."""
    names = sorted(
        (n for n, shape in scope.items() if not shape.field_of),
        key=lambda n: (not scope[n].entity, n != "record", n),
    )
    found: list[str] = []
    for name in names:
        keys = scope[name].keys
        found += [f"${name}"] if keys is None else [f"${name}.{k}" for k in sorted(keys)]
    return found[:MAX_VARIABLES]
