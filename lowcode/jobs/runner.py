"""The job runner: claims queued jobs one at a time and runs them with their kind.

``run_next()`` runs one job synchronously (tests call it; nothing sleeps); ``run_forever`` loops until a stop
event (``lowcode worker``; a daemon thread of ``lowcode serve`` unless ``JOBS_IN_PROCESS`` is off). A job's
work is done in chunks (:meth:`JobHandle.chunk`): each is one write transaction as the job's owner that ends
with a checkpoint - progress, counts and the lease renewed together with the chunk's writes, so the job row
always says exactly how far the committed work got. A cancelled job, or one whose lease another runner took
over, stops at its next checkpoint with that chunk rolled back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from lowcode.auth.actors import actor_for_user
from lowcode.core.models import User, utcnow
from lowcode.errors import LowcodeError
from lowcode.jobs import store
from lowcode.jobs.kinds import JobKind
from lowcode.registry import Registry
from lowcode.runtime.context import WriteContext

log = logging.getLogger(__name__)
DEFAULT_LEASE_SECONDS = 60.0


class JobStopped(Exception):
    """The runner no longer holds the job (cancelled, or taken over after its lease passed)."""


class OwnerGone(LowcodeError):
    """The job's owner no longer exists or is deactivated: the job cannot run as them."""


class JobHandle:
    """What a running job's kind works with: the job, its input, chunks as its owner and checkpoints."""

    def __init__(self, services, claim: store.Claim, lease_seconds: float):
        self.services = services
        self.claim = claim
        self.lease_seconds = lease_seconds

    @property
    def job(self) -> store.Job:
        """The job as claimed (``progress_done``: where a resumed job starts again)."""
        return self.claim.job

    def input(self) -> tuple[str, bytes]:
        """The uploaded file: (name, content)."""
        with self.services.db.read() as session:
            return store.input_file(session, self.job.id)

    @contextmanager
    def read(self) -> Iterator[WriteContext]:
        """A read-only unit of work as the job's owner (for set-up: compiling, counting)."""
        with self.services.db.read() as session:
            yield self._context(session)

    @contextmanager
    def chunk(self) -> Iterator[WriteContext]:
        """One write transaction as the job's owner; the caller ends it with :meth:`checkpoint`. It commits
        alone (not in a commit group): no request's COMMIT waits for a chunk."""
        with self.services.db.write(alone=True) as session:
            yield self._context(session)

    def _context(self, session) -> WriteContext:
        user = session.scalar(sa.select(User).where(User.username == self.job.owner))
        if user is None or not user.active:
            raise OwnerGone(f"The user '{self.job.owner}' who started the job can no longer act")
        actor = actor_for_user(session, user)
        snapshot = self.services.snapshots.get(session)
        return WriteContext(session, actor, snapshot, source=f"job:{self.job.kind}:{self.job.id}")

    def checkpoint(
        self,
        ctx: WriteContext,
        done: int,
        counts: dict[str, Any],
        total: int | None = None,
        result_part: tuple[int, bytes] | None = None,
    ) -> None:
        """Record progress (and a result part) in the chunk's transaction. :raises JobStopped: the job was
        cancelled or taken over - the chunk is rolled back."""
        if not store.checkpoint(ctx.session, self.claim, utcnow(), self.lease_seconds, done, total, counts):
            raise JobStopped(self.job.id)
        if result_part is not None:
            store.add_result_part(ctx.session, self.job.id, *result_part)

    def heartbeat(self, done: int | None = None, total: int | None = None) -> None:
        """Renew the lease outside a chunk (long set-up). :raises JobStopped:"""
        with self.services.db.write() as session:
            if not store.checkpoint(session, self.claim, utcnow(), self.lease_seconds, done, total):
                raise JobStopped(self.job.id)


class JobRunner:
    """Runs the jobs of ``kinds`` (default: the built-in ones) over ``services`` (db, snapshots, settings)."""

    def __init__(self, services, kinds: Registry[JobKind] | None = None, lease_seconds: float | None = None):
        from lowcode.jobs.kinds import builtin_job_kinds

        self.services = services
        self.kinds = kinds if kinds is not None else builtin_job_kinds()
        setting = services.settings.get("JOB_LEASE_SECONDS") if hasattr(services, "settings") else None
        self.lease_seconds = float(lease_seconds or setting or DEFAULT_LEASE_SECONDS)

    def run_next(self) -> int | None:
        """Claim and run one job to its end; returns its id, or None when none was due."""
        with self.services.db.write() as session:
            claim = store.claim_next(session, utcnow(), self.lease_seconds, self.kinds.keys())
        if claim is None:
            return None
        self._run(claim)
        return claim.job.id

    def run_all(self) -> list[int]:
        """Run jobs until none is due (tests, benchmarks)."""
        ran = []
        while (job_id := self.run_next()) is not None:
            ran.append(job_id)
        return ran

    def _run(self, claim: store.Claim) -> None:
        handle = JobHandle(self.services, claim, self.lease_seconds)
        try:
            result_name = self.kinds.get(claim.job.kind).run(handle)
        except JobStopped:
            log.info("job %s stopped (cancelled or taken over)", claim.job.id)
            return
        except LowcodeError as exc:
            self._end(claim, store.FAILED, str(exc.message))
            return
        except Exception as exc:  # noqa: BLE001 - a failing job is recorded, the runner goes on
            log.exception("job %s failed", claim.job.id)
            self._end(claim, store.FAILED, f"{type(exc).__name__}: {exc}")
            return
        self._end(claim, store.DONE, "", result_name)

    def _end(self, claim: store.Claim, status: str, error: str, result_name: str = "") -> None:
        with self.services.db.write() as session:
            store.finish(session, claim, utcnow(), status, error, result_name)

    def run_forever(self, stop: threading.Event, poll: float = 0.5) -> None:
        """Run jobs until ``stop`` is set, looking for new ones every ``poll`` seconds when idle."""
        while not stop.is_set():
            try:
                ran = self.run_next()
            except Exception:  # noqa: BLE001 - the loop outlives a failing claim (database restarts)
                log.exception("job runner step failed")
                ran = None
            if ran is None:
                stop.wait(poll)

    def start_thread(self, stop: threading.Event, poll: float = 0.5) -> threading.Thread:
        """Run :meth:`run_forever` in a daemon thread."""
        thread = threading.Thread(
            target=self.run_forever, args=(stop, poll), name="lowcode-jobs", daemon=True
        )
        thread.start()
        return thread
