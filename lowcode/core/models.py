"""System tables (SQLAlchemy 2.0 typed ORM). Business data lives in runtime tables, not here.

The tables are created and changed only by the migrations in ``lowcode/migrations/versions/`` (``lowcode
migrate``): a change here needs a new revision there (docs/ARCHITECTURE.md, "Changing a system table")."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lowcode.core import definition_models  # noqa: F401 - its tables belong to Base.metadata
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


__all__ = ["Base", "CommitStamp", "Delivery", "IngestKey", "JobFile", "JobRow", "utcnow"]
