"""Explain access ("what may user U do on entity E, and why") and the permission review report.

Both are read-only and answer from the permission service itself - ``PermissionService.grants`` decides
each action, ``context_failure`` each context condition, ``hidden_fields`` / ``read_only_fields`` /
``read_condition`` the shaping - so the explanation cannot drift from what is enforced.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.auth.actors import actor_for_user
from lowcode.auth.grants import EntityAccess, Grant
from lowcode.auth.lifecycle import as_utc, is_ended_marked
from lowcode.auth.permissions import ACTIONS, PermissionService, context_failure
from lowcode.auth.users import user_names
from lowcode.core.models import RoleAssignment, User
from lowcode.core.numbers import digits_to_int
from lowcode.errors import NotFound, PermissionDenied
from lowcode.runtime.snapshot import Snapshot

UNUSED_AFTER = dt.timedelta(days=90)
REPORT_LIMIT = 500


def find_user(session: Session, ref: str) -> User:
    """A user by id (digits) or username. :raises NotFound:"""
    user_id = digits_to_int(ref)
    user = session.get(User, user_id) if user_id is not None else None
    user = user or session.scalar(sa.select(User).where(User.username == ref))
    if user is None:
        raise NotFound(f"No user {ref!r}")
    return user


def explain(
    session: Session,
    snapshot: Snapshot,
    user: User,
    app: str,
    entity_name: str,
    *,
    now: dt.datetime,
    ip: str = "",
) -> dict[str, Any]:
    """Per action: allowed or not, the grants that decide it, their record rules, field rules and
    context conditions (each evaluated for ``ip`` at ``now``), and the entity's sensitive operations.

    The roles are those in force now (as for a request); ``ip`` stands for the address the user would
    call from (empty: unknown, so address-limited grants do not hold).
    :raises NotFound: unknown app or entity.
    """
    entity = snapshot.entity(app, entity_name)
    now = as_utc(now)
    permissions = PermissionService(clock=lambda: now)
    actor = actor_for_user(session, user, ip)
    roles = actor.roles.get(app, ())
    access = entity.access or EntityAccess()
    app_admin = actor.is_admin or any(r in access.admin_roles for r in roles)
    granted_ops = {op for r in roles for op in access.role_operations.get(r, ())}
    actions = {}
    for action in ACTIONS:
        try:
            usable = permissions.grants(actor, entity, action)
            allowed, reason = True, None
        except PermissionDenied as exc:
            usable, allowed, reason = [], False, exc.message
        held = [g for r in roles for g in access.grants.get(r, ()) if action in g.actions]
        actions[action] = {
            "allowed": allowed and user.active,
            "reason": reason if user.active else f"{user.username} is not active and cannot sign in",
            "via": _via(actor.is_admin, [r for r in roles if r in access.admin_roles], usable),
            "grants": [_grant_json(g, actor, now, g in usable) for g in held],
            "sensitive": [
                {
                    "name": op.name,
                    "fields": sorted(op.fields),
                    "condition": _condition_doc(snapshot, app, op.name),
                    "held": app_admin or op.name in granted_ops,
                }
                for op in access.sensitive
                if op.action == action
            ],
        }
    try:
        row_filter = permissions.read_condition(actor, entity)
    except PermissionDenied:
        row_filter = None
    return {
        "user": {
            "id": user.id,
            "username": user.username,
            "is_admin": user.is_admin,
            "active": user.active,
            "department_id": user.department_id,
            "job_title": user.job_title,
            "level": user.level,
        },
        "app": app,
        "entity": entity.name,
        "ip": ip,
        "at": now,
        "roles": [
            {
                "role": r,
                "admin": r in access.admin_roles,
                "operations": sorted(access.role_operations.get(r, ())),
            }
            for r in roles
        ],
        "assignments": _assignments(session, user.id, app, now),
        "actions": actions,
        "read_filter": row_filter if actions["read"]["allowed"] else None,
        "hidden_fields": sorted(permissions.hidden_fields(actor, entity)),
        "read_only_fields": sorted(permissions.read_only_fields(actor, entity)),
    }


def _via(is_admin: bool, admin_roles: list[str], usable: list[Grant]) -> list[str]:
    if is_admin:
        return ["platform administrator"]
    if admin_roles:
        return [f"role '{r}' (app administrator)" for r in admin_roles]
    return [f"role '{g.role}'" for g in usable]


def _grant_json(grant: Grant, actor, now: dt.datetime, usable: bool) -> dict[str, Any]:
    """One grant: its actions, record rule, field rules and each context condition with whether it holds."""
    conditions = []
    for key, value in grant.context.items():
        # one condition at a time, so each gets its own verdict from the service's own check
        why = context_failure(dataclasses.replace(grant, context={key: value}), actor, now)
        conditions.append({"condition": key, "value": value, "holds": why is None, "reason": why})
    return {
        "role": grant.role,
        "actions": sorted(grant.actions),
        "usable": usable,
        "record_rule": grant.record_rule_doc,
        "hidden_fields": sorted(f for f, rule in grant.fields.items() if rule == "hidden"),
        "read_only_fields": sorted(f for f, rule in grant.fields.items() if rule == "read_only"),
        "context": conditions,
    }


def _condition_doc(snapshot: Snapshot, app: str, op_name: str) -> dict[str, Any] | None:
    info = snapshot.apps.get(app)
    ops = info.definition.get("sensitive_operations", []) if info else []
    return next((op.get("condition") for op in ops if op["name"] == op_name), None)


def _assignments(session: Session, user_id: int, app: str, now: dt.datetime) -> list[dict[str, Any]]:
    rows = session.scalars(
        sa.select(RoleAssignment)
        .where(RoleAssignment.user_id == user_id, RoleAssignment.app == app)
        .order_by(RoleAssignment.id)
    )
    return [assignment_json(r, now) for r in rows]


def assignment_json(row: RoleAssignment, now: dt.datetime) -> dict[str, Any]:
    """An assignment as JSON, with whether it is in force at ``now``."""
    ends_at, starts_at = as_utc(row.ends_at), as_utc(row.starts_at)
    return {
        "id": row.id,
        "user_id": row.user_id,
        "app": row.app,
        "role": row.role,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "note": row.note,
        "granted_by": row.granted_by,
        "last_used_at": as_utc(row.last_used_at),
        "in_force": starts_at <= now and (ends_at is None or ends_at > now),
        "ended_recorded": is_ended_marked(row),
    }


def review(session: Session, snapshot: Snapshot, now: dt.datetime) -> dict[str, Any]:
    """The permission review: who administers (the platform or an app), which assignments in force went
    unused for 90 days (or were never used since starting over 90 days ago), which are past their end."""
    now = as_utc(now)
    in_force = sa.and_(
        RoleAssignment.starts_at <= now,
        sa.or_(RoleAssignment.ends_at.is_(None), RoleAssignment.ends_at > now),
    )
    admins = [
        {"user_id": u.id, "username": u.username, "via": "platform administrator"}
        for u in session.scalars(
            sa.select(User).where(User.is_admin.is_(True), User.active.is_(True)).order_by(User.id)
        )
    ]
    admin_roles = [key for key, role in snapshot.roles.items() if role.get("admin")]
    if admin_roles:
        rows = session.execute(
            sa.select(User.id, User.username, RoleAssignment.app, RoleAssignment.role)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(
                in_force,
                User.active.is_(True),
                sa.or_(*(sa.and_(RoleAssignment.app == a, RoleAssignment.role == r) for a, r in admin_roles)),
            )
            .order_by(User.id)
        )
        admins += [
            {"user_id": i, "username": n, "via": f"role '{a}.{r}' (app administrator)"} for i, n, a, r in rows
        ]
    cutoff = now - UNUSED_AFTER
    unused = session.scalars(
        sa.select(RoleAssignment)
        .where(
            in_force,
            sa.or_(
                RoleAssignment.last_used_at < cutoff,
                sa.and_(RoleAssignment.last_used_at.is_(None), RoleAssignment.starts_at < cutoff),
            ),
        )
        .order_by(RoleAssignment.id)
        .limit(REPORT_LIMIT)
    )
    past_end = list(
        session.scalars(
            sa.select(RoleAssignment)
            .where(RoleAssignment.ends_at <= now)
            .order_by(RoleAssignment.ends_at.desc())
            .limit(REPORT_LIMIT)
        )
    )
    unused = list(unused)
    names = user_names(session, sorted({r.user_id for r in unused + past_end}))
    return {
        "at": now,
        "admins": admins,
        "unused_assignments": [{**assignment_json(r, now), "user": names.get(r.user_id)} for r in unused],
        "past_end_assignments": [{**assignment_json(r, now), "user": names.get(r.user_id)} for r in past_end],
    }


RECORD_ACTIONS = ("read", "update", "delete", "approve")
"""The actions that are taken on one record (its record rules decide them)."""


def explain_record(
    session: Session,
    snapshot: Snapshot,
    user: User,
    app: str,
    entity_name: str,
    record: dict[str, Any],
    *,
    now: dt.datetime,
    ip: str = "",
) -> dict[str, Any]:
    """What ``user`` may do on one stored ``record`` and why: per record action the permission service's own
    verdict (the grant, its context and record rule on this record), and per workflow transition a person may
    take whether a role grants it on this record and whether the record's state allows it now.

    :raises NotFound: unknown app or entity.
    """
    entity = snapshot.entity(app, entity_name)
    now = as_utc(now)
    permissions = PermissionService(clock=lambda: now)
    actor = actor_for_user(session, user, ip)
    inactive = f"{user.username} is not active and cannot sign in"

    def verdict(check) -> dict[str, Any]:
        try:
            check()
        except PermissionDenied as exc:
            return {"allowed": False, "reason": exc.message}
        return {"allowed": user.active, "reason": None if user.active else inactive}

    actions = {
        action: verdict(lambda a=action: permissions.authorize(actor, entity, a, record))
        for action in RECORD_ACTIONS
    }
    transitions = []
    workflow = entity.workflow
    if workflow is not None:
        state = record.get(workflow.state_field)
        for t in workflow.transitions.values():
            if t.automatic:
                continue
            granted = verdict(lambda t=t: permissions.authorize_transition(actor, entity, t.name, record))
            transitions.append({"name": t.name, "label": t.label, "from_here": state in t.sources, **granted})
    return {
        "record_id": record.get("id"),
        "actions": actions,
        "transitions": transitions,
        "hidden_fields": sorted(permissions.hidden_fields(actor, entity)),
    }
