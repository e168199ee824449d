"""Definitions' drafts and published versions: save and validate a draft, read one definition or list them,
delete one never published, list its versions. Publishing is :mod:`lowcode.definitions.publisher`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.core.definition_models import Definition, DefinitionVersion, DraftStep
from lowcode.core.models import utcnow
from lowcode.definitions.published import (
    DEFINITIONS_COUNTER,
    all_published,
    bump_counter,
    published_app_documents,
    read_counter,
)
from lowcode.definitions.validate import validate_document
from lowcode.errors import BadRequest, DefinitionInvalid, NotFound

__all__ = [  # re-exported for callers of the store
    "DEFINITIONS_COUNTER",
    "all_published",
    "bump_counter",
    "published_app_documents",
    "read_counter",
]


@dataclass(frozen=True)
class DefinitionView:
    """What the API returns for one definition."""

    app: str
    kind: str
    name: str
    draft: dict[str, Any] | None
    published: dict[str, Any] | None
    published_version: int | None


def find_definition(session: Session, app: str, kind: str, name: str) -> Definition | None:
    """The definition of that app, kind and name, or None."""
    return session.scalar(
        sa.select(Definition).where(Definition.app == app, Definition.kind == kind, Definition.name == name)
    )


def require_definition(session: Session, app: str, kind: str, name: str) -> Definition:
    """The definition of that app, kind and name. :raises NotFound:"""
    found = find_definition(session, app, kind, name)
    if found is None:
        raise NotFound(f"No {kind} definition '{name}' in app '{app}'")
    return found


def published_body(session: Session, definition: Definition) -> dict[str, Any] | None:
    """The body of the currently published version, if any."""
    if definition.published_version is None:
        return None
    return session.scalar(
        sa.select(DefinitionVersion.body).where(
            DefinitionVersion.definition_id == definition.id,
            DefinitionVersion.version == definition.published_version,
        )
    )


def get_definition(session: Session, app: str, kind: str, name: str) -> DefinitionView:
    """Draft and published body of one definition. :raises NotFound:"""
    d = require_definition(session, app, kind, name)
    return DefinitionView(app, kind, name, d.draft, published_body(session, d), d.published_version)


def list_definitions(session: Session, app: str | None = None) -> list[Definition]:
    """All definitions, optionally of one app, ordered by app, kind, name."""
    query = sa.select(Definition).order_by(Definition.app, Definition.kind, Definition.name)
    if app is not None:
        query = query.where(Definition.app == app)
    return list(session.scalars(query))


def save_draft(session: Session, app: str, kind: str, name: str, body: Any) -> Definition:
    """Validate and store a draft. :raises DefinitionInvalid: with JSON paths of every error."""
    if kind != "app" and find_definition(session, app, "app", app) is None and app != name:
        raise NotFound(f"App '{app}' does not exist; create its app definition first")
    validate_document(kind, name, body)
    check_app_name(app, kind, name)
    found = find_definition(session, app, kind, name)
    if found is None:
        found = Definition(app=app, kind=kind, name=name)
        session.add(found)
    found.draft = copy.deepcopy(body)
    found.draft_updated_at = utcnow()
    found.updated_at = utcnow()
    session.flush()
    return found


def delete_unpublished(session: Session, app: str, kind: str, name: str) -> None:
    """Delete a definition that was never published (its draft and the designer's steps of it); a published
    one is kept (its versions are history: disable or change it instead).

    :raises NotFound: no such definition; :raises BadRequest: it has been published.
    """
    found = require_definition(session, app, kind, name)
    if found.published_version is not None:
        raise BadRequest(
            f"{kind} '{name}' has been published: it cannot be deleted, only changed or disabled"
        )
    session.execute(
        sa.delete(DraftStep).where(DraftStep.app == app, DraftStep.kind == kind, DraftStep.name == name)
    )
    session.delete(found)
    session.flush()


def versions(session: Session, app: str, kind: str, name: str) -> list[DefinitionVersion]:
    """Every published version, newest first."""
    d = require_definition(session, app, kind, name)
    return list(
        session.scalars(
            sa.select(DefinitionVersion)
            .where(DefinitionVersion.definition_id == d.id)
            .order_by(DefinitionVersion.version.desc())
        )
    )


def check_app_name(app: str, kind: str, name: str) -> None:
    """An app definition carries its own app's name (another name would stand in for the app's own)."""
    if kind == "app" and name != app:
        raise DefinitionInvalid(
            f"The app definition of app '{app}' must be named '{app}'",
            fields={"name": [f"name '{name}' is not the app's name '{app}'"]},
        )
