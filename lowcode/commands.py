"""What the CLI does, as plain functions (testable without a shell)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from lowcode.auth.users import create_user
from lowcode.core.models import Definition, User
from lowcode.definitions.templates import install_bundle, load_bundle
from lowcode.runtime.context import Actor, WriteContext


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
        summary = install_bundle(ctx, svc.records, svc.snapshots, bundle, with_demo=with_demo)
    return f"installed app '{name}': {len(summary['published'])} definitions published, {summary['records']} records"


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
