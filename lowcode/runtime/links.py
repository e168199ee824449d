"""Link and user values of one write: each must name a live record (a user) the writer may point at.

A link may only point at a record the writer may read under their record rules (``PermissionService.
read_filter``, as SQL): a record that does not exist, is deleted, or lies outside what the writer may read
gets the same message, so ids cannot be probed. The values are checked in one query per target entity per
write (child rows included). Writers who may read every record of the target (administrators, the system
identity rules and imports run as) are not limited; values a child row already held are only checked to
exist (an edit of an order is not refused for a line whose product the writer no longer sees).
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from lowcode.core.models import User
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext

LINK_CACHE = "lowcode_live_links"
"""``session.info`` key: (table, id) pairs known to exist in this transaction, found by a writer without
record rules on the table (soft deletes discard them). Scoped answers are never cached: a record rule may
depend on values the transaction changes."""


_LIVE_IDS: weakref.WeakKeyDictionary[sa.Table, sa.Select] = weakref.WeakKeyDictionary()
"""Per table, the prebuilt ``SELECT id ... WHERE id IN (:ids) AND deleted_at IS NULL`` (one statement object,
so SQLAlchemy neither rebuilds nor re-keys it on every write)."""


def _live_ids(t: sa.Table) -> sa.Select:
    statement = _LIVE_IDS.get(t)
    if statement is None:
        ids = sa.bindparam("ids", expanding=True)
        statement = _LIVE_IDS[t] = sa.select(t.c.id).where(t.c.id.in_(ids), t.c.deleted_at.is_(None))
    return statement


def link_message(target: str, value: Any) -> str:
    """The one message of a link value that names no record the writer may point at."""
    return f"No {target} record with id {value}."


class LinkCheck:
    """Collects the link and user values of a write, then checks them together (:meth:`errors`)."""

    def __init__(self, ctx: WriteContext, permissions: Any):
        self.ctx = ctx
        self.permissions = permissions
        self._links: dict[tuple[str, str, bool], list[tuple[str, Any]]] = defaultdict(list)
        self._users: list[tuple[str, Any]] = []

    def add(
        self,
        entity: CompiledEntity,
        values: dict[str, Any],
        prefix: str = "",
        kept: dict[str, Any] | None = None,
        sent: frozenset[str] | None = None,
    ) -> None:
        """The link and user values of one record or row (``prefix``: the path of a child row). Only the
        writer's own choices are held to their record rules, the others only have to exist: ``kept``, the
        values the row held before this write (an unchanged link), and ``sent``, the fields the writer sent
        (None: all of them; a default or a before-rule's value is not the writer's)."""
        for cf in entity.references:
            value = values.get(cf.name)
            if value is None:
                continue
            if getattr(cf.ftype, "references_entity", False):
                scoped = (kept is None or kept.get(cf.name) != value) and (sent is None or cf.name in sent)
                key = (entity.app, cf.fdef.options["entity"], scoped)
                self._links[key].append((prefix + cf.name, value))
            elif getattr(cf.ftype, "references_user", False):
                self._users.append((prefix + cf.name, value))

    def errors(self) -> dict[str, list[str]]:
        """Messages by field path for every value that names no record (user) the writer may point at."""
        errors: dict[str, list[str]] = {}
        for (app, target_name, scoped), pairs in self._links.items():
            target = self.ctx.snapshot.entity(app, target_name)
            found = self._live(target, {v for _, v in pairs}, scoped)
            for path, value in pairs:
                if value not in found:
                    errors[path] = [link_message(target_name, value)]
        if self._users:
            ids = {v for _, v in self._users}
            known = set(self.ctx.session.scalars(sa.select(User.id).where(User.id.in_(ids))))
            for path, value in self._users:
                if value not in known:
                    errors[path] = [f"No user with id {value}."]
        return errors

    def _live(self, target: CompiledEntity, ids: set[Any], scoped: bool) -> set[Any]:
        """The ids among ``ids`` of live records of ``target`` the writer may point at."""
        t = target.table
        where = self.permissions.read_filter(self.ctx.actor, target, self.ctx.variables) if scoped else None
        seen = self.ctx.session.info.setdefault(LINK_CACHE, set())
        if where is None:
            cached = {v for v in ids if (t.name, v) in seen}
            ids = ids - cached
        else:
            cached = set()
        if not ids:
            return cached
        query = _live_ids(t)
        found = set(
            self.ctx.session.scalars(query if where is None else query.where(where), {"ids": list(ids)})
        )
        if where is None:
            seen.update((t.name, v) for v in found)
        return cached | found


def check_links(ctx: WriteContext, permissions: Any, entity: CompiledEntity, values: dict[str, Any]) -> dict:
    """Messages for the link and user values of one record's changed fields (see :class:`LinkCheck`)."""
    links = LinkCheck(ctx, permissions)
    links.add(entity, values)
    return links.errors()


def prefetch_live(ctx: WriteContext, target: CompiledEntity, ids: set[Any]) -> None:
    """Note in the transaction's cache which of ``ids`` are live records of ``target``, in one query (a loop
    of a rule creating a record per line, before it runs). Only for writers the target's record rules do
    not limit (the cache holds only their answers); ids not found are checked again by the write itself."""
    seen = ctx.session.info.setdefault(LINK_CACHE, set())
    t = target.table
    wanted = [v for v in ids if (t.name, v) not in seen]
    if len(wanted) < 2:  # the write's own check costs the same one query
        return
    seen.update((t.name, v) for v in ctx.session.scalars(_live_ids(t), {"ids": wanted}))


def forget_link_target(session, table_name: str, record_id: int) -> None:
    """A record stopped being a valid link target in this transaction (it was soft-deleted)."""
    session.info.get(LINK_CACHE, set()).discard((table_name, record_id))
