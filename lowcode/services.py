"""The services of one app instance, built once by the app factory and passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass, field

from lowcode.auth.permissions import PermissionService
from lowcode.core.db import Database, PoolSettings
from lowcode.core.group_commit import GroupCommitSettings
from lowcode.reports.cache import ReportCache
from lowcode.rules.engine import RuleEngine
from lowcode.rules.hooks import RuleHooks
from lowcode.runtime.queries import QueryService
from lowcode.runtime.records import RecordService
from lowcode.runtime.snapshot import SnapshotCache


@dataclass
class Services:
    """Database, snapshot cache, permission, record and query services, the report result cache."""

    db: Database
    snapshots: SnapshotCache
    permissions: PermissionService
    records: RecordService
    queries: QueryService
    settings: dict
    report_cache: ReportCache = field(default_factory=ReportCache)
    """Finished report results of this process (:mod:`lowcode.reports.cache`)."""
    reserved_app_names: frozenset[str] = frozenset()
    """Names a route keeps for itself (:mod:`lowcode.definitions.app_names`), set once the routes exist."""


def build_services(settings: dict, rules: RuleHooks | None = None) -> Services:
    """Wire the services for a settings mapping (see :mod:`lowcode.config`)."""
    pool = PoolSettings(settings["DB_POOL_SIZE"], settings["DB_POOL_OVERFLOW"], settings["DB_POOL_TIMEOUT_S"])
    group_commit = GroupCommitSettings(
        bool(settings["SQLITE_GROUP_COMMIT"]),
        int(settings["SQLITE_GROUP_COMMIT_MAX_MEMBERS"]),
        float(settings["SQLITE_GROUP_COMMIT_MAX_MS"]),
    )
    db = Database(
        settings["DATABASE_URL"], settings["SQLITE_BUSY_TIMEOUT_MS"], pool=pool, group_commit=group_commit
    )
    permissions = PermissionService()
    engine = (
        rules
        if rules is not None
        else RuleEngine(db, settings["RULE_MAX_DEPTH"], settings["RULE_ROW_BUDGET"])
    )
    records = RecordService(permissions, engine, settings["RULE_MAX_DEPTH"] + 1)
    if isinstance(engine, RuleEngine):
        engine.records = records
    return Services(
        db=db,
        snapshots=SnapshotCache(),
        permissions=permissions,
        records=records,
        queries=QueryService(permissions),
        settings=settings,
        report_cache=ReportCache(
            settings.get("REPORT_CACHE_SIZE", 256), settings.get("REPORT_SLOW_MS", 1000)
        ),
    )
