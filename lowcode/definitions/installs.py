"""Where an installed app came from (``lc_app_install``): the template and version of the bundle it was
installed or last upgraded from, and that bundle's definitions - the base of the next upgrade's three-way
merge. Also the manifest an export writes (template, version, each definition's published version)."""

from __future__ import annotations

import copy
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.core.definition_models import AppInstall, Definition
from lowcode.core.jsonutil import dumps
from lowcode.core.models import utcnow
from lowcode.definitions.bundle_versions import default_export_version


def installed(session: Session, app: str) -> AppInstall | None:
    """The install record of ``app`` (None: made in the designer, never installed from a bundle)."""
    return session.scalar(sa.select(AppInstall).where(AppInstall.app == app))


def record_install(
    session: Session, app: str, template: str, version: str, documents: dict[str, Any], username: str
) -> AppInstall:
    """Record (or move forward) the bundle ``app`` now stands on: ``documents`` as ``{kind: {name: body}}``."""
    row = installed(session, app)
    if row is None:
        row = AppInstall(app=app)
        session.add(row)
    row.template = str(template)[:64]
    row.version = str(version)[:64]
    row.documents = copy.deepcopy(documents)
    row.installed_by = username[:150]
    row.installed_at = utcnow()
    session.flush()
    return row


def export_manifest(
    session: Session, app: str, version: str | None = None, documents: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The manifest of an export: the template's name (the one the app was installed from, else the app's),
    its version (``version``, else :func:`~lowcode.definitions.bundle_versions.default_export_version`: the
    installed version while ``documents`` - the published definitions - are still the installed ones) and the
    published version of each definition (``"entity/product": 3``)."""
    rows = session.execute(
        sa.select(Definition.kind, Definition.name, Definition.published_version)
        .where(Definition.app == app, Definition.published_version.is_not(None))
        .order_by(Definition.kind, Definition.name)
    ).all()
    install = installed(session, app)
    versions = {f"{kind}/{name}": number for kind, name, number in rows}
    return {
        "template": install.template if install is not None else app,
        "version": version
        or default_export_version(
            install.version if install is not None else None,
            install is not None and documents is not None and _same(documents, install.documents),
            versions,
        ),
        "app": app,
        "definitions": versions,
    }


def _same(published: dict[str, Any], installed_docs: dict[str, Any]) -> bool:
    """Whether the published definitions are the installed bundle's (compared as canonical JSON, so a number
    read back from the JSON column equals the one installed)."""

    def canonical(docs: dict[str, Any]) -> str:
        return dumps({k: v for k, v in docs.items() if v}, sort_keys=True)

    return canonical(published) == canonical(installed_docs)
