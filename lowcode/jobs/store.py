"""The rows of background jobs (``lc_job``) and their files (``lc_job_file``): create, queue, cancel, claim
with a lease, checkpoint progress, finish. Functions over the caller's session; none commits.

A runner *claims* a queued job (or a running one whose lease has passed: its runner died) by an update that
matches the status and lease it read, so two runners never take the same job; the claim's random token must
still match at every checkpoint, else the runner has lost the job and its chunk is rolled back. A job taken
more than :data:`MAX_ATTEMPTS` times is failed instead of run again (a job that kills its runner).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.core.models import JobFile, JobRow, utcnow
from lowcode.errors import NotFound

_J = JobRow.__table__
_F = JobFile.__table__
NEW, QUEUED, RUNNING, DONE, FAILED, CANCELLED = "new", "queued", "running", "done", "failed", "cancelled"
FINISHED = frozenset({DONE, FAILED, CANCELLED})
MAX_ATTEMPTS = 3
INPUT, RESULT = "input", "result"


@dataclass(frozen=True)
class Job:
    """A job as read from ``lc_job``."""

    id: int
    kind: str
    owner: str
    app: str
    params: dict[str, Any]
    status: str
    progress_done: int
    progress_total: int
    counts: dict[str, Any]
    result_name: str
    error: str
    attempts: int
    created_at: dt.datetime
    finished_at: dt.datetime | None

    @property
    def percent(self) -> int:
        """Progress in whole percent (100 once done)."""
        if self.status == DONE:
            return 100
        if not self.progress_total:
            return 0
        return min(100, self.progress_done * 100 // self.progress_total)

    @property
    def finished(self) -> bool:
        """Whether the job has ended (done, failed or cancelled)."""
        return self.status in FINISHED

    def as_json(self) -> dict[str, Any]:
        """The job's status as the API answers it."""
        return {
            "id": self.id,
            "kind": self.kind,
            "owner": self.owner,
            "app": self.app,
            "status": self.status,
            "done": self.progress_done,
            "total": self.progress_total,
            "percent": self.percent,
            "counts": self.counts,
            "result": bool(self.result_name),
            "error": self.error,
            "created_at": self.created_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


@dataclass(frozen=True)
class Claim:
    """A runner's hold on a job: the job and the lease token its checkpoints must show."""

    job: Job
    token: str


def create_job(
    session: Session,
    kind: str,
    owner: str,
    app: str,
    params: dict[str, Any],
    input_file: tuple[str, bytes] | None = None,
    status: str = QUEUED,
) -> int:
    """Add a job (``new`` to be started later, or ``queued``) with its input file; returns its id."""
    job_id = session.execute(
        _J.insert()
        .values(kind=kind, owner=owner, app=app, params=params, status=status, counts={}, created_at=utcnow())
        .returning(_J.c.id)
    ).scalar_one()
    if input_file is not None:
        name, content = input_file
        session.execute(
            _F.insert().values(job_id=job_id, role=INPUT, part=0, name=name[:200], content=content)
        )
    return job_id


def get_job(session: Session, job_id: int) -> Job:
    """The job. :raises NotFound:"""
    row = session.execute(sa.select(_J).where(_J.c.id == job_id)).mappings().first()
    if row is None:
        raise NotFound(f"No job {job_id}")
    return _job(row)


def _job(row: Any) -> Job:
    return Job(**{name: row[name] for name in Job.__dataclass_fields__})


def set_params(session: Session, job_id: int, params: dict[str, Any]) -> None:
    """Replace the parameters of a job not yet started."""
    session.execute(_J.update().where(_J.c.id == job_id, _J.c.status == NEW).values(params=params))


def queue(session: Session, job_id: int, total: int = 0) -> bool:
    """Start a ``new`` job: queued for a runner. False if it was not ``new``."""
    result = session.execute(
        _J.update().where(_J.c.id == job_id, _J.c.status == NEW).values(status=QUEUED, progress_total=total)
    )
    return result.rowcount == 1


def cancel(session: Session, job_id: int, now: dt.datetime | None = None) -> bool:
    """Cancel a job that has not ended: a running one stops at its next checkpoint (the chunk under way is
    rolled back). False if it had ended."""
    result = session.execute(
        _J.update()
        .where(_J.c.id == job_id, _J.c.status.in_([NEW, QUEUED, RUNNING]))
        .values(status=CANCELLED, finished_at=now or utcnow(), lease_token="", lease_until=None)
    )
    return result.rowcount == 1


def claim_next(session: Session, now: dt.datetime, lease_seconds: float, kinds: list[str]) -> Claim | None:
    """Take the oldest queued job of ``kinds`` (or a running one whose lease passed); a job already taken
    :data:`MAX_ATTEMPTS` times is failed instead. None when there is nothing to run."""
    due = (_J.c.status == QUEUED) | ((_J.c.status == RUNNING) & (_J.c.lease_until < now))
    for row in session.execute(
        sa.select(_J).where(due, _J.c.kind.in_(kinds)).order_by(_J.c.created_at, _J.c.id).limit(5)
    ).mappings():
        same = (
            (_J.c.id == row["id"]) & (_J.c.status == row["status"]) & (_J.c.lease_token == row["lease_token"])
        )
        if row["attempts"] >= MAX_ATTEMPTS:
            session.execute(
                _J.update()
                .where(same)
                .values(status=FAILED, finished_at=now, error="The job stopped its runner too often")
            )
            continue
        token = secrets.token_hex(16)
        values = dict(
            status=RUNNING,
            lease_token=token,
            lease_until=now + dt.timedelta(seconds=lease_seconds),
            heartbeat_at=now,
            attempts=row["attempts"] + 1,
            started_at=row["started_at"] or now,
        )
        if session.execute(_J.update().where(same).values(**values)).rowcount == 1:
            return Claim(get_job(session, row["id"]), token)
    return None


def checkpoint(
    session: Session,
    claim: Claim,
    now: dt.datetime,
    lease_seconds: float,
    done: int | None = None,
    total: int | None = None,
    counts: dict[str, Any] | None = None,
) -> bool:
    """Record progress and renew the lease (the heartbeat); False if the runner no longer holds the job
    (cancelled, or taken by another runner after the lease passed)."""
    values: dict[str, Any] = dict(lease_until=now + dt.timedelta(seconds=lease_seconds), heartbeat_at=now)
    if done is not None:
        values["progress_done"] = done
    if total is not None:
        values["progress_total"] = total
    if counts is not None:
        values["counts"] = counts
    held = (_J.c.id == claim.job.id) & (_J.c.status == RUNNING) & (_J.c.lease_token == claim.token)
    return session.execute(_J.update().where(held).values(**values)).rowcount == 1


def finish(
    session: Session, claim: Claim, now: dt.datetime, status: str, error: str = "", result_name: str = ""
) -> bool:
    """End a held job as ``done`` or ``failed``; False if the runner no longer held it."""
    held = (_J.c.id == claim.job.id) & (_J.c.status == RUNNING) & (_J.c.lease_token == claim.token)
    values = dict(status=status, error=error[:2000], finished_at=now, lease_token="", lease_until=None)
    if result_name:
        values["result_name"] = result_name
    return session.execute(_J.update().where(held).values(**values)).rowcount == 1


def input_file(session: Session, job_id: int) -> tuple[str, bytes]:
    """The job's uploaded file: (name, content). :raises NotFound:"""
    row = session.execute(
        sa.select(_F.c.name, _F.c.content).where(_F.c.job_id == job_id, _F.c.role == INPUT)
    ).first()
    if row is None:
        raise NotFound(f"Job {job_id} has no input file")
    return row.name, bytes(row.content)


def add_result_part(session: Session, job_id: int, part: int, content: bytes) -> None:
    """Keep one part of the job's result (parts are read back in order); a part written again replaces it."""
    session.execute(_F.delete().where(_F.c.job_id == job_id, _F.c.role == RESULT, _F.c.part == part))
    session.execute(_F.insert().values(job_id=job_id, role=RESULT, part=part, name="", content=content))


def result_bytes(session: Session, job_id: int) -> bytes:
    """The job's result: its parts in order."""
    parts = session.scalars(
        sa.select(_F.c.content).where(_F.c.job_id == job_id, _F.c.role == RESULT).order_by(_F.c.part)
    )
    return b"".join(bytes(p) for p in parts)


def visible_job(session: Session, actor: Any, job_id: int) -> Job:
    """A job the actor may see: their own, or any for administrators - except a job whose params say
    ``owner_only`` (a report export: its file is its owner's alone). :raises NotFound: otherwise."""
    job = get_job(session, job_id)
    admin_may = actor.is_admin and not job.params.get("owner_only")
    if job.owner != actor.username and not admin_may:
        raise NotFound(f"No job {job_id}")
    return job


def recent_jobs(session: Session, owner: str, app: str, kind: str, limit: int = 10) -> list[Job]:
    """The owner's newest jobs of a kind in an app."""
    rows = session.execute(
        sa.select(_J)
        .where(_J.c.owner == owner, _J.c.app == app, _J.c.kind == kind)
        .order_by(_J.c.created_at.desc(), _J.c.id.desc())
        .limit(limit)
    ).mappings()
    return [_job(r) for r in rows]


KEEP_FINISHED = dt.timedelta(days=7)
KEEP_UNSTARTED = dt.timedelta(days=1)


def purge(session: Session, now: dt.datetime) -> int:
    """Delete jobs (with their files) ended more than :data:`KEEP_FINISHED` ago and uploads never started
    within :data:`KEEP_UNSTARTED`; returns how many. Run by the worker's scheduler."""
    old = ((_J.c.status.in_(FINISHED)) & (_J.c.finished_at < now - KEEP_FINISHED)) | (
        (_J.c.status == NEW) & (_J.c.created_at < now - KEEP_UNSTARTED)
    )
    ids = list(session.scalars(sa.select(_J.c.id).where(old).limit(500)))
    if ids:
        session.execute(_F.delete().where(_F.c.job_id.in_(ids)))  # SQLite does not cascade without the pragma
        session.execute(_J.delete().where(_J.c.id.in_(ids)))
    return len(ids)
