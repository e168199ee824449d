"""System tables of background jobs (``lowcode/jobs``; migration 0012): one row per job in ``lc_job`` and its
files (the uploaded input, the per-chunk parts of its result) in ``lc_job_file`` (re-exported by
:mod:`lowcode.core.models`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lowcode.core.model_base import Base, utcnow


class JobRow(Base):
    """A background job: its kind (a registered :class:`lowcode.jobs.kinds.JobKind`), owner, parameters,
    status, progress and counts; ``lease_until`` is renewed by the runner's heartbeat, so a job whose runner
    died is taken again (or failed after ``attempts`` runs) once its lease has passed."""

    __tablename__ = "lc_job"
    __table_args__ = (
        sa.Index("ix_lc_job_due", "status", "created_at"),
        sa.Index("ix_lc_job_owner", "owner", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    owner: Mapped[str] = mapped_column(sa.String(150))
    """The username the job runs as (its grants apply) and who may see it and its result."""
    app: Mapped[str] = mapped_column(sa.String(64), default="")
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    status: Mapped[str] = mapped_column(sa.String(16), default="new")
    """``new`` (uploaded, not started), ``queued``, ``running``, ``done``, ``failed`` or ``cancelled``."""
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int] = mapped_column(default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    result_name: Mapped[str] = mapped_column(sa.String(120), default="")
    """The file name of the result (its content: the job's ``result`` parts in ``lc_job_file``); empty: none."""
    error: Mapped[str] = mapped_column(sa.Text, default="")
    attempts: Mapped[int] = mapped_column(default=0)
    lease_token: Mapped[str] = mapped_column(sa.String(32), default="")
    lease_until: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))


class JobFile(Base):
    """A file of a job: ``input`` (part 0) or one ``result`` part per committed chunk (read in part order)."""

    __tablename__ = "lc_job_file"
    __table_args__ = (sa.UniqueConstraint("job_id", "role", "part", name="uq_lc_job_file_part"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(sa.ForeignKey("lc_job.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(sa.String(16))
    part: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
