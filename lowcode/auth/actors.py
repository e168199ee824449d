"""Build the Actor of a request: the user's roles in force per app and the facts record rules use."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.core.models import Department, RoleAssignment, User, utcnow
from lowcode.runtime.context import Actor

USAGE_GRANULARITY = dt.timedelta(days=1)
"""How often an assignment's ``last_used_at`` is refreshed (enough for a 90-day review)."""


def roles_in_force(
    session: Session,
    user_id: int,
    now: dt.datetime | None = None,
    on_stale: Callable[[list[int]], None] | None = None,
) -> dict[str, tuple[str, ...]]:
    """app -> roles the user holds at ``now`` (assignments started and not yet ended).

    ``on_stale`` receives the ids of those assignments whose last use is older than a day, so the caller
    can record the use (in a write transaction) for the permission review.
    """
    now = now or utcnow()
    rows = session.execute(
        sa.select(
            RoleAssignment.id, RoleAssignment.app, RoleAssignment.role, RoleAssignment.last_used_at
        ).where(
            RoleAssignment.user_id == user_id,
            RoleAssignment.starts_at <= now,
            sa.or_(RoleAssignment.ends_at.is_(None), RoleAssignment.ends_at > now),
        )
    )
    roles: dict[str, set[str]] = {}
    stale: list[int] = []
    for assignment_id, app, role, last_used in rows:
        roles.setdefault(app, set()).add(role)
        if last_used is None or now - _aware(last_used) > USAGE_GRANULARITY:
            stale.append(assignment_id)
    if stale and on_stale is not None:
        on_stale(stale)
    return {app: tuple(sorted(names)) for app, names in roles.items()}


def touch_assignments(session: Session, ids: list[int]) -> None:
    """Record that these assignments were used now."""
    session.execute(sa.update(RoleAssignment).where(RoleAssignment.id.in_(ids)).values(last_used_at=utcnow()))


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def user_attributes(session: Session, user) -> dict:
    """``$user.*`` variables: department, its path, the ids of users in the department subtree,
    direct reports, level and job."""
    attrs = {
        "department": user.department_id,
        "level": user.level,
        "job_title": user.job_title,
        "manager": user.manager_id,
        "department_path": "",
        "department_members": [user.id],
    }
    if user.department_id is not None:
        path = session.scalar(sa.select(Department.path).where(Department.id == user.department_id)) or "/"
        attrs["department_path"] = path
        subtree = sa.select(Department.id).where(Department.path.startswith(path))
        attrs["department_members"] = list(
            session.scalars(sa.select(User.id).where(User.department_id.in_(subtree)))
        )
    attrs["reports"] = list(session.scalars(sa.select(User.id).where(User.manager_id == user.id)))
    return attrs


def actor_for_user(
    session: Session,
    user,
    ip: str = "",
    token_app: str | None = None,
    token_role: str | None = None,
    on_stale: Callable[[list[int]], None] | None = None,
) -> Actor:
    """The Actor of a signed-in user (a ``User`` or a row with its columns); an integrator token acts
    with exactly its one app role. Administrators bypass every grant, so their roles and team lists are
    not loaded (their ``$user`` has the plain user facts only)."""
    if token_app is not None:
        roles = {token_app: (token_role,)} if token_role else {}
        is_admin = False
    else:
        is_admin = bool(user.is_admin)
        roles = {} if is_admin else roles_in_force(session, user.id, on_stale=on_stale)
    attributes = _plain_attributes(user) if is_admin else user_attributes(session, user)
    return Actor(
        user_id=user.id,
        username=user.username,
        is_admin=is_admin,
        language=user.language,
        attributes=attributes,
        roles=roles,
        ip=ip,
    )


def _plain_attributes(user) -> dict:
    return {
        "department": user.department_id,
        "level": user.level,
        "job_title": user.job_title,
        "manager": user.manager_id,
    }
