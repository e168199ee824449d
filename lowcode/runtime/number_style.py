"""The number style of a field within its entity: the field type's ``number_style`` hook, with the fields a
computed value comes from resolved (a formula or rollup over money fields is money). Used by the pages'
number formats and by rule messages, so both show a field's numbers alike."""

from __future__ import annotations

from typing import Any

from lowcode.core.number_styles import NumberStyle
from lowcode.runtime.compiler import CompiledEntity, CompiledField

MAX_DEPTH = 4
"""How far a computed field's sources are followed (formula of a rollup of a formula ...)."""


def number_style(
    snapshot: Any, entity: CompiledEntity, cf: CompiledField, depth: int = 0
) -> NumberStyle | None:
    """The style of ``cf``'s numbers (None: not a number), following the fields it is computed from."""

    def style_of(child: str | None, name: str) -> NumberStyle | None:
        if depth >= MAX_DEPTH:
            return None
        owner = entity
        if child is not None:
            table = entity.fields.get(child)
            target = table.fdef.options.get("entity") if table is not None else None
            if target is None:
                return None
            owner = snapshot.entity(entity.app, target)
        source = owner.fields.get(name)
        return None if source is None else number_style(snapshot, owner, source, depth + 1)

    return cf.ftype.number_style(cf.fdef, style_of)
