"""Child-table rows (order lines) of one parent write: load, compute, check and store them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from lowcode.auth.permissions import PermissionService
from lowcode.core.jsonutil import to_jsonable
from lowcode.core.texts import Text
from lowcode.errors import ValidationFailed
from lowcode.fields.base import ComputeContext
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import Actor, WriteContext
from lowcode.runtime.integrity import guard_constraints
from lowcode.runtime.serialize import row_to_record
from lowcode.runtime.validation import load_child_rows


@dataclass(frozen=True)
class FieldGuard:
    """The columns of a child entity the actor may not see (``hidden``) or change (``read_only``)."""

    hidden: frozenset[str]
    read_only: frozenset[str]

    def refusals(
        self, path: str, sent: Mapping[str, Any], row: Mapping[str, Any], base: Mapping[str, Any]
    ) -> dict[str, list[str]]:
        """Messages for the guarded columns a sent row carries (hidden: sent at all; read-only: changed)."""
        out: dict[str, list[str]] = {}
        for column in sent:
            if column in self.hidden:
                out[f"{path}.{column}"] = [Text("You may not write this field.")]
            elif column in self.read_only and row.get(column) != base.get(column):
                out[f"{path}.{column}"] = [Text("You may not change this field.")]
        return out


class ChildRows:
    """The child rows of every child-table field of one parent record during one write."""

    def __init__(self, ctx: WriteContext, parent: CompiledEntity):
        self.ctx = ctx
        self.entities = {
            cf.name: ctx.snapshot.entity(parent.app, cf.fdef.options["entity"]) for cf in parent.child_fields
        }
        self._rows: dict[str, list[dict[str, Any]]] = {}
        self._before: dict[str, list[dict[str, Any]]] = {}
        self._touched: set[str] = set()

    def guards(
        self, permissions: PermissionService, actor: Actor, sent: Mapping[str, Any]
    ) -> dict[str, FieldGuard]:
        """Per sent child-table field, the columns the actor may not see or change (its own grants on the
        child entity; none when only the parent's grants govern it)."""
        return {
            name: FieldGuard(
                permissions.hidden_fields(actor, self.entities[name]),
                permissions.read_only_fields(actor, self.entities[name]),
            )
            for name in sent
            if name in self.entities
        }

    def fetch(self, parent_id: int) -> dict[str, list[dict[str, Any]]]:
        """Stored child rows of a parent, by child field, in row order."""
        found: dict[str, list[dict[str, Any]]] = {}
        for name, child in self.entities.items():
            t = child.table
            rows = self.ctx.session.execute(
                sa.select(t)
                .where(t.c.parent_id == parent_id, t.c.deleted_at.is_(None))
                .order_by(t.c.idx, t.c.id)
            ).mappings()
            found[name] = [row_to_record(child, r) for r in rows]
        return found

    def load(
        self,
        raw: dict[str, Any],
        existing: dict[str, list[dict[str, Any]]],
        guarded: Mapping[str, FieldGuard] | None = None,
    ) -> None:
        """Validate sent rows (a sent list replaces the stored rows); compute each row's computed fields.
        ``guarded``: per child-table field, the columns the actor may not see or change.

        :raises ValidationFailed: with ``field.row.column`` paths.
        """
        self._before = {name: existing.get(name, []) for name in self.entities}
        self._rows = {name: [dict(r) for r in rows] for name, rows in self._before.items()}
        errors: dict[str, list[str]] = {}
        for name, rows in raw.items():
            child = self.entities[name]
            loaded = load_child_rows(self.ctx, child, name, rows)
            known = {r["id"]: r for r in self._before[name]}
            merged = []
            for i, row in enumerate(loaded):
                if row["id"] is not None and row["id"] not in known:
                    errors[f"{name}.{i}.id"] = [f"Row {row['id']} is not a row of this record."]
                    continue
                base = known.get(row["id"], {})
                if guarded and name in guarded and isinstance(rows[i], dict):
                    errors.update(guarded[name].refusals(f"{name}.{i}", rows[i], row, base))
                merged.append({**base, **row, "idx": i})
            self._compute(child, merged)
            self._rows[name] = merged
            self._touched.add(name)
        if errors:
            raise ValidationFailed(Text("Some rows are not valid"), fields=errors)

    def _compute(self, child: CompiledEntity, rows: list[dict[str, Any]]) -> None:
        cctx = ComputeContext(self.ctx.session, False, self.ctx.now, lambda key: 0)
        for row in rows:
            for cf in child.computed:
                row[cf.name] = cf.ftype.compute(cf.fdef, row, {}, cctx)

    def current(self) -> dict[str, list[dict[str, Any]]]:
        """The rows as they will be after this write."""
        return self._rows

    def changed(self) -> set[str]:
        """The child-table fields whose rows this write changes (added, dropped, moved or edited)."""
        out = set()
        for name in self._touched:
            child = self.entities[name]
            keys = ["id", *(c.name for c in child.table.columns if c.name in child.fields)]
            if [[r.get(k) for k in keys] for r in self._before[name]] != [
                [r.get(k) for k in keys] for r in self._rows[name]
            ]:
                out.add(name)
        return out

    def add_links(self, links) -> None:
        """The link values of every sent row to a :class:`~lowcode.runtime.links.LinkCheck` (a value a
        kept row already held is only checked to exist)."""
        for name in self._touched:
            held = {r["id"]: r for r in self._before[name]}
            for i, row in enumerate(self._rows[name]):
                kept = held.get(row.get("id")) if row.get("id") is not None else None
                links.add(self.entities[name], row, prefix=f"{name}.{i}.", kept=kept)

    def _store(self, t: sa.Table, row: dict[str, Any], values: dict[str, Any]) -> None:
        if row.get("id") is None:
            row["id"] = self.ctx.session.execute(sa.insert(t).values(values).returning(t.c.id)).scalar_one()
        else:
            self.ctx.session.execute(sa.update(t).where(t.c.id == row["id"]).values(values))

    def write(self, parent_id: int) -> dict[str, list]:
        """Store the sent lists (update kept rows, insert new ones, delete dropped ones); returns the
        audit diff ``{field: [old rows, new rows]}`` of each list that changed."""
        changes: dict[str, list] = {}
        for name in sorted(self._touched):
            child, t = self.entities[name], self.entities[name].table
            stored = [c.name for c in child.table.columns if c.name in child.fields]
            kept = {r["id"] for r in self._rows[name] if r.get("id") is not None}
            dropped = [r["id"] for r in self._before[name] if r["id"] not in kept]
            if dropped:
                self.ctx.session.execute(sa.delete(t).where(t.c.id.in_(dropped)))
            for i, row in enumerate(self._rows[name]):
                values = {k: row.get(k) for k in stored} | {"idx": row["idx"], "updated_at": self.ctx.now}
                if row.get("id") is None:
                    values |= {
                        "parent_id": parent_id,
                        "version": 1,
                        "created_at": self.ctx.now,
                        "created_by": self.ctx.actor.user_id,
                    }
                with guard_constraints(self.ctx, child, values, prefix=f"{name}.{i}."):
                    self._store(t, row, values)
                # keep the row complete (system columns too) so callers can answer without re-reading it
                row.update({c.name: values.get(c.name, row.get(c.name)) for c in t.columns if c.name != "id"})
            old = [to_jsonable({k: r.get(k) for k in ["id", *stored]}) for r in self._before[name]]
            new = [to_jsonable({k: r.get(k) for k in ["id", *stored]}) for r in self._rows[name]]
            if old != new:
                changes[name] = [old, new]
        return changes


class NoChildRows(ChildRows):
    """The child rows of an entity without child tables: nothing to load, check, compute or store, so a
    write of such an entity (a bulk create's every item) does no child work at all."""

    def __init__(self) -> None:
        self.entities = {}
        self._rows = self._before = {}
        self._touched = set()

    def guards(self, permissions, actor, sent) -> dict[str, FieldGuard]:
        return {}

    def fetch(self, parent_id: int) -> dict[str, list[dict[str, Any]]]:
        return {}

    def load(self, raw, existing, guarded=None) -> None:
        return None

    def current(self) -> dict[str, list[dict[str, Any]]]:
        return {}

    def changed(self) -> set[str]:
        return set()

    def add_links(self, links) -> None:
        return None

    def write(self, parent_id: int) -> dict[str, list]:
        return {}


NO_CHILD_ROWS = NoChildRows()
"""Shared by every write of an entity without child tables (it holds no state)."""


def child_rows(ctx: WriteContext, entity: CompiledEntity) -> ChildRows:
    """The child rows of one write of ``entity``: :data:`NO_CHILD_ROWS` when it has no child tables."""
    return ChildRows(ctx, entity) if entity.child_fields else NO_CHILD_ROWS
