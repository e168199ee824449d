"""Text search and title filters as SQL: a field's own text, a select field's option labels (in any
language), a link field's target title (a subquery on the target table within the actor's read rules).

Used by :class:`lowcode.runtime.queries.QueryService`; nothing here reads rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from lowcode.errors import PermissionDenied
from lowcode.fields.base import normalise_label
from lowcode.runtime.compiler import CompiledEntity, CompiledField

TITLE_MODES = ("equals", "contains", "starts_with")


@dataclass(frozen=True)
class TitleMatch:
    """Records whose link ``field`` points at a record whose title equals / contains / starts with ``text``
    (``negate``: those that do not, empty links included)."""

    field: str
    text: str
    mode: str = "contains"
    negate: bool = False


def like_pattern(text: str, mode: str = "contains") -> str:
    """A lower-cased LIKE pattern (escape character ``\\``) for ``text``."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if mode == "equals":
        return escaped
    return escaped + "%" if mode == "starts_with" else "%" + escaped + "%"


def _text_of(column) -> sa.ColumnElement:
    return sa.func.lower(sa.cast(column, sa.String) if not isinstance(column.type, sa.String) else column)


def is_link_field(cf: CompiledField) -> bool:
    """Whether the field holds the id of another entity's record."""
    return bool(getattr(cf.ftype, "references_entity", False))


def is_select_field(cf: CompiledField) -> bool:
    """Whether the field stores one value of a fixed list of labelled choices."""
    return cf.fdef.type == "select"


def choice_values_labelled(cf: CompiledField, text: str, mode: str = "contains") -> list[str]:
    """Values of a select field whose value or label (in any language) matches ``text`` (case-insensitive)."""
    wanted = text.strip().lower()
    out = []
    for choice in cf.fdef.options.get("choices", []):
        words = [choice["value"], *normalise_label(choice.get("label"), choice["value"]).values()]
        for word in (w.lower() for w in words if isinstance(w, str)):
            if (
                wanted == word
                or (mode == "contains" and wanted in word)
                or (mode == "starts_with" and word.startswith(wanted))
            ):
                out.append(choice["value"])
                break
    return out


class TitleSearch:
    """Builds title subqueries for one request: ``scope(entity)`` gives the actor's read rules on a target
    as SQL (raising PermissionDenied when they may not read it), ``hidden(entity)`` their hidden fields."""

    def __init__(self, entity_of: Callable[[str], CompiledEntity], scope, hidden):
        self.entity_of = entity_of
        self.scope = scope
        self.hidden = hidden

    def linked_ids(self, cf: CompiledField, text: str, mode: str) -> sa.Select | None:
        """Ids of the link target's readable, current records whose title matches (None: the actor may not
        search that target - it is not readable or its title is hidden from them)."""
        target = self.entity_of(cf.fdef.options["entity"])
        title = target.title_field
        if not title or title not in target.table.c:
            return None
        try:
            if title in self.hidden(target):
                return None
            scope = self.scope(target)
        except PermissionDenied:
            return None
        tt = target.table
        match = _text_of(tt.c[title])
        if mode == "equals":
            cond = match == text.strip().lower()
        else:
            cond = match.like(like_pattern(text.strip(), mode), escape="\\")
        return sa.select(tt.c.id).where(cond, tt.c.deleted_at.is_(None), scope)

    def title_match(self, entity: CompiledEntity, match: TitleMatch) -> sa.ColumnElement[bool]:
        """A :class:`TitleMatch` as a condition on ``entity``'s table.

        :raises PermissionDenied: for a hidden field or a target the actor may not search."""
        cf = entity.fields.get(match.field)
        if cf is None or not is_link_field(cf) or match.mode not in TITLE_MODES:
            raise PermissionDenied(f"'{match.field}' is not a link field of {entity.name} you may filter by")
        if match.field in self.hidden(entity):
            raise PermissionDenied(f"You may not filter by {match.field}")
        ids = self.linked_ids(cf, match.text, match.mode)
        if ids is None:
            raise PermissionDenied(f"You may not search the records {match.field} links to")
        column = entity.table.c[match.field]
        return sa.or_(column.is_(None), column.not_in(ids)) if match.negate else column.in_(ids)

    def search(self, entity: CompiledEntity, names: tuple[str, ...], text: str) -> sa.ColumnElement[bool]:
        """Records where any of ``names`` matches ``text``: text columns by their text, select fields by
        their labels too, link fields by their target's title."""
        pattern = like_pattern(text)
        clauses = []
        for name in names:
            cf = entity.fields.get(name)
            column = entity.table.c.get(name)
            if column is None:
                continue
            if cf is not None and is_link_field(cf):
                ids = self.linked_ids(cf, text, "contains")
                if ids is not None:
                    clauses.append(column.in_(ids))
                continue
            if cf is not None and is_select_field(cf):
                values = choice_values_labelled(cf, text)
                if values:
                    clauses.append(column.in_(values))
            clauses.append(_text_of(column).like(pattern, escape="\\"))
        return sa.or_(*clauses) if clauses else sa.false()
