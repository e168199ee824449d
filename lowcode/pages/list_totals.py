"""The list's totals row: the sums of its money, decimal and whole-number columns over every record the
list's filter and search match (computed in SQL, within the reader's record rules; never a hidden field)."""

from __future__ import annotations

from lowcode.api.edge import services
from lowcode.errors import LowcodeError
from lowcode.pages.display import Lookups, is_link, is_user
from lowcode.runtime.compiler import CompiledEntity, CompiledField
from lowcode.runtime.context import WriteContext
from lowcode.runtime.queries import ListQuery

NOT_SUMMED = frozenset({"percent", "autonumber"})
"""Numeric field types whose sum means nothing."""


def summable(entity: CompiledEntity, cf: CompiledField) -> bool:
    """Whether a column is added up: a stored decimal or whole number that is not a link, a user, a
    percentage or a sequence number."""
    return (
        entity.kinds.get(cf.name) in ("decimal", "integer")
        and cf.fdef.type not in NOT_SUMMED
        and not is_link(cf)
        and not is_user(cf)
    )


def totals_row(
    ctx: WriteContext,
    entity: CompiledEntity,
    query: ListQuery,
    columns: list[CompiledField],
    lookups: Lookups,
) -> list[str] | None:
    """One formatted cell per column ("" where nothing is added up), or None when no column is summable
    or the sums cannot be computed (the list shows its rows without totals then)."""
    names = tuple(cf.name for cf in columns if summable(entity, cf))
    if not names:
        return None
    try:
        sums = services().queries.totals(ctx, entity.app, entity.name, query, names)
    except LowcodeError:
        return None
    return [lookups.format(entity, cf, sums.get(cf.name)) if cf.name in sums else "" for cf in columns]
