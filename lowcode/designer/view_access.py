"""Who may design a form or a list view: whoever may design the entity it belongs to (:func:`part_work`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from lowcode.api.edge import unit_of_work
from lowcode.definitions import store
from lowcode.designer.blueprint import DesignContext, design_work

KIND = "view"


def part_entity(app: str, kind: str, name: str) -> str | None:
    """The entity a form or view (its draft, else its published body) belongs to; None for an unknown one."""
    with unit_of_work(write=False, source="page") as ctx:
        found = next(
            (d for d in store.list_definitions(ctx.session, app) if d.kind == kind and d.name == name), None
        )
        body = None if found is None else (found.draft or store.published_body(ctx.session, found))
        return body.get("entity") if isinstance(body, dict) else None


def view_entity(app: str, name: str) -> str | None:
    """The entity a view lists; None for an unknown view."""
    return part_entity(app, KIND, name)


@contextmanager
def part_work(app: str, kind: str, name: str) -> Iterator[DesignContext]:
    """The designer's unit of work on a form or view: who may design its entity may design it (an unknown
    one: who may design the app, then a 404)."""
    with design_work(app, part_entity(app, kind, name)) as dc:
        yield dc


@contextmanager
def view_work(app: str, name: str) -> Iterator[DesignContext]:
    """The designer's unit of work on a view (:func:`part_work`)."""
    with part_work(app, KIND, name) as dc:
        yield dc
