"""System tables (SQLAlchemy 2.0 typed ORM). Business data lives in runtime tables, not here.

The tables are created and changed only by the migrations in ``lowcode/migrations/versions/`` (``lowcode
migrate``): a change here needs a new revision there (docs/ARCHITECTURE.md, "Changing a system table")."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lowcode.core.integration_models import CommitStamp, Delivery, IngestKey
from lowcode.core.job_models import JobFile, JobRow
from lowcode.core.model_base import Base, utcnow


class Department(Base):
    """A node of the organisation tree; ``path`` ("/1/4/9/") makes subtree queries one LIKE."""

    __tablename__ = "lc_department"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("lc_department.id"), index=True)
    path: Mapped[str] = mapped_column(sa.String(500), default="/", index=True)


class User(Base):
    """A person who signs in."""

    __tablename__ = "lc_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(150), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(200), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(300))
    is_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    language: Mapped[str] = mapped_column(sa.String(10), default="en")
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("lc_department.id"), index=True)
    manager_id: Mapped[int | None] = mapped_column(sa.ForeignKey("lc_user.id"))
    job_title: Mapped[str] = mapped_column(sa.String(200), default="")
    level: Mapped[int] = mapped_column(default=0)
    session_epoch: Mapped[int] = mapped_column(default=0)
    """Bumped by sign-out: cookie sessions carrying an older epoch are dead (the cookie is signed, not stored)."""
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class RoleAssignment(Base):
    """A user holds a role of an app from ``starts_at`` until ``ends_at`` (open-ended when NULL)."""

    __tablename__ = "lc_role_assignment"
    __table_args__ = (sa.Index("ix_lc_role_assignment_user", "user_id", "app"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("lc_user.id", ondelete="CASCADE"))
    app: Mapped[str] = mapped_column(sa.String(64))
    role: Mapped[str] = mapped_column(sa.String(64))
    starts_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    ends_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    granted_by: Mapped[str] = mapped_column(sa.String(150), default="")
    last_used_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))


class SecurityEvent(Base):
    """Sign-ins, token use, permission changes and denials (also the sign-in rate limiter's memory)."""

    __tablename__ = "lc_security_event"
    __table_args__ = (
        sa.Index("ix_lc_security_event_kind_user", "kind", "username", "at"),
        sa.Index("ix_lc_security_event_kind_ip", "kind", "ip", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(sa.String(40))
    user_id: Mapped[int | None] = mapped_column()
    username: Mapped[str] = mapped_column(sa.String(150), default="")
    ip: Mapped[str] = mapped_column(sa.String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


class ApiToken(Base):
    """A bearer token; only its SHA-256 hash is stored."""

    __tablename__ = "lc_api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("lc_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    app: Mapped[str | None] = mapped_column(sa.String(64))
    """Integrator tokens are scoped to one app and act with one role; sign-in tokens have neither."""
    role: Mapped[str | None] = mapped_column(sa.String(64))
    created_by: Mapped[str] = mapped_column(sa.String(150), default="")
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    expires_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))


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


class Counter(Base):
    """Named counters: the global definitions version and gap-free naming series."""

    __tablename__ = "lc_counter"
    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class AuditEntry(Base):
    """Who changed which record when, from where, and the before/after of each changed field."""

    __tablename__ = "lc_audit"
    __table_args__ = (
        sa.Index("ix_lc_audit_record", "app", "entity", "record_id", "version"),
        sa.Index("ix_lc_audit_tx", "tx", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    app: Mapped[str] = mapped_column(sa.String(64))
    entity: Mapped[str] = mapped_column(sa.String(64))
    record_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    version: Mapped[int | None] = mapped_column()
    action: Mapped[str] = mapped_column(sa.String(32))
    actor_id: Mapped[int | None] = mapped_column()
    actor_name: Mapped[str] = mapped_column(sa.String(150), default="")
    source: Mapped[str] = mapped_column(sa.String(32), default="")
    ip: Mapped[str] = mapped_column(sa.String(64), default="")
    diff: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    schema_version: Mapped[int] = mapped_column(default=1)
    unit: Mapped[str] = mapped_column(sa.String(32), default="", server_default="")
    """The unit of work (request, job) that wrote the row: a user's write and the rule-made changes it set
    off share it, so the record page folds them into one history entry ("" on rows from before it existed)."""
    tx: Mapped[int | None] = mapped_column(sa.BigInteger)
    """PostgreSQL: the writing transaction's id (a server default), joined to ``lc_commit`` for commit order;
    None on SQLite, where the row ids follow commit order (:mod:`lowcode.core.commit_clock`)."""


class OutboxEvent(Base):
    """An event written in the same transaction as the change; delivered only after commit."""

    __tablename__ = "lc_outbox"
    __table_args__ = (
        sa.Index(
            "ix_lc_outbox_pending",
            "id",
            sqlite_where=sa.text("delivered_at IS NULL"),
            postgresql_where=sa.text("delivered_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    app: Mapped[str] = mapped_column(sa.String(64))
    entity: Mapped[str] = mapped_column(sa.String(64))
    record_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    kind: Mapped[str] = mapped_column(sa.String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    schema_version: Mapped[int] = mapped_column(default=1)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    """Delivery attempts so far (counted when an attempt is claimed)."""
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    """Not claimed again before this time: the retry backoff, or the lease of a claimed attempt."""


class RuleRunEntry(Base):
    """One run of one rule: what triggered it, the outcome, how long it took and what it did."""

    __tablename__ = "lc_rule_run"
    __table_args__ = (sa.Index("ix_lc_rule_run_record", "app", "entity", "record_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    app: Mapped[str] = mapped_column(sa.String(64))
    rule: Mapped[str] = mapped_column(sa.String(64), index=True)
    rule_version: Mapped[int] = mapped_column(default=0)
    entity: Mapped[str] = mapped_column(sa.String(64))
    record_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    trigger: Mapped[str] = mapped_column(sa.String(32))
    phase: Mapped[str] = mapped_column(sa.String(16))
    outcome: Mapped[str] = mapped_column(sa.String(16))
    message: Mapped[str] = mapped_column(sa.Text, default="")
    duration_ms: Mapped[float] = mapped_column(sa.Float, default=0.0)
    actions: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)


class Notification(Base):
    """An in-app message to one user (written by a rule's ``notify`` action, in the writing transaction)."""

    __tablename__ = "lc_notification"
    __table_args__ = (sa.Index("ix_lc_notification_user_read", "user_id", "read_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("lc_user.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    link: Mapped[str] = mapped_column(sa.String(500), default="")
    app: Mapped[str] = mapped_column(sa.String(64), default="")
    entity: Mapped[str] = mapped_column(sa.String(64), default="")
    record_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    rule: Mapped[str] = mapped_column(sa.String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))


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


class SavedView(Base):
    """A list's columns, filter, search and sort saved under a name: personal (its owner's) or shared with
    everyone who may read the entity (only users who may configure the app share)."""

    __tablename__ = "lc_saved_view"
    __table_args__ = (sa.Index("ix_lc_saved_view_entity", "app", "entity"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    app: Mapped[str] = mapped_column(sa.String(64))
    entity: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(100))
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("lc_user.id", ondelete="CASCADE"))
    shared: Mapped[bool] = mapped_column(default=False)
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    """The list's query-string parameters (``q, sort, field, op, value, filter, cols, deleted, limit``)."""
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


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


__all__ = ["Base", "CommitStamp", "Delivery", "IngestKey", "JobFile", "JobRow", "utcnow"]
