"""Build the Actor of a request: the user's roles in force per app and the facts record rules use."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.core.models import Department, RoleAssignment, User, utcnow
from lowcode.runtime.context import Actor


def roles_in_force(session: Session, user_id: int) -> dict[str, tuple[str, ...]]:
    """app -> roles the user holds now (assignments started and not yet ended)."""
    now = utcnow()
    rows = session.execute(
        sa.select(RoleAssignment.app, RoleAssignment.role).where(
            RoleAssignment.user_id == user_id,
            RoleAssignment.starts_at <= now,
            sa.or_(RoleAssignment.ends_at.is_(None), RoleAssignment.ends_at > now),
        )
    )
    roles: dict[str, set[str]] = {}
    for app, role in rows:
        roles.setdefault(app, set()).add(role)
    return {app: tuple(sorted(names)) for app, names in roles.items()}


def user_attributes(session: Session, user) -> dict:
    """``$user.*`` variables: department, its path, the ids of users in the department subtree,
    direct reports, level and job."""
    attrs = {"department": user.department_id, "level": user.level, "job_title": user.job_title,
             "manager": user.manager_id, "department_path": "", "department_members": [user.id]}  # fmt: skip
    if user.department_id is not None:
        path = session.scalar(sa.select(Department.path).where(Department.id == user.department_id)) or "/"
        attrs["department_path"] = path
        subtree = sa.select(Department.id).where(Department.path.startswith(path))
        attrs["department_members"] = list(
            session.scalars(sa.select(User.id).where(User.department_id.in_(subtree)))
        )
    attrs["reports"] = list(session.scalars(sa.select(User.id).where(User.manager_id == user.id)))
    return attrs


def actor_for_user(session: Session, user, ip: str = "", token_app: str | None = None,
                   token_role: str | None = None) -> Actor:  # fmt: skip
    """The Actor of a signed-in user (a ``User`` or a row with its columns); an integrator token acts
    with exactly its one app role. Administrators bypass every grant, so their roles and team lists are
    not loaded (their ``$user`` has the plain user facts only)."""
    if token_app is not None:
        roles = {token_app: (token_role,)} if token_role else {}
        is_admin = False
    else:
        is_admin = bool(user.is_admin)
        roles = {} if is_admin else roles_in_force(session, user.id)
    attributes = _plain_attributes(user) if is_admin else user_attributes(session, user)
    return Actor(user_id=user.id, username=user.username, is_admin=is_admin, language=user.language,
                 attributes=attributes, roles=roles, ip=ip)  # fmt: skip


def _plain_attributes(user) -> dict:
    return {"department": user.department_id, "level": user.level, "job_title": user.job_title,
            "manager": user.manager_id}  # fmt: skip
