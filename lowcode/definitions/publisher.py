"""Publish definitions: one draft, every pending draft of an app, an earlier version again (rollback), or
a dry run of any of these. Publishing an entity changes its table (its schema plan).

Every publish (or rollback) writes an immutable :class:`DefinitionVersion` and bumps the global
``definitions`` counter, which tells every worker process to recompile its snapshot.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.core.definition_models import Definition, DefinitionVersion
from lowcode.core.models import utcnow
from lowcode.definitions.checks import app_errors_for
from lowcode.definitions.published import DEFINITIONS_COUNTER, bump_counter, published_app_documents
from lowcode.definitions.store import check_app_name, list_definitions, published_body, require_definition
from lowcode.definitions.tables import refuse_table_clash, restorable_trash
from lowcode.definitions.validate import validate_document
from lowcode.errors import DefinitionInvalid, NotFound, SchemaChangeRefused
from lowcode.runtime.compiler import CompiledEntity, compile_entity
from lowcode.runtime.ddl import apply_plan
from lowcode.runtime.schema_plan import NO_OPTIONS, PublishOptions, SchemaPlan, plan_entity

Settings = Mapping[str, Any] | None
"""The deployment's settings, for checks that depend on them (the webhook allow-list)."""
Only = Collection[tuple[str, str]] | None
"""The (kind, name) pairs a publish of drafts is limited to (None: every pending draft)."""


@dataclass(frozen=True)
class Published:
    """What one publish did: the new version and, for an entity, the schema plan applied to its table."""

    kind: str
    name: str
    version: int
    plan: SchemaPlan | None = None


def publish_definition(
    session: Session,
    app: str,
    kind: str,
    name: str,
    actor_name: str,
    note: str = "",
    options: PublishOptions = NO_OPTIONS,
    *,
    settings: Settings = None,
) -> Published:
    """Publish the current draft as a new version; an entity's table follows its schema plan. The app's
    definitions are checked as a whole with the draft in place (``settings``: the deployment's, for the
    webhook allow-list; None checks with none).

    :raises NotFound: if there is no draft; :raises DefinitionInvalid: if the app would be inconsistent;
    :raises SchemaChangeRefused: if the plan would lose data without consent, or cannot be applied;
    :raises BadRequest: for renames or restores that do not fit.
    """
    d = require_definition(session, app, kind, name)
    if d.draft is None:
        raise NotFound(f"{kind} '{name}' has no draft to publish")
    return _publish_body(session, d, d.draft, actor_name, note, options, settings)


def dry_run_publish(
    session: Session, app: str, kind: str, name: str, options: PublishOptions, *, settings: Settings = None
) -> Published:
    """Everything a publish checks, and an entity's schema plan, without changing anything."""
    d = require_definition(session, app, kind, name)
    if d.draft is None:
        raise NotFound(f"{kind} '{name}' has no draft to publish")
    _check_publishable(session, d, d.draft, settings)
    plan = _entity_plan(session, d, d.draft, options)[2] if kind == "entity" else None
    return Published(kind, name, (d.published_version or 0) + 1, plan)


def rollback(
    session: Session,
    app: str,
    kind: str,
    name: str,
    version: int,
    actor_name: str,
    options: PublishOptions = NO_OPTIONS,
    *,
    settings: Settings = None,
) -> Published:
    """Publish the body of an earlier version as a new version; the draft follows it."""
    d = require_definition(session, app, kind, name)
    body = session.scalar(
        sa.select(DefinitionVersion.body).where(
            DefinitionVersion.definition_id == d.id, DefinitionVersion.version == version
        )
    )
    if body is None:
        raise NotFound(f"{kind} '{name}' has no version {version}")
    d.draft = copy.deepcopy(body)
    return _publish_body(session, d, body, actor_name, f"rollback to version {version}", options, settings)


def publish_drafts(
    session: Session,
    app: str,
    actor_name: str,
    note: str = "",
    options: Mapping[str, PublishOptions] | None = None,
    *,
    settings: Settings = None,
    only: Only = None,
) -> list[Published]:
    """Publish every pending draft of an app at once (links between new entities resolve together; a field
    rename reaches the forms, views and rules that use it in the same publish). ``options`` per entity name;
    ``only``: the (kind, name) pairs to publish, the others' drafts left as they are (None: all)."""
    pending = _pending_drafts(session, app, settings, only)
    options = options or {}
    return [
        _publish_body(
            session, d, d.draft, actor_name, note, options.get(d.name, NO_OPTIONS), settings, checked=True
        )
        for d in pending
    ]


