"""Cross-document checks: every definition of an app checked against the others before a publish.

The documents checked are the app's published definitions with the drafts being published in their place
(:class:`AppDocuments`, built by the definition store). So publishing a rule whose expression names a
missing field is refused, and so is publishing an entity that drops a field which a published rule, view,
form or role still uses - unless the dependants are published with it (publishing all drafts of an app).

Each definition kind has its check in :data:`definition_checks` (``check(doc, docs) -> {path: [messages]}``,
paths ``<kind>:<name>/<JSON path>``); a kind without one is refused, never passed unchecked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from lowcode.definitions.names import Shape, record_shape
from lowcode.errors import LowcodeError
from lowcode.registry import Registry
from lowcode.runtime.compiler import CompiledEntity, compile_entity


class AppDocuments:
    """The definitions of one app as they would be after the publish, by kind and name; each entity
    compiled once on demand; and the deployment ``settings`` a check may need (the webhook allow-list)."""

    def __init__(self, docs: Mapping[str, Mapping[str, Any]], settings: Mapping[str, Any] | None = None):
        self.docs = docs
        self.settings: Mapping[str, Any] = settings or {}
        self._compiled: dict[str, CompiledEntity | None] = {}

    def of(self, kind: str) -> Mapping[str, Any]:
        """The documents of one kind by name."""
        return self.docs.get(kind, {})

    @property
    def entities(self) -> Mapping[str, Any]:
        """The entity documents by name."""
        return self.of("entity")

    def compiled(self, entity: str) -> CompiledEntity | None:
        """The entity compiled (field kinds, columns, computed fields); None when there is no such entity."""
        if entity not in self._compiled:
            doc = self.entities.get(entity)
            try:  # without its unique groups, which the entity's own check judges
                body = {**doc, "unique_together": []} if doc else None
                self._compiled[entity] = compile_entity("check", body, 0, sa.MetaData()) if body else None
            except (LowcodeError, sa.exc.SQLAlchemyError):  # its own checks report why
                self._compiled[entity] = None
        return self._compiled[entity]

    def kinds(self, entity: str) -> dict[str, str]:
        """Field name -> condition kind of an entity (system fields included); empty if unknown."""
        compiled = self.compiled(entity)
        return compiled.kinds if compiled else {}

    def fields(self, entity: str) -> set[str]:
        """The declared field names of an entity (no system fields); empty if unknown."""
        return {f["name"] for f in self.entities.get(entity, {}).get("fields", [])}

    def writable(self, entity: str) -> set[str]:
        """Fields a write may set: stored and not computed (child tables not included)."""
        compiled = self.compiled(entity)
        return {f.name for f in compiled.writable} if compiled else set()

    def columns(self, entity: str) -> set[str]:
        """The columns of the entity's table (system columns included)."""
        compiled = self.compiled(entity)
        return {c.name for c in compiled.table.columns} if compiled else set()

    def children(self, entity: str) -> dict[str, str]:
        """Child-table field -> the entity of its rows."""
        compiled = self.compiled(entity)
        if compiled is None:
            return {}
        return {f.name: f.fdef.options.get("entity", "") for f in compiled.child_fields}

    def record(self, entity: str) -> Shape:
        """The shape of a record of ``entity`` in an expression's scope."""
        return record_shape(entity, self.fields(entity))


DefinitionCheck = Callable[[Mapping[str, Any], AppDocuments], dict[str, list[str]]]
definition_checks: Registry[DefinitionCheck] = Registry("definition check")


def register_check(
    kind: str, check: DefinitionCheck, registry: Registry[DefinitionCheck] = definition_checks
) -> None:
    """Register the cross-document check of a definition kind (once per registry)."""
    if kind not in registry:
        registry.register(kind, check)


def app_errors_for(
    docs: Mapping[str, Mapping[str, Any]],
    settings: Mapping[str, Any] | None = None,
    registry: Registry[DefinitionCheck] = definition_checks,
) -> dict[str, list[str]]:
    """Every cross-document problem of one app's documents (by kind and name), keyed by JSON path.

    :raises UnknownType: for a kind with no registered check.
    """
    checked = AppDocuments(docs, settings)
    errors: dict[str, list[str]] = {}
    for kind in sorted(docs):
        check = registry.get(kind)
        for _name, doc in sorted(docs[kind].items()):
            for path, messages in check(doc, checked).items():
                known = errors.setdefault(path, [])
                known += [m for m in messages if m not in known]
    return errors
