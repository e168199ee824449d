"""The scheduler: registered jobs run when due, at most once per interval, failures isolated - no sleeping."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from lowcode.errors import DuplicateType
from lowcode.registry import Registry
from lowcode.worker import JOBS, Job, Scheduler

T0 = dt.datetime(2030, 1, 1, 9, 0, tzinfo=dt.UTC)


def registry(*jobs: Job) -> Registry[Job]:
    reg: Registry[Job] = Registry("job")
    for job in jobs:
        reg.register(job.name, job)
    return reg


def recorder(name: str, minutes: int, calls: list) -> Job:
    def run(services, now):
        calls.append((name, services, now))
        return len(calls)

    return Job(name, dt.timedelta(minutes=minutes), run)


def test_jobs_run_at_once_then_once_per_interval():
    calls: list = []
    scheduler = Scheduler("svc", registry(recorder("fast", 1, calls), recorder("slow", 10, calls)))
    assert scheduler.run_pending(T0) == {"fast": 1, "slow": 2}
    assert scheduler.run_pending(T0 + dt.timedelta(seconds=59)) == {}
    assert scheduler.run_pending(T0 + dt.timedelta(minutes=1)) == {"fast": 3}
    assert scheduler.run_pending(T0 + dt.timedelta(minutes=10)) == {"fast": 4, "slow": 5}
    assert calls[0] == ("fast", "svc", T0)  # the services and the moment are passed to the job


def test_a_failing_job_is_recorded_and_does_not_stop_the_others():
    calls: list = []

    def broken(services, now):
        raise RuntimeError("database away")

    scheduler = Scheduler(
        None, registry(Job("broken", dt.timedelta(minutes=1), broken), recorder("ok", 1, calls))
    )
    assert scheduler.run_pending(T0) == {"ok": 1}
    assert scheduler.last_error == {"broken": "RuntimeError: database away"}
    assert scheduler.next_run["broken"] == T0 + dt.timedelta(
        minutes=1
    )  # retried next interval, not in a loop


def test_the_clock_is_used_when_no_moment_is_given():
    calls: list = []
    scheduler = Scheduler(None, registry(recorder("job", 1, calls)), clock=lambda: T0)
    scheduler.run_pending()
    assert calls[0][2] == T0


def test_run_forever_stops_when_the_event_is_set():
    stop = threading.Event()
    calls: list = []

    def stopper(services, now):
        calls.append(now)
        stop.set()

    scheduler = Scheduler(None, registry(Job("stopper", dt.timedelta(minutes=1), stopper)), clock=lambda: T0)
    scheduler.run_forever(stop, tick=0)
    assert calls == [T0]
    scheduler.run_forever(stop)  # already stopped: returns at once
    assert calls == [T0]


def test_the_assignment_expiry_job_is_registered_every_minute():
    job = JOBS.get("expire_assignments")
    assert job.interval == dt.timedelta(minutes=1)
    with pytest.raises(DuplicateType):
        JOBS.register("expire_assignments", job)


def test_start_thread_runs_the_loop_in_a_daemon_thread():
    stop, ran = threading.Event(), threading.Event()

    def job(services, now):
        ran.set()
        stop.set()

    thread = Scheduler(None, registry(Job("once", dt.timedelta(minutes=1), job))).start_thread(stop)
    assert thread.daemon and ran.wait(timeout=10)
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_the_worker_command_runs_the_scheduler_until_ctrl_c(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from lowcode.cli import main

    seen = []

    def interrupted(self, stop, tick=1.0):
        seen.append((self.jobs is JOBS, tick))
        raise KeyboardInterrupt

    monkeypatch.setattr(Scheduler, "run_forever", interrupted)
    env = {"LOWCODE_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}", "LOWCODE_SECRET_KEY": "k"}
    assert (
        CliRunner().invoke(main, ["migrate"], env=env).exit_code == 0
    )  # the worker refuses an empty database
    result = CliRunner().invoke(main, ["worker", "--tick", "0.5"], env=env)
    assert result.exit_code == 0, result.output
    assert seen == [(True, 0.5)] and "worker stopped" in result.output
