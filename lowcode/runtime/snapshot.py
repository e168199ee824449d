"""The compiled, immutable view of every published definition, cached per definitions version.

Each request reads one counter; when another process has published since, the snapshot is rebuilt.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.auth.grants import attach_grants
from lowcode.core.group_commit import sees_others_uncommitted_work
from lowcode.dashboards.model import CompiledDashboard, DashboardInvalid, compile_dashboard
from lowcode.definitions.published import DEFINITIONS_COUNTER, all_published, read_counter
from lowcode.errors import NotFound
from lowcode.fields.base import normalise_label, pick_label
from lowcode.mappings.compiled import CompiledMapping, MappingInvalid, compile_mapping
from lowcode.reports.model import CompiledReport, ReportInvalid, compile_report
from lowcode.reports.paths import compiled_shapes
from lowcode.rules.model import Rulebook, build_rulebook
from lowcode.runtime.compiler import CompiledEntity, compile_entity
from lowcode.runtime.form_rules import attach_form_rules
from lowcode.workflows.model import attach_workflows


@dataclass
class AppInfo:
    """A published app: its definition and the names of its entities, forms and views."""

    name: str
    definition: dict[str, Any]
    entities: list[str] = field(default_factory=list)

    def label_for(self, language: str) -> str:
        """The app's label in a language."""
        return pick_label(normalise_label(self.definition.get("label"), self.name), language, self.name)


@dataclass
class Snapshot:
    """Compiled definitions of one definitions version. Never mutated after it is built."""

    version: int
    apps: dict[str, AppInfo]
    entities: dict[tuple[str, str], CompiledEntity]
    forms: dict[tuple[str, str], dict[str, Any]]
    views: dict[tuple[str, str], dict[str, Any]]
    metadata: sa.MetaData
    roles: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    rules: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    workflows: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    """Outbound delivery subscriptions (``lowcode/integrations``) by (app, name)."""
    rulebook: Rulebook = field(default_factory=Rulebook)
    mappings: dict[tuple[str, str], CompiledMapping] = field(default_factory=dict)
    reports: dict[tuple[str, str], CompiledReport] = field(default_factory=dict)
    dashboards: dict[tuple[str, str], CompiledDashboard] = field(default_factory=dict)

    def entity(self, app: str, name: str) -> CompiledEntity:
        """A published entity. :raises NotFound:"""
        try:
            return self.entities[(app, name)]
        except KeyError:
            raise NotFound(f"No published entity '{name}' in app '{app}'") from None

    def app(self, name: str) -> AppInfo:
        """A published app. :raises NotFound:"""
        try:
            return self.apps[name]
        except KeyError:
            raise NotFound(f"No published app '{name}'") from None

    def mapping(self, app: str, name: str) -> CompiledMapping:
        """A published mapping, compiled. :raises NotFound:"""
        try:
            return self.mappings[(app, name)]
        except KeyError:
            raise NotFound(f"No published mapping '{name}' in app '{app}'") from None

    def report(self, app: str, name: str) -> CompiledReport:
        """A published report, compiled. :raises NotFound:"""
        try:
            return self.reports[(app, name)]
        except KeyError:
            raise NotFound(f"No published report '{name}' in app '{app}'") from None

    def form_for(self, app: str, entity: str) -> dict[str, Any] | None:
        """The first form defined for an entity (by name order), if any."""
        matches = sorted(name for (a, name), f in self.forms.items() if a == app and f["entity"] == entity)
        return self.forms[(app, matches[0])] if matches else None

    def view_for(self, app: str, entity: str) -> dict[str, Any] | None:
        """The first list view defined for an entity (by name order), if any."""
        matches = sorted(name for (a, name), v in self.views.items() if a == app and v["entity"] == entity)
        return self.views[(app, matches[0])] if matches else None