def dry_run_drafts(
    session: Session,
    app: str,
    options: Mapping[str, PublishOptions],
    *,
    settings: Settings = None,
    only: Only = None,
) -> list[Published]:
    """What :func:`publish_drafts` would do: every check, and each pending entity's schema plan; no change."""
    return [
        Published(
            d.kind,
            d.name,
            (d.published_version or 0) + 1,
            _entity_plan(session, d, d.draft, options.get(d.name, NO_OPTIONS))[2]
            if d.kind == "entity"
            else None,
        )
        for d in _pending_drafts(session, app, settings, only)
    ]


def _pending_drafts(session: Session, app: str, settings: Settings, only: Only = None) -> list[Definition]:
    """The app's drafts that differ from their published body (of ``only``, if given), checked together, in
    publishing order."""
    pending = [
        d
        for d in list_definitions(session, app)
        if d.draft is not None
        and d.draft != published_body(session, d)
        and (only is None or (d.kind, d.name) in only)
    ]
    app_docs = published_app_documents(session, app)
    for d in pending:
        validate_document(d.kind, d.name, d.draft)
        if d.kind == "entity":
            refuse_table_clash(session, d)
        app_docs.setdefault(d.kind, {})[d.name] = d.draft
    _check_app(app, app_docs, "Publishing the drafts", settings)
    order = {"app": 0, "entity": 1}
    pending.sort(key=lambda d: (order.get(d.kind, 2), d.name))
    return pending


def _check_app(app: str, app_docs: dict, what: str, settings: Settings) -> None:
    """Every definition of the app checked against the others (:mod:`lowcode.definitions.checks`)."""
    errors = app_errors_for(app_docs, settings)
    if errors:
        raise DefinitionInvalid(f"{what} would leave app '{app}' inconsistent", errors)


def _check_publishable(session: Session, d: Definition, body: dict, settings: Settings) -> None:
    validate_document(d.kind, d.name, body)
    check_app_name(d.app, d.kind, d.name)
    if d.kind == "entity":
        refuse_table_clash(session, d)
    app_docs = published_app_documents(session, d.app)
    app_docs.setdefault(d.kind, {})[d.name] = body
    _check_app(d.app, app_docs, f"Publishing {d.kind} '{d.name}'", settings)


def _entity_plan(
    session: Session, d: Definition, body: dict, options: PublishOptions, number: int = 0
) -> tuple[CompiledEntity | None, CompiledEntity, SchemaPlan]:
    compiled = compile_entity(d.app, body, number, sa.MetaData())
    previous = published_body(session, d)
    old = compile_entity(d.app, previous, 0, sa.MetaData()) if previous is not None else None
    plan = plan_entity(session.connection(), old, compiled, options, restorable_trash(session, d.app, d.name))
    return old, compiled, plan


def publish_body(
    session: Session,
    d: Definition,
    body: dict,
    actor_name: str,
    note: str,
    options: PublishOptions,
    *,
    settings: Settings = None,
) -> Published:
    """Publish ``body`` as the next version of ``d`` (checked against the app first)."""
    return _publish_body(session, d, body, actor_name, note, options, settings)


def _publish_body(
    session: Session,
    d: Definition,
    body: dict,
    actor_name: str,
    note: str,
    options: PublishOptions = NO_OPTIONS,
    settings: Settings = None,
    checked: bool = False,
) -> Published:
    if not checked:
        _check_publishable(session, d, body, settings)
    number = (
        session.scalar(
            sa.select(sa.func.max(DefinitionVersion.version)).where(DefinitionVersion.definition_id == d.id)
        )
        or 0
    ) + 1
    plan = None
    if d.kind == "entity":
        old, compiled, plan = _entity_plan(session, d, body, options, number)
        if plan.missing_consent:
            raise SchemaChangeRefused(
                f"Publishing entity '{d.name}' would round, truncate or empty stored values of "
                f"{', '.join(plan.missing_consent)}; publish again with their consent (the original values "
                "stay in the trash) or change the definition",
                fields={key: ["conversion would lose data: consent needed"] for key in plan.missing_consent},
                plan=plan.as_json(),
            )
        apply_plan(session, plan, old, compiled, actor_name, number)
    session.add(
        DefinitionVersion(
            definition_id=d.id, version=number, body=copy.deepcopy(body), note=note, published_by=actor_name
        )
    )
    d.published_version = number
    d.updated_at = utcnow()
    bump_counter(session, DEFINITIONS_COUNTER)
    session.flush()
    return Published(d.kind, d.name, number, plan)
