"""Values fetched from linked records (the ``fetch_from`` field option, :mod:`lowcode.fields.fetch`): an
order line's empty unit price taken from the product it names. Applied to the raw input of a write (parent
and child rows) before validation, and by the form's compute round trip.

Only what the writer may read is fetched: the linked record within their read record rules, and the field
not hidden from them (rules write as the system, which reads everything). One query per target entity."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from lowcode.core.numbers import int_from_text
from lowcode.fields.fetch import fetch_spec
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def link_id(value: Any) -> int | None:
    """A link value (an int, or the digits a form posted) as an id; anything else is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int_from_text(value.strip())
        except ValueError:
            return None
    return None


class Fetcher:
    """Fills the empty ``fetch_from`` fields of input records for one writer."""

    def __init__(self, ctx: WriteContext, permissions: Any):
        self.ctx = ctx
        self.permissions = permissions

    def fill(self, entity: CompiledEntity, data: Any) -> tuple[Any, set[str]]:
        """A copy of ``data`` (a raw record body with its child-row lists) with the empty fetched fields
        filled, and the paths filled (``unit_price``, ``lines.0.unit_price``). Not a dict: left as it is."""
        if not isinstance(data, dict):
            return data, set()
        data = dict(data)
        filled = set(self._fill_rows(entity, [data])[0])
        for cf in entity.child_fields:
            rows = data.get(cf.name)
            if not isinstance(rows, list):
                continue
            rows = data[cf.name] = [dict(r) if isinstance(r, dict) else r for r in rows]
            child = self.ctx.snapshot.entity(entity.app, cf.fdef.options["entity"])
            for i, names in enumerate(self._fill_rows(child, rows)):
                filled |= {f"{cf.name}.{i}.{n}" for n in names}
        return data, filled

    def _fill_rows(self, entity: CompiledEntity, rows: list[Any]) -> list[set[str]]:
        """Fill each row; one query per target entity for all rows."""
        specs = [(cf, fetch_spec(cf.fdef.options)) for cf in entity.fields.values() if cf.has_column]
        specs = [(cf, spec) for cf, spec in specs if spec is not None and spec[0] in entity.fields]
        filled: list[set[str]] = [set() for _ in rows]
        wanted: dict[str, set[int]] = {}
        for row in rows:
            if not isinstance(row, dict):
                continue
            for cf, (link, _name) in specs:
                target_id = link_id(row.get(link))
                if target_id is None or (cf.name in row and not _empty(row[cf.name])):
                    continue
                target = entity.fields[link].fdef.options.get("entity", "")
                wanted.setdefault(target, set()).add(target_id)
        if not wanted:
            return filled
        found = {target: self._records(entity.app, target, ids) for target, ids in wanted.items()}
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                continue
            for cf, (link, name) in specs:
                if cf.name in row and not _empty(row[cf.name]):
                    continue
                target = entity.fields[link].fdef.options.get("entity", "")
                record = found.get(target, {}).get(link_id(row.get(link)))
                if record is not None and name in record:
                    row[cf.name] = record[name]
                    filled[i].add(cf.name)
        return filled

    def _records(self, app: str, target_name: str, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """``{id: {field: JSON value}}`` of the live records the writer may read, without hidden fields."""
        target = self.ctx.snapshot.entity(app, target_name)
        t = target.table
        query = sa.select(t).where(t.c.id.in_(sorted(ids)), t.c.deleted_at.is_(None))
        where = self.permissions.read_filter(self.ctx.actor, target, self.ctx.variables)
        if where is not None:
            query = query.where(where)
        hidden = self.permissions.hidden_fields(self.ctx.actor, target)
        out = {}
        for row in self.ctx.session.execute(query).mappings():
            out[row["id"]] = {
                cf.name: cf.ftype.dump(cf.fdef, row[cf.name])
                for cf in target.fields.values()
                if cf.has_column and cf.name not in hidden
            }
        return out
