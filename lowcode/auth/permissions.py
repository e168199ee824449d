"""The one permission service: every page, API route, list query and write asks it.

Administrators (and the system) may do anything. Everyone else may do what the roles they hold in the
entity's app grant - nothing without a role (least privilege). A grant names actions, optionally a record
rule (a condition rows must satisfy), field rules (hidden / read-only) and context conditions (client IP
ranges, working hours, user level). Sensitive operations of an app need an explicit grant on top.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from lowcode.auth.grants import EntityAccess, Grant
from lowcode.core.texts import Text
from lowcode.errors import PermissionDenied
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import Actor

ACTIONS = ("read", "create", "update", "delete", "export", "import", "approve", "configure")
ALL_ACTIONS = frozenset(ACTIONS)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def context_failure(grant: Grant, actor: Actor, now: dt.datetime) -> str | None:
    """Why a grant's context conditions do not hold for this request (None when they hold)."""
    ctx = grant.context
    if "ip_in" in ctx:
        try:
            address = ipaddress.ip_address(actor.ip)
        except ValueError:
            return f"role '{grant.role}' only allows known addresses (request address {actor.ip!r} unknown)"
        if not any(address in ipaddress.ip_network(net, strict=False) for net in ctx["ip_in"]):
            return f"role '{grant.role}' only allows requests from {', '.join(ctx['ip_in'])}"
    if "hours" in ctx:
        hours = ctx["hours"]
        local = now.astimezone(ZoneInfo(hours.get("timezone", "UTC")))
        days = hours.get("days") or list(range(1, 8))
        if local.isoweekday() not in days or not hours["from"] <= local.strftime("%H:%M") < hours["to"]:
            return f"role '{grant.role}' only allows {hours['from']}-{hours['to']} on days {days}"
    if "min_level" in ctx and int(actor.attributes.get("level") or 0) < ctx["min_level"]:
        return f"role '{grant.role}' needs user level {ctx['min_level']} or higher"
    return None


