"""A compiled report as SQLAlchemy Core statements over the real tables: the joins its paths need (link
fields, child tables, a child row's parent), the WHERE (deleted rows out, every joined entity's record rules,
the filter with the run's parameters) and one GROUP BY per grouping the result needs (rows, subtotals,
totals, top-N and "others")."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from lowcode.conditions import parse_condition
from lowcode.core.exactsql import average
from lowcode.reports.buckets import buckets
from lowcode.reports.model import CompiledReport, Dimension, Measure
from lowcode.reports.paths import FieldPath
from lowcode.runtime.compiler import CompiledEntity

MAX_ROWS = 5000
"""Most groups a result shows; more are cut (``ReportResult.truncated``) - add filters or a top-N."""

ScopeOf = Callable[[CompiledEntity, Mapping[str, Any]], Any]
"""(entity, its columns by field name) -> the reader's record rules as SQL over those columns (None: all)."""


@dataclass
class _Join:
    alias: Any
    entity: CompiledEntity


class ReportQuery:
    """The FROM and WHERE of one run, and the grouped SELECTs built on them."""

    def __init__(
        self,
        report: CompiledReport,
        entity_of: Callable[[str], CompiledEntity],
        dialect: str,
        scope_of: ScopeOf,
        params: Mapping[str, Any],
        variables: Mapping[str, Any],
    ):
        self.report = report
        self.dialect = dialect
        self.as_of = {
            d.ages.as_of: params.get(d.ages.as_of) or variables["today"] for d in report.dimensions if d.ages
        }
        self.source = entity_of(report.source)
        table = self.source.table
        self.joins: dict[str, _Join] = {"": _Join(table, self.source)}
        self.from_: Any = table
        self.where: list[Any] = [table.c.deleted_at.is_(None)]
        self._scope(self.joins[""], scope_of, nullable=False)
        paths = ([report.parent_path] if report.parent_path else []) + report.paths
        for path in paths:
            self._join(path, entity_of, scope_of)
        self.to_many = any(p.to_many for p in report.paths)
        self.params, self.variables = params, variables
        condition = self._filter(params, variables)
        if condition is not None:
            self.where.append(condition)

    # -- FROM / WHERE ---------------------------------------------------------------------------
    def _join(self, path: FieldPath, entity_of, scope_of: ScopeOf) -> None:
        before = self.joins[""]
        for hop in path.hops:
            if hop.prefix not in self.joins:
                entity = entity_of(hop.entity)
                alias = entity.table.alias(f"j{len(self.joins)}")
                prev = before.alias
                if hop.kind == "link":
                    self.from_ = self.from_.outerjoin(alias, alias.c.id == prev.c[hop.via])
                elif hop.kind == "child":
                    on = sa.and_(alias.c.parent_id == prev.c.id, alias.c.deleted_at.is_(None))
                    self.from_ = self.from_.outerjoin(alias, on)
                else:  # parent: the record holding a child row, which must be live and readable
                    on = sa.and_(alias.c.id == prev.c.parent_id, alias.c.deleted_at.is_(None))
                    self.from_ = self.from_.join(alias, on)
                self.joins[hop.prefix] = _Join(alias, entity)
                self._scope(self.joins[hop.prefix], scope_of, nullable=hop.kind != "parent")
            before = self.joins[hop.prefix]

    def _scope(self, join: _Join, scope_of: ScopeOf, nullable: bool) -> None:
        rule = scope_of(join.entity, {n: join.alias.c[n] for n in join.entity.kinds})
        if rule is not None:
            self.where.append(sa.or_(join.alias.c.id.is_(None), rule) if nullable else rule)

    def column(self, path: FieldPath) -> Any:
        """The column a path reads."""
        return self.joins[path.prefix].alias.c[path.field]

    def _filter(self, params: Mapping[str, Any], variables: Mapping[str, Any]) -> Any:
        return self.condition_sql(self.report.filter_doc, self.report.filter_paths, params, variables)

    def condition_sql(self, doc: Any, paths: Mapping[str, FieldPath], params, variables) -> Any:
        """A condition over field paths as SQL, without its leaves whose optional parameter is not given."""
        doc = without_unset(doc, params) if doc else None
        if not doc:
            return None
        cond = parse_condition(doc, {text: p.kind for text, p in paths.items()})
        columns = {text: self.column(p) for text, p in paths.items()}
        return cond.to_sql(columns, {**variables, "param": dict(params)})

    # -- SELECT ---------------------------------------------------------------------------------
    def dimension(self, dim: Dimension) -> Any:
        """A dimension's SQL (bucketed dates as text keys)."""
        column = self.column(dim.path)
        if dim.ages is not None:
            return dim.ages.sql(column, self.as_of[dim.ages.as_of], self.dialect)
        return buckets.get(dim.bucket).sql(column, self.dialect) if dim.bucket else column

    def measure(self, m: Measure) -> Any:
        """An aggregate's SQL; exact on both databases (sums of scaled integers on SQLite, exact AVG); a
        filtered measure aggregates ``CASE WHEN <where> THEN <value> END``."""
        only = self.condition_sql(m.where_doc, m.where_paths, self.params, self.variables)
        if m.path is None:
            key = self.joins[""].alias.c.id
            if only is not None:
                return sa.func.count(sa.distinct(sa.case((only, key))))
            return sa.func.count(sa.distinct(key)) if self.to_many else sa.func.count()
        column = self.column(m.path)
        if only is not None:
            column = sa.case((only, column))
        if m.agg == "count":
            return sa.func.count(column)
        if m.agg == "count_distinct":
            return sa.func.count(sa.distinct(column))
        if m.agg == "avg":
            scale = getattr(column.type, "scale", None)
            return average(column, self.dialect, scale if scale is not None else 2)
        return getattr(sa.func, m.agg)(column)

    def grouped(
        self, dims: tuple[Dimension, ...], restrict: Any = None, order: bool = False, limit: int | None = None
    ) -> sa.Select:
        """One GROUP BY over ``dims`` (none: the grand total) with every aggregate measure, labelled
        ``d<i>`` / ``m<i>``."""
        exprs = [self.dimension(d) for d in dims]
        plain = [m for m in self.report.measures if m.formula is None]
        columns = [e.label(f"d{i}") for i, e in enumerate(exprs)]
        columns += [self.measure(m).label(f"m{i}") for i, m in enumerate(plain)]
        stmt = sa.select(*columns).select_from(self.from_).where(*self.where)
        if restrict is not None:
            stmt = stmt.where(restrict)
        if exprs:
            stmt = stmt.group_by(*exprs)
            if self.report.having is not None:
                stmt = stmt.having(self._having(plain))
        if order:
            stmt = stmt.order_by(*self._order(dims, exprs, plain))
        return stmt.limit(limit) if limit else stmt

    def _having(self, plain: list[Measure]) -> Any:
        """``having`` over the plain measures' aggregates."""
        columns = {m.name: self.measure(m) for m in plain}
        return self.report.having.to_sql(columns, {**self.variables, "param": dict(self.params)})

    def _order(self, dims, exprs, plain) -> list[Any]:
        exprs = [d.ages.sort_sql(e) if d.ages else e for d, e in zip(dims, exprs, strict=True)]
        by_name = {d.name: e for d, e in zip(dims, exprs, strict=True)}
        by_name.update({m.name: self.measure(m) for m in plain})
        keys = []
        if self.report.subtotals and dims:
            keys.append(_nulls_last(exprs[0], False))
        for name, descending in self.report.sort:
            if name in by_name:
                keys.append(_nulls_last(by_name[name], descending))
        return keys + [_nulls_last(e, False) for e in exprs]

    def top_values(self) -> tuple[Any, Any] | None:
        """(IN the top-N values of the first row dimension, NOT IN them) or None without a top-N."""
        top = self.report.top
        if not top:
            return None
        dim = self.report.row_dimensions[0]
        expr = self.dimension(dim)
        by = next(m for m in self.report.measures if m.name == top["by"])
        ranked = (
            sa.select(expr)
            .select_from(self.from_)
            .where(*self.where, expr.is_not(None))
            .group_by(expr)
            .order_by(_nulls_last(self.measure(by), not top.get("ascending")), expr)
            .limit(top["n"])
        )
        inside = expr.in_(ranked)
        return inside, sa.or_(expr.is_(None), sa.not_(expr.in_(ranked)))


def _nulls_last(expr: Any, descending: bool) -> Any:
    ordered = expr.desc() if descending else expr.asc()
    return ordered.nulls_last()


def without_unset(doc: Any, params: Mapping[str, Any]) -> Any:
    """The filter without its leaves that read an optional parameter not given (None: nothing left)."""
    if not isinstance(doc, Mapping):
        return doc
    if "field" in doc:
        value = doc.get("value")
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, str) and v.startswith("$param."):
                name, _sep, part = v[len("$param.") :].partition(".")
                given = params.get(name)
                if given is None or (part and isinstance(given, Mapping) and given.get(part) is None):
                    return None
        return doc
    key, body = next(iter(doc.items()))
    if key == "not":
        inner = without_unset(body, params)
        return None if inner is None else {"not": inner}
    kept = [x for x in (without_unset(item, params) for item in body) if x is not None]
    return {key: kept} if kept else None
