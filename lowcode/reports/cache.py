"""The report result cache: a bounded LRU per process of finished :class:`ReportResult`\\ s, never staler than
committed data.

- **Key**: the report (app, name), the definitions version, and the run's SQL as compiled for the reader -
  its FROM/WHERE holds the normalised parameters and the reader's record rules with their ``$user`` values
  bound - plus the fields hidden from the reader. Readers whose rules come out the same (an administrator and
  another administrator, two clerks of one department under a department rule) share an entry; a reader with
  other rules gets other SQL, so another key, and never another's figures.
- **Validity**: each entry remembers the change counters (:mod:`lowcode.runtime.change_counters`) of every
  entity whose table the SQL reads - the source, each joined entity, any entity a record rule reaches - and the
  access version (:mod:`lowcode.auth.access_version`), as read *before* the run's SELECTs. A hit needs every
  one unchanged, in one primary-key SELECT: a write committed by any process or connection moves its entity's
  counter in its own transaction, so the next read misses. (A write committed between the counters and the
  run's SELECTs makes the entry carry older counters than its data: it misses once more, never shows old
  figures.)
- Results are copied in and out (rows, their values and the lists; columns are frozen and labels, decimals,
  dates are not changed in place): a caller may change its copy.

Only published reports run through :meth:`CachedReportService.run` are cached (a designer's draft preview is
not)."""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from lowcode.auth.access_version import ACCESS_COUNTER
from lowcode.reports.index_advice import SlowRuns
from lowcode.reports.model import CompiledReport
from lowcode.reports.params import read_params
from lowcode.reports.result import ReportResult, ResultRow
from lowcode.reports.service import ReportService
from lowcode.runtime.change_counters import counter_key, read_counters
from lowcode.runtime.context import WriteContext

DEFAULT_SIZE = 256
"""Entries kept per process (``REPORT_CACHE_SIZE``)."""
DEFAULT_SLOW_MS = 1000
"""A run slower than this is noted for the index advisor (``REPORT_SLOW_MS``)."""


@dataclass
class CacheStats:
    """Hits and misses since the cache was made (for tests and the benchmark)."""

    hits: int = 0
    misses: int = 0


class ReportCache:
    """A thread-safe LRU of ``key -> (counters, result)``."""

    def __init__(self, size: int = DEFAULT_SIZE, slow_ms: int = DEFAULT_SLOW_MS):
        self.size = max(0, size)
        self.slow_runs = SlowRuns(slow_ms)
        """The slow runs the cache's service computed (the index advisor's hint)."""
        self.stats = CacheStats()
        self._entries: OrderedDict[str, tuple[tuple[int, ...], ReportResult]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, counters: tuple[int, ...]) -> ReportResult | None:
        """A copy of the entry's result when its counters are ``counters``; None otherwise (a stale entry goes)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != counters:
                if entry is not None:
                    del self._entries[key]
                self.stats.misses += 1
                return None
            self._entries.move_to_end(key)
            self.stats.hits += 1
            result = entry[1]
        return _copied(result)

    def put(self, key: str, counters: tuple[int, ...], result: ReportResult) -> None:
        """Keep a copy of ``result`` under ``key``, valid while the counters stay ``counters``."""
        if not self.size:
            return
        kept = _copied(result)
        with self._lock:
            self._entries[key] = (counters, kept)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True)
class CacheProbe:
    """Where one run's answer lives in the cache and what must not have moved for it to stand."""

    key: str
    counter_keys: tuple[str, ...]


class CachedReportService(ReportService):
    """:class:`ReportService` whose :meth:`run` answers from a :class:`ReportCache` when nothing it reads
    changed since."""

    def __init__(self, permissions, cache: ReportCache):
        super().__init__(permissions)
        self.cache = cache

    def run(self, ctx: WriteContext, app: str, name: str, given: Mapping[str, Any]) -> ReportResult:
        """As :meth:`ReportService.run` (the same checks, first), from the cache when it still holds."""
        report = ctx.snapshot.report(app, name)
        self.authorize(ctx, report)
        probe = self.probe(ctx, report, given)
        counters = read_counters(ctx.session, probe.counter_keys)
        found = self.cache.get(probe.key, counters)
        if found is not None:
            return found
        started = time.perf_counter()
        result = self.run_compiled(ctx, report, given)
        self.cache.slow_runs.note(app, name, (time.perf_counter() - started) * 1000)
        self.cache.put(probe.key, counters, result)
        return result

    def probe(self, ctx: WriteContext, report: CompiledReport, given: Mapping[str, Any]) -> CacheProbe:
        """The run's cache key and the counters it depends on.

        :raises BadRequest: a parameter that does not fit (as the run would)."""
        values = read_params(report.params, given, ctx.now.date())
        # the main grouping (its dimensions hold the as-of date of age bands, its HAVING the kept groups) of the
        # report and of its second source, whose tables and SQL the result depends on as well
        parts = [report] + ([report.compare] if report.compare is not None else [])
        statements = [self.query(ctx, part, values).grouped(tuple(part.dimensions)) for part in parts]
        dialect = ctx.session.get_bind().dialect
        compiled_all = [s.compile(dialect=dialect) for s in statements]
        hidden = []
        tables = set().union(*(_tables(s) for s in statements))
        entities = sorted((e.app, e.name) for e in ctx.snapshot.entities.values() if e.table.name in tables)
        for app, name in entities:
            entity = ctx.snapshot.entity(app, name)
            hidden.append((name, sorted(self.permissions.hidden_fields(ctx.actor, entity))))
        params = sorted((i, k, repr(v)) for i, c in enumerate(compiled_all) for k, v in c.params.items())
        sql = [str(c) for c in compiled_all]
        text = repr((report.app, report.name, report.version, sql, params, hidden))
        key = hashlib.sha256(text.encode()).hexdigest()
        counter_keys = (ACCESS_COUNTER, *(counter_key(app, name) for app, name in entities))
        return CacheProbe(key, counter_keys)


def _tables(statement: Any) -> set[str]:
    """The names of the tables a statement reads, in joins, aliases and subqueries."""
    found = set()
    for element in sa.sql.visitors.iterate(statement):
        if isinstance(element, sa.Table):
            found.add(element.name)
    return found


def _copied(result: ReportResult) -> ReportResult:
    """A copy of ``result`` whose rows, values and lists the holder may change (the values themselves -
    decimals, dates, text - and the frozen columns are shared)."""

    def row(r: ResultRow | None) -> ResultRow | None:
        return None if r is None else ResultRow(r.level, dict(r.values), dict(r.cell))

    return dataclasses.replace(
        result,
        columns=list(result.columns),
        rows=[row(r) for r in result.rows],
        totals=row(result.totals),
        pivot_header=list(result.pivot_header),
        params=dict(result.params),
    )
