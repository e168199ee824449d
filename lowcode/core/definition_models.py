"""The definitions' system tables: definitions with their drafts and published versions, the designer's draft
steps, columns a publish moved to the trash, where an installed app came from, bundles uploaded for an
upgrade, and sandbox apps. Part of ``Base.metadata`` through :mod:`lowcode.core.models`; changed only by
migrations (docs/ARCHITECTURE.md, "Changing a system table")."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lowcode.core.model_base import Base, utcnow


class Definition(Base):
    """One definition document (app, entity, form, view, ...) with its current draft."""

    __tablename__ = "lc_definition"
    __table_args__ = (sa.UniqueConstraint("app", "kind", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    app: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(64))
    draft: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    draft_updated_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    published_version: Mapped[int | None] = mapped_column()
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class DefinitionVersion(Base):
    """An immutable published version of a definition; rollback republishes an old body."""

    __tablename__ = "lc_definition_version"
    __table_args__ = (sa.UniqueConstraint("definition_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(sa.ForeignKey("lc_definition.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column()
    body: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    published_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    published_by: Mapped[str] = mapped_column(sa.String(150), default="")


class DraftStep(Base):
    """One step of a definition draft's edit history in the designer: the whole draft after the step.

    The live steps (``undone`` false) in ``seq`` order are the history; the newest live one is the draft.
    Undo marks the newest live step undone, redo revives the oldest undone one, and a new edit drops the
    undone steps first. ``seq`` of the newest live step is the token an editor sends with each change: a
    different one means someone else changed the draft meanwhile (a conflict, not an overwrite)."""

    __tablename__ = "lc_draft_step"
    __table_args__ = (sa.UniqueConstraint("app", "kind", "name", "seq", name="uq_lc_draft_step_seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    app: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(64))
    seq: Mapped[int] = mapped_column()
    body: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    summary: Mapped[str] = mapped_column(sa.String(300), default="")
    renames: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    """Field keys renamed in this draft so far (published key -> key in ``body``): the publish's renames."""
    username: Mapped[str] = mapped_column(sa.String(150), default="")
    undone: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class TrashedColumn(Base):
    """A column moved out of the way by a publish (field removed, or converted to another type): its data
    stays in the entity's table under ``column_name`` until restored or purged by an explicit call."""

    __tablename__ = "lc_trashed_column"
    __table_args__ = (sa.Index("ix_lc_trashed_column_entity", "app", "entity"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    app: Mapped[str] = mapped_column(sa.String(64))
    entity: Mapped[str] = mapped_column(sa.String(64))
    table_name: Mapped[str] = mapped_column(sa.String(128))
    column_name: Mapped[str] = mapped_column(sa.String(128), default="")
    """The column's name in the trash (set right after the row is written: it contains the row's id)."""
    field_key: Mapped[str] = mapped_column(sa.String(64))
    field: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    """The field definition the column was written under (None for an orphan column of unknown meaning)."""
    reason: Mapped[str] = mapped_column(sa.String(300), default="")
    values_count: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    definition_version: Mapped[int | None] = mapped_column()
    trashed_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    trashed_by: Mapped[str] = mapped_column(sa.String(150), default="")
    restored_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    purged_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    purged_by: Mapped[str] = mapped_column(sa.String(150), default="")


class AppInstall(Base):
    """Where an installed app came from: the template bundle (name, version) and its definitions as installed -
    the common base of a three-way merge when the app is upgraded to a newer version of the template."""

    __tablename__ = "lc_app_install"
    id: Mapped[int] = mapped_column(primary_key=True)
    app: Mapped[str] = mapped_column(sa.String(64), unique=True)
    template: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[str] = mapped_column(sa.String(64), default="")
    documents: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    """The bundle's definitions as installed: ``{kind: {name: body}}``."""
    installed_by: Mapped[str] = mapped_column(sa.String(150), default="")
    installed_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class UpgradeUpload(Base):
    """A bundle uploaded for a template upgrade, kept between the plan page and the apply step so the page
    posts back only a random token (stored as its SHA-256) and the choices. Owned by the user who uploaded it,
    for one app, until ``expires_at``."""

    __tablename__ = "lc_upgrade_upload"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    app: Mapped[str] = mapped_column(sa.String(64))
    username: Mapped[str] = mapped_column(sa.String(150))
    bundle: Mapped[str] = mapped_column(sa.Text)
    """The bundle as JSON text (read back exactly: numbers as Decimal)."""
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), index=True)


class Sandbox(Base):
    """A sandbox app: a copy of a live app's definitions (and a sample of its data) made to try changes on
    before they are published to the live app as one change set."""

    __tablename__ = "lc_sandbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    app: Mapped[str] = mapped_column(sa.String(64), unique=True)
    live_app: Mapped[str] = mapped_column(sa.String(64), index=True)
    live_versions: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    """The live app's published versions when the copy was made: ``{"kind/name": version}``."""
    created_by: Mapped[str] = mapped_column(sa.String(150), default="")
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