def build_snapshot(session: Session) -> Snapshot:
    """Compile every published definition (read inside the caller's transaction)."""
    version = read_counter(session, DEFINITIONS_COUNTER)
    metadata = sa.MetaData()
    snap = Snapshot(version, {}, {}, {}, {}, metadata)
    published = all_published(session)
    for (app, kind, _name), body in sorted(published.items()):
        if kind == "app":
            snap.apps[app] = AppInfo(app, body)
    for (app, kind, name), body in sorted(published.items()):
        if kind == "entity" and app in snap.apps:
            snap.entities[(app, name)] = compile_entity(app, body, version, metadata)
            snap.apps[app].entities.append(name)
        elif kind == "form":
            snap.forms[(app, name)] = body
        elif kind == "view":
            snap.views[(app, name)] = body
        elif kind == "role":
            snap.roles[(app, name)] = body
        elif kind == "rule":
            snap.rules[(app, name)] = body
        elif kind == "workflow":
            snap.workflows[(app, name)] = body
        elif kind == "subscription":
            snap.subscriptions[(app, name)] = body
    _compile_mappings(snap, published)
    _compile_reports(snap, published)
    _compile_dashboards(snap, published)
    attach_grants(snap.entities, {a: info.definition for a, info in snap.apps.items()}, snap.roles)
    attach_workflows(snap.entities, snap.workflows)
    attach_form_rules(snap.entities, snap.form_for)
    snap.rulebook = build_rulebook(snap.entities, snap.rules, version)
    return snap


def _compile_mappings(snap: Snapshot, published: dict[tuple[str, str, str], dict[str, Any]]) -> None:
    """Each published mapping compiled once; one its publish checks would now refuse is left out (404)."""
    for (app, kind, name), body in sorted(published.items()):
        if kind == "mapping" and app in snap.apps:
            try:
                snap.mappings[(app, name)] = compile_mapping(app, body, snap.entities)
            except MappingInvalid:
                continue


def _compile_reports(snap: Snapshot, published: dict[tuple[str, str, str], dict[str, Any]]) -> None:
    """Each published report bound to the compiled entities once; one that no longer fits is left out (404)."""
    shapes = {}
    for (app, kind, name), body in sorted(published.items()):
        if kind == "report" and app in snap.apps:
            if app not in shapes:
                shapes[app] = compiled_shapes(snap.entities, app)
            try:
                snap.reports[(app, name)] = compile_report(app, body, *shapes[app], version=snap.version)
            except ReportInvalid:
                continue


def _compile_dashboards(snap: Snapshot, published: dict[tuple[str, str, str], dict[str, Any]]) -> None:
    """Each published dashboard bound to the app's compiled reports (those left out of the snapshot count as
    missing); one that no longer fits is left out (404)."""
    for (app, kind, name), body in sorted(published.items()):
        if kind != "dashboard" or app not in snap.apps:
            continue
        reports = {n: r.definition for (a, n), r in snap.reports.items() if a == app}
        entities = {n for (a, n) in snap.entities if a == app}
        try:
            snap.dashboards[(app, name)] = compile_dashboard(
                app, body, reports, entities, version=snap.version
            )
        except DashboardInvalid:
            continue


class SnapshotCache:
    """Holds the newest snapshot of this process; thread-safe rebuild on version change.

    The cache only moves forward: a request whose transaction still sees an older definitions version (it
    began before a publish) gets a snapshot of that version for itself, but never puts it back over a newer
    one. Nor is a version cached that the session itself may have published and not committed (a counter
    higher than the one this session first saw): that transaction may still roll back, and the number would
    then be given to other definitions by the next publish. The same holds for a version another member of
    the session's commit group published (:func:`~lowcode.core.group_commit.sees_others_uncommitted_work`).
    """

    def __init__(self) -> None:
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()

    def get(self, session: Session) -> Snapshot:
        """The snapshot for the definitions version this session sees (one counter read per call)."""
        current = read_counter(session, DEFINITIONS_COUNTER)
        first_seen = session.info.setdefault(_FIRST_SEEN, current)
        snap = self._snapshot
        if snap is not None and snap.version == current:
            return snap
        with self._lock:
            snap = self._snapshot
            if snap is not None and snap.version == current:
                return snap
            built = build_snapshot(session)
            newer = snap is None or built.version > snap.version
            if newer and built.version <= first_seen and not sees_others_uncommitted_work(session):
                self._snapshot = built
            return built

    def invalidate(self) -> None:
        """Forget the cached snapshot (the next request rebuilds it)."""
        self._snapshot = None


_FIRST_SEEN = "lowcode.definitions_version_first_seen"
"""``Session.info`` key: the definitions version a session saw on its first snapshot lookup."""
