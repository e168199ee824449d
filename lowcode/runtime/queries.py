"""The read path: one record, or a filtered, sorted, keyset-paginated list - permission filters included."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from lowcode.auth.permissions import PermissionService
from lowcode.conditions.model import coerce
from lowcode.core.jsonutil import dumps, loads_exact
from lowcode.errors import BadRequest, NotFound, PermissionDenied
from lowcode.runtime.children import ChildRows
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext
from lowcode.runtime.search import TitleMatch, TitleSearch
from lowcode.runtime.serialize import row_to_record


@dataclass(frozen=True)
class SortKey:
    """One ORDER BY key: a field and a direction."""

    field: str
    descending: bool = False


@dataclass(frozen=True)
class ListQuery:
    """What a list request asks for."""

    condition: dict[str, Any] | None = None
    search: str = ""
    search_fields: tuple[str, ...] = ()
    sort: tuple[SortKey, ...] = ()
    limit: int = 50
    after: str | None = None
    deleted: bool = False
    title_matches: tuple[TitleMatch, ...] = ()
    """Filters on link fields by the linked record's title (see :mod:`lowcode.runtime.search`)."""
    with_total: bool = True
    """Count the matching rows; the list API asks for it on the first page only."""
    count_limit: int = 0
    """Count at most this many rows (0: all of them): a first page of a million-row table does not scan it;
    the page's total is then a lower bound (``Page.total_exact`` false)."""


@dataclass
class Page:
    """One page of records plus the cursor of the next page (None at the end)."""

    records: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None = None
    sort: tuple[SortKey, ...] = field(default_factory=tuple)
    total_exact: bool = True
    """False when more rows match than the query's ``count_limit``: ``total`` is that limit."""


def parse_sort(entity: CompiledEntity, text: str | None) -> tuple[SortKey, ...]:
    """``"-amount,name"`` -> sort keys. :raises BadRequest: for unknown or unsortable fields."""
    keys: list[SortKey] = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        name = part.lstrip("-")
        if name not in entity.kinds:
            raise BadRequest(f"Cannot sort by '{name}': not a sortable field of {entity.name}")
        keys.append(SortKey(name, part.startswith("-")))
    return tuple(keys)


class QueryService:
    """Reads records through the permission service."""

    def __init__(self, permissions: PermissionService):
        self.permissions = permissions

    def _scope(self, ctx: WriteContext, entity: CompiledEntity) -> sa.ColumnElement[bool]:
        """The actor's record rules as SQL (raises PermissionDenied when they may not read at all)."""
        rule = self.permissions.read_condition(ctx.actor, entity)
        if rule is None:
            return sa.true()
        return self._condition(ctx, entity, rule)

    def _condition(
        self,
        ctx: WriteContext,
        entity: CompiledEntity,
        doc: dict[str, Any],
        hidden: frozenset[str] = frozenset(),
    ) -> sa.ColumnElement[bool]:
        cond = entity.condition(doc)  # parsed once per distinct filter / record rule
        if cond.fields & hidden:
            raise PermissionDenied(f"You may not filter by {', '.join(sorted(cond.fields & hidden))}")
        columns = {name: entity.table.c[name] for name in entity.kinds}
        return cond.to_sql(columns, ctx.variables)

    def visible_ids(self, ctx: WriteContext, entity: CompiledEntity) -> sa.Select | None:
        """A subquery of the ids the actor's record rules let them read (deleted ones included), or None
        when they may read every record. :raises PermissionDenied: if they may not read at all."""
        if self.permissions.read_condition(ctx.actor, entity) is None:
            return None
        return sa.select(entity.table.c.id).where(self._scope(ctx, entity))

    def get(
        self, ctx: WriteContext, app: str, entity_name: str, record_id: int, deleted: bool = False
    ) -> dict[str, Any]:
        """One record with its child rows. :raises NotFound: also when the actor's record rule hides it."""
        entity = ctx.snapshot.entity(app, entity_name)
        t = entity.table
        query = sa.select(t).where(t.c.id == record_id, self._scope(ctx, entity))
        query = query.where(t.c.deleted_at.is_not(None) if deleted else t.c.deleted_at.is_(None))
        row = ctx.session.execute(query).mappings().first()
        if row is None:
            raise NotFound(f"No {entity.name} record with id {record_id}")
        record = row_to_record(entity, row)
        record.update(ChildRows(ctx, entity).fetch(record_id))
        return record

    def _where(self, ctx: WriteContext, entity: CompiledEntity, q: ListQuery) -> list[sa.ColumnElement[bool]]:
        """The WHERE clauses of a list query: record rules, deleted or not, condition, title filters, search."""
        t = entity.table
        where = [
            self._scope(ctx, entity),
            t.c.deleted_at.is_not(None) if q.deleted else t.c.deleted_at.is_(None),
        ]
        hidden = self.permissions.hidden_fields(ctx.actor, entity)
        if q.condition:
            where.append(self._condition(ctx, entity, q.condition, hidden))
        titles = self._titles(ctx, entity)
        where += [titles.title_match(entity, m) for m in q.title_matches]
        if q.search:
            names = q.search_fields or tuple(n for n, k in entity.kinds.items() if k == "text")
            where.append(titles.search(entity, tuple(n for n in names if n not in hidden), q.search))
        return where

    def _titles(self, ctx: WriteContext, entity: CompiledEntity) -> TitleSearch:
        return TitleSearch(
            lambda name: ctx.snapshot.entity(entity.app, name),
            lambda target: self._scope(ctx, target),
            lambda target: self.permissions.hidden_fields(ctx.actor, target),
        )

    def list(self, ctx: WriteContext, app: str, entity_name: str, q: ListQuery) -> Page:
        """A page of records matching the query, in a stable order (sort keys, then id)."""
        entity = ctx.snapshot.entity(app, entity_name)
        t = entity.table
        where = self._where(ctx, entity, q)
        hidden = self.permissions.hidden_fields(ctx.actor, entity)
        used = hidden & {k.field for k in q.sort}
        if used:
            raise PermissionDenied(f"You may not sort by {', '.join(sorted(used))}")
        keys = tuple(k for k in q.sort if k.field != "id")
        id_key = next(
            (k for k in q.sort if k.field == "id"), SortKey("id", keys[-1].descending if keys else False)
        )
        keys = (*keys, id_key)
        total = self._count(ctx, t, where, q.count_limit) if q.with_total else None
        exact = total is None or not q.count_limit or total <= q.count_limit
        query = sa.select(t).where(*where).order_by(*[_order(t.c[k.field], k.descending) for k in keys])
        if q.after:
            query = query.where(_after(t, keys, _decode(q.after, entity, keys)))
        rows = [row_to_record(entity, r) for r in ctx.session.execute(query.limit(q.limit + 1)).mappings()]
        more = len(rows) > q.limit
        rows = rows[: q.limit]
        cursor = _encode([rows[-1][k.field] for k in keys]) if more and rows else None
        if not exact:
            total = q.count_limit
        return Page(rows, cursor, total, q.sort, exact)

    @staticmethod
    def _count(ctx: WriteContext, t: sa.Table, where: list, limit: int) -> int:
        """The number of matching rows, or ``limit + 1`` when more match (the count stops there)."""
        if not limit:
            return ctx.session.scalar(sa.select(sa.func.count()).select_from(t).where(*where))
        capped = sa.select(t.c.id).where(*where).limit(limit + 1).subquery()
        return ctx.session.scalar(sa.select(sa.func.count()).select_from(capped))

    def totals(
        self, ctx: WriteContext, app: str, entity_name: str, q: ListQuery, fields: tuple[str, ...]
    ) -> dict[str, Any]:
        """``{field: SUM}`` over every record the query matches (not one page), within the actor's record
        rules. :raises PermissionDenied: for a field hidden from the actor."""
        entity = ctx.snapshot.entity(app, entity_name)
        used = self.permissions.hidden_fields(ctx.actor, entity) & set(fields)
        if used:
            raise PermissionDenied(f"You may not add up {', '.join(sorted(used))}")
        if not fields:
            return {}
        t = entity.table
        sums = [sa.func.sum(t.c[name]).label(name) for name in fields]
        row = ctx.session.execute(sa.select(*sums).where(*self._where(ctx, entity, q))).mappings().one()
        return {name: row[name] for name in fields}


