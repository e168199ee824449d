"""Optimistic concurrency of the record service: the version a client edited must be the stored one."""

from __future__ import annotations

from typing import Any

from lowcode.errors import PreconditionRequired, VersionConflict
from lowcode.runtime import audit
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext


def require_version(
    ctx: WriteContext,
    entity: CompiledEntity,
    current: dict[str, Any],
    expected: int | None,
    hidden: frozenset[str],
) -> None:
    """:raises PreconditionRequired: without a version; :raises VersionConflict: for a stale one."""
    if expected is None:
        raise PreconditionRequired(
            "The version being edited is required (If-Match header or 'version' in the body)"
        )
    if expected != current["version"]:
        raise_conflict(ctx, entity, current, expected, hidden)


def raise_conflict(
    ctx: WriteContext, entity: CompiledEntity, current: dict[str, Any], expected: int, hidden: frozenset[str]
) -> None:
    """Refuse a write based on version ``expected``, naming the fields (but ``hidden``) changed since, with
    their current values. :raises VersionConflict:"""
    names = audit.fields_changed_since(ctx.session, entity.app, entity.name, current["id"], expected) - hidden
    changed = {
        n: entity.fields[n].ftype.dump(entity.fields[n].fdef, current.get(n))
        for n in sorted(names)
        if n in entity.fields and entity.fields[n].has_column
    }
    raise VersionConflict(
        f"Record {current['id']} was changed by someone else (you edited version {expected}, "
        f"it is now version {current['version']})",
        current_version=current["version"],
        changed=changed,
    )
