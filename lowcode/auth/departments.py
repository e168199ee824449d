"""Administration of the department tree: create, rename/move (the subtree's paths follow), delete if empty.

Same conventions as :mod:`lowcode.auth.admin`: the caller's session and actor passed explicitly, domain errors,
never a commit; authorisation (administrators only) is the caller's first step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.auth.admin import get_row, invalid
from lowcode.core.models import Department, User
from lowcode.errors import ValidationFailed
from lowcode.runtime.context import Actor


def create_department(session: Session, actor: Actor, name: Any, parent_id: Any = None) -> Department:
    """Add a department under ``parent_id`` (a root when None). :raises ValidationFailed, NotFound:"""
    parent = (
        get_row(session, Department, parent_id, "department", "parent_id") if parent_id is not None else None
    )
    dept = Department(name=_department_name(name), parent_id=parent.id if parent else None, path="/")
    session.add(dept)
    session.flush()
    dept.path = f"{parent.path if parent else '/'}{dept.id}/"
    session.flush()
    return dept


def update_department(session: Session, actor: Actor, dept_id: int, changes: Mapping[str, Any]) -> Department:
    """Rename and/or move a department; a move rewrites the ``path`` of its whole subtree.

    :raises ValidationFailed: unknown keys, an empty name, or a move under itself (a cycle).
    """
    dept = get_row(session, Department, dept_id, "department")
    unknown = set(changes) - {"name", "parent_id"}
    if unknown:
        raise invalid(
            "Unknown department fields", sorted(unknown)[0], "Only 'name' and 'parent_id' can change."
        )
    if "name" in changes:
        dept.name = _department_name(changes["name"])
    if "parent_id" in changes and changes["parent_id"] != dept.parent_id:
        parent_id = changes["parent_id"]
        parent = (
            get_row(session, Department, parent_id, "department", "parent_id")
            if parent_id is not None
            else None
        )
        if parent is not None and parent.path.startswith(dept.path):
            raise invalid(
                "A department cannot move under itself",
                "parent_id",
                f"'{parent.name}' is {dept.name} or inside it.",
            )
        old_path, new_path = dept.path, f"{parent.path if parent else '/'}{dept.id}/"
        subtree = session.scalars(sa.select(Department).where(Department.path.startswith(old_path)))
        for node in subtree:
            node.path = new_path + node.path[len(old_path) :]
        dept.parent_id = parent.id if parent else None
    session.flush()
    return dept


def delete_department(session: Session, actor: Actor, dept_id: int) -> None:
    """Delete an empty department. :raises ValidationFailed: if it has users or sub-departments."""
    dept = get_row(session, Department, dept_id, "department")
    users = session.scalar(sa.select(sa.func.count()).where(User.department_id == dept.id)) or 0
    children = session.scalar(sa.select(sa.func.count()).where(Department.parent_id == dept.id)) or 0
    if users or children:
        raise ValidationFailed(
            f"Department '{dept.name}' is not empty: {users} user(s), {children} sub-department(s); "
            "move them first",
            fields={"department": ["not empty"]},
            users=users,
            children=children,
        )
    session.delete(dept)
    session.flush()


def _department_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise invalid("A department needs a name", "name", "1 to 200 characters.")
    return name.strip()
