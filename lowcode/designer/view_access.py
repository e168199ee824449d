"""Who may design a list view: whoever may design the entity it lists (:func:`view_work`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from lowcode.api.edge import unit_of_work
from lowcode.definitions import store
from lowcode.designer.blueprint import DesignContext, design_work

KIND = "view"


def view_entity(app: str, name: str) -> str | None:
    """The entity a view (its draft, else its published body) lists; None for an unknown view."""
    with unit_of_work(write=False, source="page") as ctx:
        found = next(
            (d for d in store.list_definitions(ctx.session, app) if d.kind == KIND and d.name == name), None
        )
        body = None if found is None else (found.draft or store.published_body(ctx.session, found))
        return body.get("entity") if isinstance(body, dict) else None


@contextmanager
def view_work(app: str, name: str) -> Iterator[DesignContext]:
    """The designer's unit of work on a view: who may design its entity may design its list (an unknown view:
    who may design the app, then a 404)."""
    with design_work(app, view_entity(app, name)) as dc:
        yield dc
