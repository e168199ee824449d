"""The worker: a scheduler running registered periodic jobs.

Jobs live in a small registry (:data:`JOBS`); each is a name, an interval and a function
``run(services, now)`` that opens its own transaction. :meth:`Scheduler.run_pending` runs the jobs that are
due at a given ``now`` (tests pass ``now`` and never sleep); :meth:`Scheduler.run_forever` calls it in a
loop until a ``threading.Event`` is set (``lowcode worker``, or a daemon thread of ``lowcode serve``).
Jobs must be safe to run in several processes at once (each job guards its own writes).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lowcode.core.models import utcnow
from lowcode.registry import Registry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """A periodic job."""

    name: str
    interval: dt.timedelta
    run: Callable[[Any, dt.datetime], Any]
    """``run(services, now)``: does one round of work in its own transaction; returns a summary."""


def _expire_assignments(services, now: dt.datetime) -> list[int]:
    from lowcode.auth.lifecycle import end_expired_assignments

    with services.db.write() as session:
        return end_expired_assignments(session, now)


def _scheduled_rules(services, now: dt.datetime) -> dict[str, Any]:
    from lowcode.rules.scheduled import run_due_rules

    return run_due_rules(services, now)


def _deliver_outbox(services, now: dt.datetime) -> dict[str, int]:
    from lowcode.delivery import dispatch_rounds
    from lowcode.integrations.fanout import outbox_channels

    return dispatch_rounds(services.db, now, services.settings, channels=outbox_channels(services.snapshots))


def _purge_jobs(services, now: dt.datetime) -> int:
    from lowcode.jobs.store import purge

    with services.db.write() as session:
        return purge(session, now)


def builtin_jobs() -> Registry[Job]:
    """A registry holding the built-in jobs."""
    jobs: Registry[Job] = Registry("job")
    jobs.register(
        "expire_assignments", Job("expire_assignments", dt.timedelta(minutes=1), _expire_assignments)
    )
    jobs.register("scheduled_rules", Job("scheduled_rules", dt.timedelta(minutes=1), _scheduled_rules))
    jobs.register("deliver_outbox", Job("deliver_outbox", dt.timedelta(seconds=2), _deliver_outbox))
    jobs.register("purge_jobs", Job("purge_jobs", dt.timedelta(hours=1), _purge_jobs))
    return jobs


JOBS = builtin_jobs()
"""The jobs a default :class:`Scheduler` runs."""


class Scheduler:
    """Runs each job of a registry at most once per interval; a failing job is logged and retried later."""

    def __init__(
        self, services, jobs: Registry[Job] | None = None, clock: Callable[[], dt.datetime] = utcnow
    ):
        self.services = services
        self.jobs = jobs if jobs is not None else JOBS
        self.clock = clock
        self.next_run: dict[str, dt.datetime] = {}
        """job name -> earliest time it runs again (a job never run is due at once)."""
        self.last_error: dict[str, str] = {}

    def run_pending(self, now: dt.datetime | None = None) -> dict[str, Any]:
        """Run every job due at ``now`` (default: the clock); returns ``{job name: its summary}``."""
        now = now or self.clock()
        results: dict[str, Any] = {}
        for job in self.jobs.all():
            due = self.next_run.get(job.name)
            if due is not None and now < due:
                continue
            self.next_run[job.name] = now + job.interval
            try:
                results[job.name] = job.run(self.services, now)
                self.last_error.pop(job.name, None)
            except Exception as exc:  # noqa: BLE001 - one failing job must not stop the others
                log.exception("job %s failed", job.name)
                self.last_error[job.name] = f"{type(exc).__name__}: {exc}"
        return results

    def run_forever(self, stop: threading.Event, tick: float = 1.0) -> None:
        """Run due jobs every ``tick`` seconds until ``stop`` is set."""
        while not stop.is_set():
            self.run_pending()
            stop.wait(tick)

    def start_thread(self, stop: threading.Event) -> threading.Thread:
        """Run :meth:`run_forever` in a daemon thread (the in-process worker of ``lowcode serve``)."""
        thread = threading.Thread(
            target=self.run_forever, args=(stop,), name="lowcode-scheduler", daemon=True
        )
        thread.start()
        return thread
