"""What the designer works on: an app's definitions as they stand in the designer (each draft, else its
published body) and the choices its panels offer. Who may design what: :mod:`lowcode.auth.design_access`
(re-exported here for the designer's modules)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lowcode.auth.design_access import design_scope, may_design_app, may_design_entity, require_design
from lowcode.definitions import store
from lowcode.definitions.published import published_app_documents
from lowcode.fields.base import normalise_label, pick_label
from lowcode.runtime.context import WriteContext

__all__ = [
    "Workspace",
    "design_scope",
    "in_scope",
    "may_design_app",
    "may_design_entity",
    "require_design",
]


@dataclass(frozen=True)
class Workspace:
    """One app's working documents (``kind -> name -> body``) and the language labels are shown in."""

    app: str
    docs: Mapping[str, Mapping[str, dict[str, Any]]]
    language: str
    published: Mapping[str, Mapping[str, dict[str, Any]]] = field(default_factory=dict)
    """The published bodies by kind and name (what a draft is compared with)."""

    @classmethod
    def load(cls, ctx: WriteContext, app: str, language: str) -> Workspace:
        """Every definition of the app: its draft where there is one, else its published body (two queries)."""
        published = published_app_documents(ctx.session, app)
        docs: dict[str, dict[str, dict[str, Any]]] = {
            kind: dict(bodies) for kind, bodies in published.items()
        }
        for d in store.list_definitions(ctx.session, app):
            if d.draft is not None:
                docs.setdefault(d.kind, {})[d.name] = d.draft
        return cls(app, docs, language, published)

    def pending(self, kind: str, name: str) -> bool:
        """Whether the definition's draft differs from its published body (it has something to publish)."""
        body = self.docs.get(kind, {}).get(name)
        return body is not None and body != self.published.get(kind, {}).get(name)

    def entities(self) -> dict[str, dict[str, Any]]:
        """The entity documents by name."""
        return dict(self.docs.get("entity", {}))

    def label(self, doc: Mapping[str, Any], fallback: str) -> str:
        """A document's (or field's) label in the workspace's language."""
        return pick_label(normalise_label(doc.get("label"), fallback), self.language, fallback)

    def form_of(self, entity: str) -> tuple[str, dict[str, Any]] | None:
        """The form that governs an entity (the first by name, as the runtime picks it)."""
        names = sorted(n for n, body in self.docs.get("form", {}).items() if body.get("entity") == entity)
        return (names[0], self.docs["form"][names[0]]) if names else None

    def view_of(self, entity: str) -> tuple[str, dict[str, Any]] | None:
        """The list view of an entity (the first by name, as the runtime picks it)."""
        names = sorted(n for n, body in self.docs.get("view", {}).items() if body.get("entity") == entity)
        return (names[0], self.docs["view"][names[0]]) if names else None

    def choices_for(self, entity: str):
        """The choices provider of a field panel of ``entity`` (``x-widget`` -> [(value, text)])."""
        entities = self.entities()
        own = entities.get(entity, {}).get("fields") or []

        def fields_of(name: str, types: set[str] | None = None) -> list[tuple[str, str]]:
            body = entities.get(name) or {}
            return [
                (f["name"], f"{self.label(f, f['name'])} ({f['name']})")
                for f in body.get("fields") or ()
                if types is None or f.get("type") in types
            ]

        def child_entities() -> list[tuple[str, str]]:
            return [(n, self.label(b, n)) for n, b in sorted(entities.items()) if b.get("child")]

        def linked_fields() -> list[tuple[str, str]]:
            targets = sorted(
                {(f.get("options") or {}).get("entity") for f in own if f.get("type") == "link"} - {None}
            )
            return [(key, f"{t}.{text}") for t in targets for key, text in fields_of(t)]

        def child_fields() -> list[tuple[str, str]]:
            tables = [(f.get("options") or {}).get("entity") for f in own if f.get("type") == "child_table"]
            return [(key, f"{t}.{text}") for t in tables if t for key, text in fields_of(t)]

        providers = {
            "entity": lambda: [
                (n, self.label(b, n)) for n, b in sorted(entities.items()) if not b.get("child")
            ],
            "child_entity": child_entities,
            "child_table": lambda: fields_of(entity, {"child_table"}),
            "child_field": child_fields,
            "field": lambda: fields_of(entity, {"date", "datetime"}),
            "link_field": lambda: fields_of(entity, {"link"}),
            "target_field": linked_fields,
        }

        def choices(widget: str) -> list[tuple[str, str]]:
            provider = providers.get(widget)
            return provider() if provider else []

        return choices


def in_scope(scope: frozenset[str] | None, kind: str, body: Mapping[str, Any]) -> bool:
    """Whether a definition lies within a design scope: an entity of it, or a form or view of one."""
    if scope is None:
        return True
    if kind == "entity":
        return body.get("name") in scope
    return kind in ("form", "view") and body.get("entity") in scope
