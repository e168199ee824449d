"""Role definitions compiled onto each entity: who may do what, on which rows, with which fields.

Built once per snapshot (:func:`attach_grants`), so a permission check is dictionary lookups plus, at
most, an in-memory condition evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lowcode.conditions import Condition, parse_condition
from lowcode.definitions.names import CONDITION_SCOPE, condition_problems, join
from lowcode.runtime.compiler import CompiledEntity


@dataclass(frozen=True)
class Grant:
    """One grant of one role on one entity."""

    role: str
    entity: str
    actions: frozenset[str]
    record_rule: Condition | None = None
    record_rule_doc: dict[str, Any] | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    """field -> "hidden" | "read_only"."""
    context: Mapping[str, Any] = field(default_factory=dict)
    """ABAC conditions on the request: ip_in (CIDRs), hours, min_level."""
    transitions: frozenset[str] = frozenset()
    """Workflow transitions of the entity this grant lets its holders take."""


@dataclass(frozen=True)
class SensitiveOperation:
    """An operation that needs an explicit grant even when the action itself is granted."""

    name: str
    entity: str
    action: str
    fields: frozenset[str] = frozenset()
    condition: Condition | None = None


@dataclass
class EntityAccess:
    """Everything the permission service needs about one entity of one snapshot."""

    grants: dict[str, list[Grant]] = field(default_factory=dict)
    """role name -> its grants on this entity"""
    admin_roles: set[str] = field(default_factory=set)
    role_operations: dict[str, frozenset[str]] = field(default_factory=dict)
    sensitive: list[SensitiveOperation] = field(default_factory=list)


def attach_grants(
    entities: Mapping[tuple[str, str], CompiledEntity],
    apps: Mapping[str, Mapping[str, Any]],
    roles: Mapping[tuple[str, str], Mapping[str, Any]],
) -> None:
    """Compile every role definition and the apps' sensitive operations onto ``entity.access``."""
    for entity in entities.values():
        entity.access = EntityAccess()
    for (app, role_name), role in sorted(roles.items()):
        app_entities = {name: e for (a, name), e in entities.items() if a == app}
        for entity in app_entities.values():
            entity.access.role_operations[role_name] = frozenset(role.get("operations", []))
            if role.get("admin"):
                entity.access.admin_roles.add(role_name)
        for grant in role.get("grants", []):
            entity = app_entities.get(grant["entity"])
            if entity is None:
                continue  # publishing checks references; a stale role simply grants nothing here
            rule_doc = grant.get("record_rule")
            rule = parse_condition(rule_doc, entity.kinds) if rule_doc else None
            entity.access.grants.setdefault(role_name, []).append(
                Grant(
                    role_name,
                    entity.name,
                    frozenset(grant["actions"]),
                    rule,
                    rule_doc,
                    dict(grant.get("fields", {})),
                    dict(grant.get("context", {})),
                    frozenset(grant.get("transitions", [])),
                )
            )
    for app, app_def in apps.items():
        for op in app_def.get("sensitive_operations", []):
            entity = entities.get((app, op["entity"]))
            if entity is None:
                continue
            cond = parse_condition(op["condition"], entity.kinds) if op.get("condition") else None
            entity.access.sensitive.append(
                SensitiveOperation(
                    op["name"], op["entity"], op["action"], frozenset(op.get("fields", [])), cond
                )
            )


def role_errors(role: Mapping[str, Any], docs: Any) -> dict[str, list[str]]:
    """Cross-document checks of a role (``docs``: the app's
    :class:`~lowcode.definitions.checks.AppDocuments`): granted entities exist, field rules name fields,
    record rules name fields and known ``$user``/``$now``/``$today`` variables, operations are the app's
    sensitive operations."""
    errors: dict[str, list[str]] = {}
    prefix = f"role:{role['name']}"
    operations = {op["name"] for app in docs.of("app").values() for op in app.get("sensitive_operations", [])}
    for i, name in enumerate(role.get("operations", [])):
        if name not in operations:
            errors.setdefault(f"{prefix}/operations/{i}", []).append(f"unknown sensitive operation '{name}'")
    for i, grant in enumerate(role.get("grants", [])):
        path = f"{prefix}/grants/{i}"
        if grant["entity"] not in docs.entities:
            errors.setdefault(f"{path}/entity", []).append(f"unknown entity '{grant['entity']}'")
            continue
        names = docs.fields(grant["entity"])
        for name in grant.get("fields", {}):
            if name not in names:
                errors.setdefault(f"{path}/fields", []).append(f"unknown field '{name}'")
        if grant.get("record_rule"):
            problems = condition_problems(grant["record_rule"], docs.kinds(grant["entity"]), CONDITION_SCOPE)
            for where, messages in problems.items():
                errors.setdefault(join(f"{path}/record_rule", where), []).extend(messages)
    return errors
