"""The ``lowcode`` command: migrate, init, serve, worker, demo, template import/export."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from lowcode.errors import LowcodeError

TEMPLATES = Path(__file__).resolve().parent.parent / "app_templates"


def default_demo_template() -> Path:
    """The template ``lowcode demo`` installs without ``--template``: the shipped one that declares a demo
    scenario (``demo_scenario.json``); refused when there is not exactly one."""
    found = sorted(p.parent for p in TEMPLATES.glob("*/demo_scenario.json"))
    if len(found) != 1:
        raise click.UsageError(
            f"{len(found)} templates under {TEMPLATES} declare a demo scenario: pass --template"
        )
    return found[0]


def _app():
    from lowcode.app import create_app
    from lowcode.config import InsecureSettings

    try:
        return create_app()
    except InsecureSettings as exc:
        _fail(f"cannot start: {exc}")


def _fail(message: str) -> None:
    first_line = (message.strip().splitlines() or [""])[0]  # database errors carry the SQL on further lines
    click.echo(f"error: {first_line}", err=True)
    sys.exit(1)


def _migrate() -> str:
    """Migrate the configured database (what ``lowcode migrate`` does); a failure ends the command."""
    from lowcode.app import app_settings
    from lowcode.commands import migrate_database

    settings = app_settings()
    try:
        return migrate_database(settings["DATABASE_URL"], settings["SQLITE_BUSY_TIMEOUT_MS"])
    except Exception as exc:  # noqa: BLE001 - any failure (refusal, connection) becomes a one-line reason
        _fail(f"cannot migrate: {exc}")


@click.group()
def main() -> None:
    """Low-code form and rule platform."""


@main.command()
def migrate() -> None:
    """Bring the system tables to this version's schema (run once per upgrade; idempotent; concurrent runs
    wait for each other). serve and worker refuse to start on a database that needs it."""
    click.echo(_migrate())


@main.command()
@click.option("--admin-user", default="admin", show_default=True)
@click.option(
    "--admin-password",
    required=True,
    help="At least 10 characters, not common, not containing the user name.",
)
def init(admin_user: str, admin_password: str) -> None:
    """Migrate the database and create a first administrator (idempotent for an existing admin)."""
    from lowcode.commands import ensure_admin

    click.echo(_migrate())
    try:
        created = ensure_admin(_app(), admin_user, admin_password)
    except LowcodeError as exc:
        _fail(f"{exc.message} {exc.fields or ''}".strip())
    click.echo(f"{'created' if created else 'kept existing'} administrator '{admin_user}'")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help=">1 serves with gunicorn")
@click.option(
    "--no-scheduler", is_flag=True, help="Do not run scheduled jobs in-process (use `lowcode worker`)."
)
def serve(host: str, port: int, workers: int, no_scheduler: bool) -> None:
    """Serve the app: werkzeug's threaded server for one worker, gunicorn for several; scheduled jobs run
    in a daemon thread of this process unless --no-scheduler. Refuses a database that needs `lowcode migrate`."""
    try:
        app = _app()
    except Exception as exc:  # noqa: BLE001 - any set-up failure becomes a one-line reason
        _fail(f"cannot start: {exc}")
    if not no_scheduler:
        import threading

        from lowcode.worker import Scheduler

        Scheduler(app.extensions["lowcode"]).start_thread(threading.Event())
        if app.config["LOWCODE"].get("JOBS_IN_PROCESS"):
            from lowcode.jobs.runner import JobRunner

            JobRunner(app.extensions["lowcode"]).start_thread(threading.Event())
    if workers > 1:
        from lowcode.commands import run_gunicorn, shared_store_warning

        warning = shared_store_warning(app.config["LOWCODE"], workers)
        if warning:
            click.echo(warning, err=True)

        run_gunicorn(host, port, workers)
        return
    import socket

    from werkzeug.serving import make_server

    try:  # check first: werkzeug prints its own multi-line message when the bind fails
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    server = make_server(host, port, app, threaded=True)
    click.echo(f"serving on http://{host}:{port}/")
    server.serve_forever()


@main.command()
@click.option(
    "--tick", default=1.0, show_default=True, type=float, help="Seconds between checks for due jobs."
)
def worker(tick: float) -> None:
    """Run the scheduled jobs (role assignment expiry, ...) until Ctrl-C. Refuses a database that needs
    `lowcode migrate`."""
    import threading

    from lowcode.worker import Scheduler

    try:
        app = _app()
    except Exception as exc:  # noqa: BLE001 - any set-up failure becomes a one-line reason
        _fail(f"cannot start: {exc}")
    from lowcode.integrations.loop import IntegrationLoop
    from lowcode.jobs.runner import JobRunner

    stop = threading.Event()
    click.echo("worker running (Ctrl-C stops it)")
    try:
        IntegrationLoop(app.extensions["lowcode"]).start_thread(stop)
        JobRunner(app.extensions["lowcode"]).start_thread(stop)
        Scheduler(app.extensions["lowcode"]).run_forever(stop, tick)
    except KeyboardInterrupt:
        stop.set()
    click.echo("worker stopped")


@main.command()
@click.option("--password", default="demo-pass-123", show_default=True, help="Password of the demo users.")
@click.option(
    "--template",
    "template_path",
    default=None,
    help="Template folder (default: the shipped template with a demo scenario, the 进销存 app).",
)
@click.option(
    "--no-data", is_flag=True, help="Skip the generated demo data set (base data is still installed)."
)
def demo(password: str, template_path: str | None, no_data: bool) -> None:
    """migrate + init + install a demo app (default: the shipped template with a demo scenario) with its
    users and data (skipped if already installed)."""
    from lowcode.commands import run_demo

    click.echo(_migrate())
    try:
        lines = run_demo(
            _app(), Path(template_path) if template_path else default_demo_template(), password, not no_data
        )
    except LowcodeError as exc:
        _fail(f"{exc.message} {exc.fields or ''}".strip())
    for line in lines:
        click.echo(line)


@main.group()
def template() -> None:
    """Import or export app templates."""


@template.command("import")
@click.argument("path", type=click.Path(exists=True))
@click.option("--no-demo", is_flag=True, help="Skip the template's demo data.")
def template_import(path: str, no_demo: bool) -> None:
    """Install a template bundle (folder or .json file)."""
    from lowcode.commands import install_template

    try:
        click.echo(install_template(_app(), Path(path), with_demo=not no_demo))
    except LowcodeError as exc:
        _fail(f"{exc.message} {exc.fields or ''}".strip())


@template.command("export")
@click.argument("app_name")
@click.argument("path")
def template_export(app_name: str, path: str) -> None:
    """Write an app's published definitions as a bundle (folder, or a file if PATH ends in .json)."""
    from lowcode.definitions.templates import export_bundle, write_bundle

    try:
        app = _app()
        with app.extensions["lowcode"].db.read() as session:
            write_bundle(export_bundle(session, app_name), path)
    except LowcodeError as exc:
        _fail(exc.message)
    click.echo(f"exported {app_name} to {path}")


@main.group()
def deliveries() -> None:
    """Outbound deliveries of subscriptions."""


@deliveries.command("replay")
@click.option("--dead", "dead_only", is_flag=True, help="Replay dead letters.")
@click.option("--since", type=click.DateTime(), default=None, help="Range start (UTC).")
@click.option("--until", type=click.DateTime(), default=None, help="Range end (UTC).")
@click.option("--app", "app_name", default=None)
@click.option("--subscription", default=None)
def deliveries_replay(dead_only: bool, since, until, app_name: str | None, subscription: str | None) -> None:
    """Put dead letters (--dead) or a time range's deliveries back to pending."""
    import datetime as dt

    from lowcode.core.models import utcnow
    from lowcode.errors import BadRequest
    from lowcode.integrations.replay import ReplayRequest, replay

    utc = [None if t is None else t.replace(tzinfo=dt.UTC) for t in (since, until)]
    request = ReplayRequest(dead_only, app_name, subscription, utc[0], utc[1])
    try:
        request.check()
    except BadRequest as exc:
        _fail(str(exc))
    with _app().extensions["lowcode"].db.write() as session:
        count = replay(session, request, utcnow())
    click.echo(f"replayed {count} deliveries")