def _order(column, descending: bool):
    return column.desc().nulls_last() if descending else column.asc().nulls_first()


def _after(t: sa.Table, keys: tuple[SortKey, ...], values: list[Any]) -> sa.ColumnElement[bool]:
    """Rows strictly after ``values`` in the order of ``keys`` (NULLs first ascending, last descending)."""
    clauses = []
    for i, key in enumerate(keys):
        col, value = t.c[key.field], values[i]
        equal = [
            t.c[k.field].is_(None) if v is None else t.c[k.field] == v
            for k, v in zip(keys[:i], values[:i], strict=True)
        ]
        if key.descending:
            beyond = sa.false() if value is None else sa.or_(col < value, col.is_(None))
        else:
            beyond = col.is_not(None) if value is None else col > value
        clauses.append(sa.and_(*equal, beyond))
    return sa.and_(_leading_bound(t.c[keys[0].field], keys[0].descending, values[0]), sa.or_(*clauses))


def _leading_bound(col, descending: bool, value: Any) -> sa.ColumnElement[bool]:
    """A condition implied by the keyset condition on its first key alone. It changes no result, but it
    lets the database start an index range scan at the cursor instead of scanning from the beginning."""
    if value is None:
        return sa.true() if not descending else col.is_(None)
    return col >= value if not descending else sa.or_(col <= value, col.is_(None))


def _encode(values: list[Any]) -> str:
    tagged = [[type(v).__name__, v] for v in values]
    return base64.urlsafe_b64encode(dumps(tagged).encode()).decode().rstrip("=")


def _decode(cursor: str, entity: CompiledEntity, keys: tuple[SortKey, ...]) -> list[Any]:
    """The values of a page cursor, each read as its sort key's kind (the tags written by ``_encode`` are
    not trusted: a cursor is client input). :raises BadRequest: for anything else."""
    try:
        raw = loads_exact(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)), max_depth=2)
    except (BadRequest, ValueError) as exc:
        raise BadRequest("The page cursor is not valid") from exc
    pairs = raw if isinstance(raw, list) else []
    if not all(isinstance(p, list) and len(p) == 2 for p in pairs) or len(pairs) != len(keys):
        raise BadRequest("The page cursor does not match the sort order")
    try:
        return [
            None if v is None else coerce(entity.kinds[k.field], v)
            for k, (_, v) in zip(keys, pairs, strict=True)
        ]
    except ValueError as exc:
        raise BadRequest(f"The page cursor is not valid: {exc}") from exc
