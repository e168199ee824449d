"""What the CLI does, as plain functions (testable without a shell)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from lowcode.auth.users import create_user
from lowcode.core.db import Database
from lowcode.core.definition_models import Definition
from lowcode.core.jsonutil import loads_exact
from lowcode.core.models import RoleAssignment, User
from lowcode.definitions.templates import install_bundle, load_bundle
from lowcode.migrations import migrate
from lowcode.runtime.context import Actor, WriteContext


def migrate_database(url: str, busy_timeout_ms: int = 30000) -> str:
    """``lowcode migrate``: bring the system tables of the database at ``url`` to the head revision (under an
    exclusive lock; idempotent). Returns one line."""
    db = Database(url, busy_timeout_ms)
    try:
        return migrate(db)
    finally:
        db.dispose()


def ensure_admin(app: Flask, username: str, password: str) -> bool:
    """Create an administrator unless a user of that name exists; True if created."""
    svc = app.extensions["lowcode"]
    with svc.db.write() as session:
        if session.scalar(sa.select(User.id).where(User.username == username)) is not None:
            return False
        create_user(session, username, password, is_admin=True)
    return True


def install_template(app: Flask, path: Path, with_demo: bool = True, skip_if_installed: bool = False) -> str:
    """Import a template bundle from disk in one transaction; returns a one-line summary."""
    svc = app.extensions["lowcode"]
    bundle = load_bundle(path)
    name = bundle["app"]["name"]
    with svc.db.write() as session:
        exists = session.scalar(
            sa.select(Definition.id).where(Definition.app == name, Definition.kind == "app")
        )
        if skip_if_installed and exists is not None:
            return f"app '{name}' is already installed"
        ctx = WriteContext(session, Actor.system("template import"), svc.snapshots.get(session), source="cli")
        summary = install_bundle(
            ctx, svc.records, svc.snapshots, bundle, with_demo=with_demo, settings=svc.settings
        )
    return f"installed app '{name}': {len(summary['published'])} definitions published, {summary['records']} records"


def ensure_template_users(app: Flask, path: Path, password: str) -> list[str]:
    """Create the users a template folder lists in ``demo_users.json`` (``{"users": [{"username", "role",
    "display_name", "language"}]}``), each holding the named role of the template's app. Existing users are
    kept, with the role added when they lack it. Returns one line per user."""
    listing = path / "demo_users.json"
    if not listing.is_file():
        return []
    app_name = loads_exact((path / "app.json").read_text(encoding="utf-8"))["name"]
    users = loads_exact(listing.read_text(encoding="utf-8")).get("users", [])
    lines = []
    with app.extensions["lowcode"].db.write() as session:
        for entry in users:
            user = session.scalar(sa.select(User).where(User.username == entry["username"]))
            if user is None:
                user = create_user(session, entry["username"], password, language=entry.get("language", "en"))
                user.display_name = entry.get("display_name") or entry["username"]
                state = "created"
            else:
                state = "kept"
            held = session.scalar(
                sa.select(RoleAssignment.id).where(
                    RoleAssignment.user_id == user.id,
                    RoleAssignment.app == app_name,
                    RoleAssignment.role == entry["role"],
                )
            )
            if held is None:
                session.add(
                    RoleAssignment(user_id=user.id, app=app_name, role=entry["role"], granted_by="demo")
                )
            lines.append(f"{state} user '{entry['username']}' with role {app_name}.{entry['role']}")
    return lines


def run_demo(app: Flask, path: Path, password: str, with_data: bool = True) -> list[str]:
    """``lowcode demo``: the administrator, the template (skipped if installed), its demo users, and - when
    the template declares a demo scenario (``demo_scenario.json``, played by :mod:`lowcode.demo`) - its
    generated data set."""
    from lowcode.demo import run_scenario, scenario_path

    ensure_admin(app, "admin", password)
    summary = install_template(app, path, skip_if_installed=True)
    lines = [summary, *ensure_template_users(app, path, password)]
    scenario = scenario_path(path)
    if with_data and summary.startswith("installed") and scenario is not None:
        lines.append(run_scenario(app, scenario))
    return lines


def shared_store_warning(settings: dict, workers: int) -> str | None:
    """A warning line when several worker processes would each count rate limits on their own."""
    if (
        workers > 1
        and settings["RATE_LIMIT_ENABLED"]
        and settings["RATE_LIMIT_STORAGE"].startswith("memory:")
    ):
        return (
            f"warning: {workers} workers count rate limits each in its own memory (up to {workers} times "
            "LOWCODE_RATE_LIMIT per credential); set LOWCODE_RATE_LIMIT_STORAGE=redis://host:6379/0"
        )
    return None


def run_gunicorn(host: str, port: int, workers: int) -> None:
    """Serve ``create_app()`` with gunicorn's application API."""
    from gunicorn.app.base import BaseApplication

    from lowcode.app import create_app

    class _App(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)

        def load(self):
            return create_app()

    _App().run()