class PermissionService:
    """Answers "may this actor do this action on this entity (and record)?" and shapes reads."""

    def __init__(self, clock: Callable[[], dt.datetime] = _utcnow):
        self.clock = clock

    # -- grants --------------------------------------------------------------------------------
    def _access(self, entity: CompiledEntity) -> EntityAccess:
        return entity.access if entity.access is not None else EntityAccess()

    def is_app_admin(self, actor: Actor, entity: CompiledEntity) -> bool:
        """Administrators and holders of one of the entity's app's admin roles (every action)."""
        return actor.is_admin or any(
            r in self._access(entity).admin_roles for r in actor.roles.get(entity.app, ())
        )

    def grants(self, actor: Actor, entity: CompiledEntity, action: str) -> list[Grant]:
        """The actor's grants of ``action`` on the entity whose context conditions hold now.

        :raises PermissionDenied: when no role grants the action, or only grants whose context fails.
        """
        if action not in ALL_ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        if self.is_app_admin(actor, entity):
            return [Grant("admin", entity.name, ALL_ACTIONS)]
        access = self._access(entity)
        held = [
            g
            for r in actor.roles.get(entity.app, ())
            for g in access.grants.get(r, ())
            if action in g.actions
        ]
        if not held:
            raise PermissionDenied(
                Text(
                    "{user} has no role that grants '{action}' on {app}.{entity}",
                    user=actor.username,
                    action=action,
                    app=entity.app,
                    entity=entity.name,
                )
            )
        return self._in_context(actor, held, f"'{action}' on {entity.app}.{entity.name}")

    def _in_context(self, actor: Actor, held: list[Grant], what: str) -> list[Grant]:
        now = self.clock()
        failures = [context_failure(g, actor, now) for g in held]
        usable = [g for g, why in zip(held, failures, strict=True) if why is None]
        if not usable:
            raise PermissionDenied(f"{what} refused: {'; '.join(failures)}")
        return usable

    def transition_grants(self, actor: Actor, entity: CompiledEntity, name: str) -> list[Grant]:
        """The actor's grants of the workflow transition ``name`` whose context conditions hold now
        (administrators and the system may take every declared transition).

        :raises PermissionDenied: when no role grants it.
        """
        if self.is_app_admin(actor, entity):
            return [Grant("admin", entity.name, ALL_ACTIONS, transitions=frozenset([name]))]
        held = [
            g
            for r in actor.roles.get(entity.app, ())
            for g in self._access(entity).grants.get(r, ())
            if name in g.transitions
        ]
        if not held:
            raise PermissionDenied(
                Text(
                    "{user} has no role that grants the transition '{name}' on {app}.{entity}",
                    user=actor.username,
                    name=name,
                    app=entity.app,
                    entity=entity.name,
                )
            )
        return self._in_context(actor, held, f"the transition '{name}' on {entity.app}.{entity.name}")

    def authorize_transition(
        self, actor: Actor, entity: CompiledEntity, name: str, record: dict[str, Any]
    ) -> None:
        """The actor may take the transition ``name`` on ``record`` (within a granting role's record rule).

        :raises PermissionDenied:
        """
        if not self._record_allowed(actor, self.transition_grants(actor, entity, name), record):
            raise PermissionDenied(_outside(entity, name, record.get("id")))

    def check_transition_write(
        self, actor: Actor, entity: CompiledEntity, name: str, before: dict[str, Any], after: dict[str, Any]
    ) -> None:
        """The state a transition produces must stay within a granting role's record rule, and any
        sensitive update operation it amounts to needs its grant. :raises PermissionDenied:"""
        changed = {k for k, v in after.items() if before.get(k) != v}
        if not self._record_allowed(actor, self.transition_grants(actor, entity, name), after):
            raise PermissionDenied(_outside(entity, name))
        self._check_sensitive(actor, entity, "update", changed, after)

    # -- checks ----------------------------------------------------------------------------------
    def authorize(
        self, actor: Actor, entity: CompiledEntity, action: str, record: dict[str, Any] | None = None
    ) -> None:
        """Return if allowed (the record, when given, must satisfy a record rule of a granting role).

        :raises PermissionDenied: with a plain reason.
        """
        usable = self.grants(actor, entity, action)
        if record is not None and not self._record_allowed(actor, usable, record):
            raise PermissionDenied(_outside(entity, action, record.get("id")))

    def check_write(
        self,
        actor: Actor,
        entity: CompiledEntity,
        action: str,
        before: dict[str, Any] | None,
        after: dict[str, Any],
        sent: frozenset[str] = frozenset(),
    ) -> None:
        """The state a write produces must stay within the actor's record rules, leave read-only fields
        alone, and have any sensitive operation it amounts to granted explicitly. Field restrictions
        apply to what the actor ``sent`` and changed (defaults and rule actions are not the actor's).

        :raises PermissionDenied:
        """
        usable = self.grants(actor, entity, action)
        changed = {k for k in sent if before is None or (before or {}).get(k) != after.get(k)}
        if not self._record_allowed(actor, usable, after):
            raise PermissionDenied(_outside(entity, action))
        locked = self.read_only_fields(actor, entity) & changed
        if locked:
            raise PermissionDenied(
                Text(
                    "you may not change {fields} of {entity}",
                    fields=", ".join(sorted(locked)),
                    entity=entity.name,
                )
            )
        self._check_sensitive(actor, entity, action, changed, after)

    def _check_sensitive(self, actor, entity, action, changed: set[str], after: dict[str, Any]) -> None:
        if self.is_app_admin(actor, entity):
            return
        access = self._access(entity)
        granted = {op for r in actor.roles.get(entity.app, ()) for op in access.role_operations.get(r, ())}
        for op in access.sensitive:
            if op.action != action or op.name in granted:
                continue
            if op.fields and not (op.fields & changed):
                continue
            if op.condition is not None and not op.condition.matches(after, self._variables(actor)):
                continue
            raise PermissionDenied(
                Text("'{name}' is a sensitive operation: it needs an explicit grant", name=op.name)
            )

    def authorize_operation(self, actor: Actor, entity: CompiledEntity, action: str) -> None:
        """Check an action that is not a record write (e.g. export) including sensitive operations on it."""
        self.grants(actor, entity, action)
        self._check_sensitive(actor, entity, action, set(), {})

    def granted_to_any_role(self, entity: CompiledEntity, action: str) -> bool:
        """Whether some role of the entity's app grants ``action`` on it (administrator roles, which may do
        anything, aside): an entity no role may create is maintained by the system (its rules)."""
        return any(action in g.actions for grants in self._access(entity).grants.values() for g in grants)

    def may_configure(self, actor: Actor, entity: CompiledEntity) -> bool:
        """Whether the actor may configure the entity's app (administrators and the app's admin roles, or a
        ``configure`` grant): what rule runs and dry runs are shown to."""
        try:
            self.grants(actor, entity, "configure")
        except PermissionDenied:
            return False
        return True

    def authorize_platform(self, actor: Actor, action: str) -> None:
        """Platform-level actions (definitions, templates, users): administrators only."""
        if not actor.is_admin:
            raise PermissionDenied(
                Text("{user} may not {action}: administrators only", user=actor.username, action=action)
            )

    # -- read shaping ---------------------------------------------------------------------------
    def read_condition(self, actor: Actor, entity: CompiledEntity) -> dict[str, Any] | None:
        """A condition every row the actor reads must satisfy (None: no restriction).

        :raises PermissionDenied: if the actor may not read the entity at all.
        """
        usable = self.grants(actor, entity, "read")
        if any(g.record_rule is None for g in usable):
            return None
        return {"any": [g.record_rule_doc for g in usable]}

    def read_filter(
        self, actor: Actor, entity: CompiledEntity, variables: dict[str, Any]
    ) -> sa.ColumnElement[bool] | None:
        """The actor's read record rules as SQL over the entity's table (None: they may read every record;
        ``false`` when they may not read the entity at all). ``variables``: those of the condition language."""
        try:
            rule = self.read_condition(actor, entity)
        except PermissionDenied:
            return sa.false()
        if rule is None:
            return None
        return entity.condition(rule).to_sql({n: entity.table.c[n] for n in entity.kinds}, variables)

    def may_read(
        self, actor: Actor, entity: CompiledEntity, record: dict[str, Any], keys: frozenset[str] | None = None
    ) -> bool:
        """Whether the actor may read ``record`` (a full row, checked in memory against their read record
        rules) and its fields ``keys`` (None: every field; a hidden one makes the answer no)."""
        try:
            usable = self.grants(actor, entity, "read")
        except PermissionDenied:
            return False
        hidden = self.hidden_fields(actor, entity)
        if hidden & (frozenset(entity.fields) if keys is None else keys):
            return False
        return self._record_allowed(actor, usable, record)

    def hidden_fields(self, actor: Actor, entity: CompiledEntity) -> frozenset[str]:
        """Fields hidden by every read grant the actor holds (removed from output, refused on input)."""
        if self.is_app_admin(actor, entity) or self._governed_by_parent(actor, entity):
            return frozenset()
        try:
            usable = self.grants(actor, entity, "read")
        except PermissionDenied:
            return frozenset(entity.fields)
        hidden = [{f for f, rule in g.fields.items() if rule == "hidden"} for g in usable]
        return frozenset(set.intersection(*hidden)) if hidden else frozenset()

    def read_only_fields(self, actor: Actor, entity: CompiledEntity) -> frozenset[str]:
        """Fields no update/create grant of the actor lets them write."""
        if self.is_app_admin(actor, entity) or self._governed_by_parent(actor, entity):
            return frozenset()
        writable_grants = [
            g
            for r in actor.roles.get(entity.app, ())
            for g in self._access(entity).grants.get(r, ())
            if g.actions & {"create", "update"}
        ]
        locked = [set(g.fields) for g in writable_grants]
        return frozenset(set.intersection(*locked)) if locked else frozenset(entity.fields)

    def _governed_by_parent(self, actor: Actor, entity: CompiledEntity) -> bool:
        """A child entity no role of the actor names: its rows are reached only through their parent record,
        whose grants (and field rules on its child-table field) decide what the actor sees and writes."""
        return entity.is_child and not any(
            self._access(entity).grants.get(r) for r in actor.roles.get(entity.app, ())
        )

    def _record_allowed(self, actor: Actor, usable: list[Grant], record: dict[str, Any]) -> bool:
        variables = self._variables(actor)
        return any(g.record_rule is None or g.record_rule.matches(record, variables) for g in usable)

    def _variables(self, actor: Actor) -> dict[str, Any]:
        now = self.clock().replace(tzinfo=None)
        return {"user": actor.variables, "now": now, "today": now.date()}


def _outside(entity: CompiledEntity, action: str, record_id: Any = None) -> Text:
    """The reason a record (or, without an id, the record a write would produce) is refused."""
    if record_id is None:
        return Text(
            "the {entity} record would be outside what your roles allow for '{action}'",
            entity=entity.name,
            action=action,
        )
    return Text(
        "record {id} of {entity} is outside what your roles allow for '{action}'",
        id=record_id,
        entity=entity.name,
        action=action,
    )
