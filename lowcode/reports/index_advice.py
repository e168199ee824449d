"""The index advisor of slow reports: the query plan of a run's main GROUP BY (``EXPLAIN QUERY PLAN`` on
SQLite, ``EXPLAIN (FORMAT JSON)`` on PostgreSQL) says which tables are read whole; for each such table the
report filters or groups by, the composite index it wants - the fields the filter pins to one value (``=``
leaves of the top level), then the fields it groups by - unless the table has an index starting with them.

An administrator applies a proposal from the report's designer page: it becomes a declared index of the
entity's draft (:mod:`lowcode.designer.index_advice`), built by the schema plan when published. Nothing here
writes. A report is "slow" past ``REPORT_SLOW_MS``; :class:`SlowRuns` keeps the slowest run of each report
per process (the result cache's service notes them)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from lowcode.reports.model import CompiledReport
from lowcode.reports.query import ReportQuery

MAX_FIELDS = 5
"""Fields of one declared index (the entity schema's limit)."""


@dataclass(frozen=True)
class IndexProposal:
    """One index an entity wants: its fields in order."""

    entity: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Advice:
    """The plan as the database tells it (one line per step) and the indexes proposed."""

    plan: tuple[str, ...]
    scanned: frozenset[str]
    """Aliases of the tables read whole."""
    proposals: tuple[IndexProposal, ...]


def advise(session: Session, report: CompiledReport, query: ReportQuery) -> Advice:
    """Read the plan of the run's main GROUP BY and propose an index for each table it reads whole."""
    dims = report.row_dimensions + ((report.pivot_dimension,) if report.pivot_dimension else ())
    statement = query.grouped(dims, order=True)
    if session.get_bind().dialect.name == "postgresql":
        plan, scanned = _pg_plan(_explain(session, statement, "EXPLAIN (FORMAT JSON) "))
    else:
        plan, scanned = _sqlite_plan(_explain(session, statement, "EXPLAIN QUERY PLAN "))
    proposals = []
    for prefix, fields in wanted_fields(report).items():
        join = query.joins.get(prefix)
        if join is None or join.alias.name not in scanned or _has_index(join.entity.table, fields):
            continue
        proposals.append(IndexProposal(join.entity.name, fields))
    return Advice(tuple(plan), frozenset(scanned), tuple(proposals))


def wanted_fields(report: CompiledReport) -> dict[str, tuple[str, ...]]:
    """Per joined table (by path prefix, ``""`` the source): the filter's pinned fields, then the grouped ones."""
    wanted: dict[str, list[str]] = {}
    paths = report.filter_paths
    for leaf in _pinned_leaves(report.filter_doc):
        path = paths.get(leaf)
        if path is not None and path.field != "id":
            wanted.setdefault(path.prefix, []).append(path.field)
    dims = report.row_dimensions + ((report.pivot_dimension,) if report.pivot_dimension else ())
    for dim in dims:
        wanted.setdefault(dim.path.prefix, []).append(dim.path.field)
    out = {}
    for prefix, fields in wanted.items():
        unique = tuple(dict.fromkeys(f for f in fields if f != "id"))[:MAX_FIELDS]
        if unique:
            out[prefix] = unique
    return out


def _pinned_leaves(doc: Mapping[str, Any] | None) -> list[str]:
    if not doc:
        return []
    leaves = doc.get("all") if "all" in doc else [doc]
    return [
        leaf["field"]
        for leaf in leaves or ()
        if isinstance(leaf, Mapping) and leaf.get("op") == "=" and isinstance(leaf.get("field"), str)
    ]


def _has_index(table: sa.Table, fields: tuple[str, ...]) -> bool:
    """Whether an index of the table starts with ``fields`` (in any order of those first keys)."""
    for index in table.indexes:
        names = [getattr(getattr(e, "column", e), "name", None) for e in index.expressions]
        if set(names[: len(fields)]) == set(fields):
            return True
    return False


def _explain(session: Session, statement: sa.Select, prefix: str) -> list[tuple]:
    """The rows of ``prefix`` + the statement as the driver gets it (its parameters bound and converted as
    for a run; nothing of the statement itself is executed)."""
    connection = session.connection()

    def prefixed(conn, cursor, sql, parameters, context, executemany):
        return prefix + sql, parameters

    event.listen(connection, "before_cursor_execute", prefixed, retval=True)
    try:
        result = session.execute(statement)
        return [tuple(row) for row in result.cursor.fetchall()]
    finally:
        event.remove(connection, "before_cursor_execute", prefixed)


def _sqlite_plan(rows: list[tuple]) -> tuple[list[str], set[str]]:
    plan = [str(row[-1]) for row in rows]
    scanned = set()
    for detail in plan:
        words = [w for w in detail.split() if w != "TABLE"]  # "SCAN TABLE t AS a" before SQLite 3.36
        if len(words) >= 2 and words[0] == "SCAN" and "INDEX" not in words:
            scanned.add(words[3] if len(words) > 3 and words[2] == "AS" else words[1])
    return plan, scanned


def _pg_plan(rows: list[tuple]) -> tuple[list[str], set[str]]:
    doc = rows[0][0]
    plan: list[str] = []
    scanned: set[str] = set()

    def walk(node: Mapping[str, Any], depth: int) -> None:
        kind = node.get("Node Type", "")
        relation = node.get("Relation Name")
        alias = node.get("Alias") or relation
        plan.append("  " * depth + kind + (f" on {relation} {alias}" if relation else ""))
        if kind.endswith("Seq Scan") and alias:
            scanned.add(alias)
        for child in node.get("Plans", ()):
            walk(child, depth + 1)

    walk((doc[0] if isinstance(doc, list) else doc)["Plan"], 0)
    return plan, scanned


class SlowRuns:
    """The slowest run (milliseconds) of each report in this process, kept past the threshold only."""

    def __init__(self, threshold_ms: int):
        self.threshold_ms = threshold_ms
        self._slowest: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def note(self, app: str, name: str, ms: float) -> None:
        """Remember a run of ``ms`` when it is slower than the threshold and than the slowest so far."""
        if self.threshold_ms <= 0 or ms < self.threshold_ms:
            return
        with self._lock:
            if ms > self._slowest.get((app, name), 0):
                self._slowest[(app, name)] = ms

    def slowest(self, app: str, name: str) -> float | None:
        """The slowest run noted for the report, if any was slow."""
        return self._slowest.get((app, name))
