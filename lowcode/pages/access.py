"""What the signed-in actor may do and see, asked of the permission service - for showing buttons,
hiding fields and choosing which inputs a form posts. The services enforce the same rules again."""

from __future__ import annotations

from typing import Any

from lowcode.api.edge import services
from lowcode.errors import PermissionDenied
from lowcode.pages.binding import is_bindable, is_child_table
from lowcode.runtime.compiler import CompiledEntity, CompiledField
from lowcode.runtime.context import WriteContext


def allowed(
    ctx: WriteContext, entity: CompiledEntity, action: str, record: dict[str, Any] | None = None
) -> bool:
    """Whether the permission service lets the actor do ``action`` (on ``record``, when given)."""
    try:
        services().permissions.authorize(ctx.actor, entity, action, record)
    except PermissionDenied:
        return False
    return True


class FieldRules:
    """The actor's hidden and read-only fields per entity (asked once per entity)."""

    def __init__(self, ctx: WriteContext):
        self.ctx = ctx
        self._hidden: dict[str, frozenset[str]] = {}
        self._locked: dict[str, frozenset[str]] = {}

    def hidden(self, entity: CompiledEntity) -> frozenset[str]:
        """Fields the actor may not see."""
        if entity.name not in self._hidden:
            self._hidden[entity.name] = services().permissions.hidden_fields(self.ctx.actor, entity)
        return self._hidden[entity.name]

    def locked(self, entity: CompiledEntity) -> frozenset[str]:
        """Fields the actor may see but not write."""
        if entity.name not in self._locked:
            self._locked[entity.name] = services().permissions.read_only_fields(self.ctx.actor, entity)
        return self._locked[entity.name]

    def freeze(self, entity: CompiledEntity, names: frozenset[str]) -> None:
        """Show ``names`` read-only as well (fields the record's workflow state locks)."""
        self._locked[entity.name] = self.locked(entity) | names

    def allow(self, entity: CompiledEntity, names: frozenset[str]) -> None:
        """Let the form post ``names`` although no update grant does (the fields a transition takes)."""
        self._locked[entity.name] = self.locked(entity) - names

    def visible(self, entity: CompiledEntity, fields) -> list[CompiledField]:
        """``fields`` without the hidden ones."""
        hidden = self.hidden(entity)
        return [cf for cf in fields if cf.name not in hidden]

    def columns(self, child: CompiledEntity) -> list[CompiledField]:
        """The visible stored fields of a child entity (its table's columns)."""
        return self.visible(child, [cf for cf in child.fields.values() if cf.has_column])

    def editable(self, entity: CompiledEntity, cf: CompiledField) -> bool:
        """Whether the form posts this field for this actor."""
        return is_bindable(cf) and cf.name not in self.locked(entity) and cf.name not in self.hidden(entity)

    def bindable(self, entity: CompiledEntity, fields: list[CompiledField]):
        """The editable ``fields`` and, for each editable child table, its child entity and editable
        columns: what :func:`lowcode.pages.binding.bind_form` reads from the posted form."""
        plain, children = [], {}
        for cf in fields:
            if not self.editable(entity, cf):
                continue
            if is_child_table(cf):
                child = self.ctx.snapshot.entity(entity.app, cf.fdef.options["entity"])
                children[cf.name] = (child, [c for c in self.columns(child) if self.editable(child, c)])
            else:
                plain.append(cf)
        return plain, children
