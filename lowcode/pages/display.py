"""Showing values: each field type's ``format``, link titles loaded in batches, user names.

Titles of linked records are loaded with one ``QueryService.list`` call per link field (an ``in``
condition on ``id``), never one query per row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import url_for

from lowcode.api.edge import services
from lowcode.auth.users import user_names
from lowcode.errors import LowcodeError
from lowcode.pages.numbers import NumberFormats
from lowcode.runtime.compiler import CompiledEntity, CompiledField
from lowcode.runtime.context import WriteContext
from lowcode.runtime.queries import ListQuery, SortKey

MAX_CHOICES = 200
"""A link field offers a select of target records only when there are fewer than this many."""


def is_link(cf: CompiledField) -> bool:
    """Whether the field holds the id of another entity's record."""
    return bool(getattr(cf.ftype, "references_entity", False))


def is_user(cf: CompiledField) -> bool:
    """Whether the field holds a user id."""
    return bool(getattr(cf.ftype, "references_user", False))


def is_numeric(cf: CompiledField) -> bool:
    """Whether the field shows a number (right-aligned in tables, summed in totals)."""
    return cf.ftype.value_kind(cf.fdef) in ("integer", "decimal") and not is_link(cf) and not is_user(cf)


def record_title(entity: CompiledEntity, record: dict[str, Any], language: str) -> str:
    """The record's title (its title field, formatted) or ``#id``."""
    name = entity.title_field
    if name and name in entity.fields and record.get(name) not in (None, ""):
        cf = entity.fields[name]
        return cf.ftype.format(cf.fdef, record[name], language)
    return f"#{record.get('id')}"


def link_titles(
    ctx: WriteContext, entity: CompiledEntity, ids: Iterable[Any], language: str
) -> dict[int, str]:
    """``{id: title}`` of records of ``entity`` in one query; ids the actor may not read are left out."""
    wanted = sorted({i for i in ids if isinstance(i, int) and not isinstance(i, bool)})
    if not wanted:
        return {}
    query = ListQuery(
        condition={"field": "id", "op": "in", "value": wanted}, limit=len(wanted), with_total=False
    )
    try:
        page = services().queries.list(ctx, entity.app, entity.name, query)
    except LowcodeError:
        return {}
    titled = entity.title_field not in services().permissions.hidden_fields(ctx.actor, entity)
    return {r["id"]: record_title(entity, r, language) if titled else f"#{r['id']}" for r in page.records}


class Lookups:
    """Titles for every link and user field of a set of records, loaded per field in one query each."""

    def __init__(self, ctx: WriteContext, language: str):
        self.ctx = ctx
        self.language = language
        self.titles: dict[tuple[str, str], dict[int, str]] = {}
        self.users: dict[int, str] = {}
        self.numbers = NumberFormats(ctx.snapshot, language)

    def load(self, entity: CompiledEntity, values_by_field: dict[str, set[Any]]) -> None:
        """Load titles for ``{field name: ids}`` of ``entity``'s link and user fields."""
        user_ids: set[int] = set()
        for name, ids in values_by_field.items():
            cf = entity.fields.get(name)
            if cf is None:
                continue
            if is_link(cf):
                target = self.ctx.snapshot.entity(entity.app, cf.fdef.options["entity"])
                key = (target.app, target.name)
                self.titles.setdefault(key, {}).update(link_titles(self.ctx, target, ids, self.language))
            elif is_user(cf):
                user_ids.update(i for i in ids if isinstance(i, int))
        missing = sorted(user_ids - set(self.users))
        if missing:
            self.users.update(user_names(self.ctx.session, missing))

    def load_records(self, entity: CompiledEntity, records: Iterable[dict[str, Any]]) -> None:
        """Load titles for the link and user fields of ``records``."""
        records = list(records)
        wanted = {
            cf.name: {r.get(cf.name) for r in records}
            for cf in entity.fields.values()
            if is_link(cf) or is_user(cf)
        }
        self.load(entity, wanted)

    def format(self, entity: CompiledEntity, cf: CompiledField, value: Any) -> str:
        """The text shown for ``value`` of field ``cf`` (titles for links and users)."""
        if value is None:
            return ""
        if is_link(cf):
            target = (entity.app, cf.fdef.options["entity"])
            return self.titles.get(target, {}).get(value, f"#{value}")
        if is_user(cf):
            return self.users.get(value, f"#{value}")
        try:
            number = self.numbers.format(entity, cf, value)
            return cf.ftype.format(cf.fdef, value, self.language) if number is None else number
        except (TypeError, ValueError, AttributeError, KeyError, InvalidOperation):
            return str(value)

    def cell(self, entity: CompiledEntity, cf: CompiledField, value: Any) -> dict[str, Any]:
        """``{"text", "url"}`` shown for a value on a record page: a linked record the reader may read is its
        title and a link to its page (no link for child rows, which have no page of their own); one the
        reader may not read shows nothing."""
        if value is None or not is_link(cf):
            return {"text": self.format(entity, cf, value), "url": None}
        target = self.ctx.snapshot.entity(entity.app, cf.fdef.options["entity"])
        title = self.titles.get((target.app, target.name), {}).get(value)
        if title is None:
            return {"text": "", "url": None}
        url = (
            None
            if target.is_child
            else url_for("pages.detail", app=target.app, entity=target.name, record_id=value)
        )
        return {"text": title, "url": url}

    def format_json(self, entity: CompiledEntity, cf: CompiledField, value: Any) -> str:
        """Like :meth:`format` for a JSON value from the audit log (ISO dates, decimal strings)."""
        return self.format(entity, cf, from_json(entity.kinds.get(cf.name), value))


def from_json(kind: str | None, value: Any) -> Any:
    """A JSON value of the audit log back as the Python value of its kind (best effort)."""
    if not isinstance(value, str):
        return value
    try:
        if kind == "decimal":
            return Decimal(value)
        if kind == "date":
            return dt.date.fromisoformat(value)
        if kind == "datetime":
            return dt.datetime.fromisoformat(value.removesuffix("Z"))
    except (ValueError, InvalidOperation):
        return value
    return value


def format_moment(value: dt.datetime | None) -> str:
    """A date-time as ``YYYY-MM-DD HH:MM`` (UTC)."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%d %H:%M")


def title_sort(entity: CompiledEntity) -> tuple[SortKey, ...]:
    """Sort keys that order records by their title field, when it is sortable."""
    return (SortKey(entity.title_field),) if entity.title_field in entity.kinds else ()


def choices_for(
    ctx: WriteContext, entity: CompiledEntity, cf: CompiledField, language: str
) -> list[tuple[str, str]] | None:
    """Options ``[(value, label)]`` of a link or user field's select, or None when there are too many
    (or they may not be read): the form then asks for an id."""
    if is_user(cf):
        names = user_names(ctx.session, limit=MAX_CHOICES)
        return None if len(names) >= MAX_CHOICES else [(str(i), name) for i, name in names.items()]
    target = ctx.snapshot.entity(entity.app, cf.fdef.options["entity"])
    titled = target.title_field not in services().permissions.hidden_fields(ctx.actor, target)
    query = ListQuery(sort=title_sort(target) if titled else (), limit=MAX_CHOICES - 1, with_total=False)
    try:
        page = services().queries.list(ctx, target.app, target.name, query)
    except LowcodeError:
        return None
    if page.next_cursor is not None:
        return None
    return [
        (str(r["id"]), record_title(target, r, language) if titled else f"#{r['id']}") for r in page.records
    ]
