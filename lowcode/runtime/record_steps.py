"""The steps the record service's writes share (:class:`~lowcode.runtime.records.RecordService` takes them
from :class:`RecordSteps`): the entity a write may address, the current row, input validation with child
rows, the version check, computed fields, link and unique checks, and the guarded UPDATE by id and version."""

from __future__ import annotations

from typing import Any

from lowcode.core.texts import Text
from lowcode.errors import (
    BadRequest,
    RuleRefused,
    ValidationFailed,
)
from lowcode.fields.base import ComputeContext
from lowcode.runtime.children import ChildRows, child_rows
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext
from lowcode.runtime.fetch import Fetcher
from lowcode.runtime.integrity import guard_constraints
from lowcode.runtime.links import LinkCheck
from lowcode.runtime.record_reads import current_record, note_written
from lowcode.runtime.series import next_in_series
from lowcode.runtime.validation import check_unique, parse_input
from lowcode.runtime.versions import raise_conflict, require_version


class RecordSteps:
    """Steps of the write path used by create, update, delete/restore and the guarded atomic update (the
    service provides ``permissions``, ``workflow``, ``rules`` and ``max_depth``)."""

    def _entity(self, ctx: WriteContext, app: str, name: str) -> CompiledEntity:
        if ctx.depth > self.max_depth:
            raise RuleRefused(f"Refused: cascade deeper than {self.max_depth} writes")
        entity = ctx.snapshot.entity(app, name)
        if entity.is_child:
            raise BadRequest(f"'{name}' rows are written through their parent record")
        return entity

    def _current(
        self, ctx: WriteContext, entity: CompiledEntity, record_id: int, deleted: bool = False
    ) -> dict[str, Any]:
        return current_record(ctx, entity, record_id, deleted)

    def _load(
        self,
        ctx: WriteContext,
        entity: CompiledEntity,
        data: Any,
        record_id: int | None,
        hidden: frozenset[str] | None = None,
    ):
        """Validate the body and its child rows together; every message is reported at once."""
        if hidden is None:
            hidden = self.permissions.hidden_fields(ctx.actor, entity)
        if entity.fetches:
            data, _filled = Fetcher(ctx, self.permissions).fill(entity, data)
        values, raw_children, errors = parse_input(ctx, entity, data, record_id is not None, hidden)
        children = child_rows(ctx, entity)
        guarded = children.guards(self.permissions, ctx.actor, raw_children)
        try:
            children.load(raw_children, children.fetch(record_id) if record_id is not None else {}, guarded)
        except ValidationFailed as exc:
            errors.update(exc.fields)
        if errors:
            raise ValidationFailed(Text("Some fields are not valid"), fields=errors)
        return values, children

    def _conflict(self, ctx: WriteContext, entity: CompiledEntity, current: dict, expected: int | None):
        """Refuse a missing or stale version (see :mod:`lowcode.runtime.versions`)."""
        require_version(ctx, entity, current, expected, self.permissions.hidden_fields(ctx.actor, entity))

    def _lost_race(self, ctx: WriteContext, entity: CompiledEntity, record_id: int, version: int):
        """A guarded update found another version: someone wrote in between."""
        current = self._current(ctx, entity, record_id)
        raise_conflict(ctx, entity, current, version, self.permissions.hidden_fields(ctx.actor, entity))

    def _compute(
        self, ctx: WriteContext, entity: CompiledEntity, record: dict, children: dict, is_create: bool
    ) -> None:
        if not entity.computed:
            return
        compute_ctx = ComputeContext(
            ctx.session,
            is_create,
            ctx.now,
            lambda key: next_in_series(ctx.session, f"{entity.app}.{entity.name}.{key}"),
        )
        for cf in entity.computed:
            record[cf.name] = cf.ftype.compute(cf.fdef, {**record, **children}, children, compute_ctx)

    def _check_integrity(
        self,
        ctx,
        entity,
        record,
        children: ChildRows,
        record_id,
        before=None,
        sent: frozenset[str] = frozenset(),
    ) -> None:
        """Link targets (those the writer ``sent``: records they may read) and unique values of the fields
        this write sets or changes, and the links of its child rows (one query per target entity)."""
        changed = {k: v for k, v in record.items() if before is None or before.get(k) != v}
        links = LinkCheck(ctx, self.permissions)
        links.add(entity, changed, sent=sent)
        children.add_links(links)
        errors = links.errors()
        errors.update(check_unique(ctx, entity, changed, record_id, self.permissions))
        if errors:
            raise ValidationFailed(Text("Some fields are not valid"), fields=errors)

    def _guarded_update(self, ctx, entity, record_id: int, version: int, values: dict) -> None:
        params = {**values, "b_id": record_id, "b_version": version}
        with guard_constraints(ctx, entity, values):
            result = ctx.session.execute(entity.statements.guarded_update, params)
        note_written(ctx.session, entity.table.name)
        if result.rowcount != 1:
            self._lost_race(ctx, entity, record_id, version)
