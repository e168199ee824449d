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

from lowcode.definitions.names import Shape, record_shape
from lowcode.errors import LowcodeError
from lowcode.fields import field_types
from lowcode.fields.base import CHILD_SYSTEM_FIELDS, SYSTEM_FIELDS, FieldDef
from lowcode.registry import Registry
from lowcode.runtime.compiler import SYSTEM_KINDS, CompiledField


class AppDocuments:
    """The definitions of one app as they would be after the publish, by kind and name; each entity's fields
    bound to their types once, on demand; and the deployment ``settings`` a check may need (the webhook
    allow-list)."""

    def __init__(self, docs: Mapping[str, Mapping[str, Any]], settings: Mapping[str, Any] | None = None):
        self.docs = docs
        self.settings: Mapping[str, Any] = settings or {}
        self._fields: dict[str, dict[str, CompiledField]] = {}

    def of(self, kind: str) -> Mapping[str, Any]:
        """The documents of one kind by name."""
        return self.docs.get(kind, {})

    @property
    def entities(self) -> Mapping[str, Any]:
        """The entity documents by name."""
        return self.of("entity")

    def typed_fields(self, entity: str) -> dict[str, CompiledField]:
        """An entity's fields bound to their field types (no table is built); empty if unknown."""
        if entity not in self._fields:
            typed: dict[str, CompiledField] = {}
            for doc in self.entities.get(entity, {}).get("fields", []):
                try:
                    fdef = FieldDef.from_json(doc)
                    typed[fdef.name] = CompiledField(fdef, field_types.get(fdef.type))
                except (LowcodeError, KeyError, TypeError):  # the entity's own checks report it
                    continue
            self._fields[entity] = typed
        return self._fields[entity]

    def kinds(self, entity: str) -> dict[str, str]:
        """Field name -> condition kind of an entity (system fields included, as the compiler has them);
        empty if unknown."""
        if entity not in self.entities:
            return {}
        kinds = dict(SYSTEM_KINDS)
        for cf in self.typed_fields(entity).values():
            kind = cf.ftype.value_kind(cf.fdef)
            if kind and cf.has_column:
                kinds[cf.name] = kind
        return kinds

    def fields(self, entity: str) -> set[str]:
        """The declared field names of an entity (no system fields); empty if unknown."""
        return {f["name"] for f in self.entities.get(entity, {}).get("fields", [])}

    def writable(self, entity: str) -> set[str]:
        """Fields a write may set: stored and not computed (child tables not included)."""
        return {n for n, cf in self.typed_fields(entity).items() if cf.has_column and not cf.ftype.computed}

    def columns(self, entity: str) -> set[str]:
        """The columns of the entity's table (system columns included)."""
        if entity not in self.entities:
            return set()
        stored = {n for n, cf in self.typed_fields(entity).items() if cf.has_column}
        return (
            stored
            | set(SYSTEM_FIELDS)
            | (set(CHILD_SYSTEM_FIELDS) if self.entities[entity].get("child") else set())
        )

    def children(self, entity: str) -> dict[str, str]:
        """Child-table field -> the entity of its rows."""
        typed = self.typed_fields(entity).values()
        return {
            cf.name: cf.fdef.options.get("entity", "")
            for cf in typed
            if getattr(cf.ftype, "holds_children", False)
        }

    def user_fields(self, entity: str) -> set[str]:
        """Fields that hold a user (notify recipients)."""
        return {
            n for n, cf in self.typed_fields(entity).items() if getattr(cf.ftype, "references_user", False)
        }

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


def combined(*checks: DefinitionCheck) -> DefinitionCheck:
    """One check of a kind made of several (e.g. a role's own check and the one of its transition grants)."""

    def check(doc: Mapping[str, Any], docs: AppDocuments) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        for one in checks:
            for path, messages in one(doc, docs).items():
                errors.setdefault(path, []).extend(messages)
        return errors

    return check


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
