"""``ReportService``: who may run a report, and the run itself - parameters read, the reader's permissions
applied in SQL (record rules of the source and of every joined entity; hidden fields refused), one GROUP BY
per grouping, the rows assembled into a :class:`ReportResult`. Nothing is written; no record is loaded."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from lowcode.auth.permissions import PermissionService
from lowcode.core.number_styles import NumberStyle
from lowcode.core.texts import Text
from lowcode.errors import PermissionDenied
from lowcode.reports import assemble
from lowcode.reports.compare import run_compare
from lowcode.reports.drill import Drill, drill_statement
from lowcode.reports.drill import finish as finish_drill
from lowcode.reports.model import CompiledReport, Dimension, Measure
from lowcode.reports.params import read_params
from lowcode.reports.query import MAX_ROWS, ReportQuery
from lowcode.reports.result import ReportResult, ResultRow
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext
from lowcode.runtime.number_style import number_style


class ReportService:
    """Runs published reports for a reader."""

    def __init__(self, permissions: PermissionService):
        self.permissions = permissions

    # -- who may run --------------------------------------------------------------------------
    def may_run(self, ctx: WriteContext, report: CompiledReport) -> bool:
        """Administrators, the app's admin roles, and roles whose ``reports`` list names the report."""
        return self.may_run_as(ctx.actor, ctx.snapshot, report)

    def may_run_as(self, actor, snapshot, report: CompiledReport) -> bool:
        """:meth:`may_run` for an actor and snapshot outside a unit of work (the OpenAPI document)."""
        source = snapshot.entities.get((report.app, report.source))
        if source is None:
            return False
        if self.permissions.is_app_admin(actor, source):
            return True
        roles = actor.roles.get(report.app, ())
        return any(report.name in snapshot.roles.get((report.app, r), {}).get("reports", ()) for r in roles)

    def runnable(self, ctx: WriteContext, app: str, required: bool = False) -> list[CompiledReport]:
        """The app's reports the reader may run, by name.

        :raises PermissionDenied: with ``required``, when a reader other than an administrator may run none."""
        found = [r for (a, _n), r in sorted(ctx.snapshot.reports.items()) if a == app]
        runnable = [r for r in found if self.may_run(ctx, r)]
        if required and not runnable and not ctx.actor.is_admin:
            raise PermissionDenied(
                Text("{user} may run no report of the app '{app}'", user=ctx.actor.username, app=app)
            )
        return runnable

    def authorize(self, ctx: WriteContext, report: CompiledReport) -> None:
        """:raises PermissionDenied: without a role granting the report, or when it reads an entity the reader
        may not read or a field hidden from them (nothing about the data is named)."""
        if not self.may_run(ctx, report):
            raise PermissionDenied(
                Text(
                    "{user} has no role that may run the report '{report}'",
                    user=ctx.actor.username,
                    report=report.name,
                )
            )
        self.authorize_data(ctx, report)

    def authorize_data(self, ctx: WriteContext, report: CompiledReport) -> None:
        """The data half of :meth:`authorize` (a designer's preview of a draft needs no grant of the report);
        a second source (``compare``) is checked alike.

        :raises PermissionDenied:"""
        if report.compare is not None:
            self.authorize_data(ctx, report.compare)
        entities = {p.entity for p in report.paths} | {report.source}
        for name in sorted(entities):
            entity = ctx.snapshot.entity(report.app, name)
            if not self._governed(ctx, entity) and not self._readable(ctx, entity):
                raise PermissionDenied(
                    Text(
                        "The report '{report}' reads data your roles do not let you read", report=report.name
                    )
                )
        hidden = sorted({p.text for p in report.paths if self._hidden(ctx, report, p)})
        if hidden:
            raise PermissionDenied(
                Text(
                    "The report '{report}' uses fields hidden from you: {fields}",
                    report=report.name,
                    fields=", ".join(hidden),
                )
            )

    def _governed(self, ctx: WriteContext, entity: CompiledEntity) -> bool:
        """A child table no role of the reader names: its parent's grants decide (as the read path does)."""
        if not entity.is_child or self.permissions.is_app_admin(ctx.actor, entity):
            return False
        access = entity.access
        return not any(
            access is not None and access.grants.get(r) for r in ctx.actor.roles.get(entity.app, ())
        )

    def _readable(self, ctx: WriteContext, entity: CompiledEntity) -> bool:
        try:
            self.permissions.read_condition(ctx.actor, entity)
        except PermissionDenied:
            return False
        return True

    def _hidden(self, ctx: WriteContext, report: CompiledReport, path) -> bool:
        """Whether the path's field, or a link field it passes through, is hidden from the reader."""
        steps = [
            (report.source if i == 0 else path.hops[i - 1].entity, h.via) for i, h in enumerate(path.hops)
        ]
        steps.append((path.entity, path.field))
        for entity_name, field in steps:
            entity = ctx.snapshot.entity(report.app, entity_name)
            if field in self.permissions.hidden_fields(ctx.actor, entity) and field in entity.fields:
                return True
        return False

    # -- run ----------------------------------------------------------------------------------
    def run(self, ctx: WriteContext, app: str, name: str, given: Mapping[str, Any]) -> ReportResult:
        """Run a published report with the request's parameter values (``{name: raw}``).

        :raises NotFound: no such report; :raises PermissionDenied: see :meth:`authorize`;
        :raises BadRequest: a parameter that does not fit (naming it)."""
        report = ctx.snapshot.report(app, name)
        self.authorize(ctx, report)
        return self.run_compiled(ctx, report, given)

    def run_compiled(
        self, ctx: WriteContext, report: CompiledReport, given: Mapping[str, Any]
    ) -> ReportResult:
        """Run a compiled report (published, or a draft for its designer) whose authorization the caller did."""
        values = read_params(report.params, given, ctx.now.date())
        if report.compare is not None:
            style_of = _Run(ctx, report, None, values)._style
            query_of = lambda part: self.query(ctx, part, values)  # noqa: E731
            return run_compare(ctx.session, report, values, query_of, style_of, _choices)
        query = self.query(ctx, report, values)
        return _Run(ctx, report, query, values).result()

    def drill_condition(
        self, ctx: WriteContext, report: CompiledReport, given: Mapping[str, Any], cell: Mapping[str, Any]
    ) -> Drill:
        """The records behind one cell (``ResultRow.cell``) of a run with the parameters ``given``: the entity
        whose list to open and the condition selecting them (see :mod:`lowcode.reports.drill`).

        :raises PermissionDenied: as :meth:`authorize`; :raises BadRequest: a parameter or cell that does not fit."""
        self.authorize(ctx, report)
        query = self.query(ctx, report, read_params(report.params, given, ctx.now.date()))
        stmt, entity = drill_statement(query, report, cell)
        return finish_drill(list(ctx.session.scalars(stmt)), entity)

    def query(self, ctx: WriteContext, report: CompiledReport, values: Mapping[str, Any]) -> ReportQuery:
        """The run's FROM/WHERE with the reader's record rules (for callers that build their own SELECT)."""

        def scope_of(entity: CompiledEntity, columns: Mapping[str, Any]) -> Any:
            if self._governed(ctx, entity):
                return None
            rule = self.permissions.read_condition(ctx.actor, entity)
            return None if rule is None else entity.condition(rule).to_sql(columns, ctx.variables)

        dialect = ctx.session.get_bind().dialect.name
        return ReportQuery(
            report, lambda n: ctx.snapshot.entity(report.app, n), dialect, scope_of, values, ctx.variables
        )


class _Run:
    """One run: the SELECTs of its groupings executed, then assembled."""

    def __init__(self, ctx: WriteContext, report: CompiledReport, query: ReportQuery, values: dict[str, Any]):
        self.ctx, self.report, self.query, self.values = ctx, report, query, values
        self.plain = [m for m in report.measures if m.formula is None]
        self.statements = 0

    def fetch(self, dims: tuple[Dimension, ...], restrict=None, order=False, limit=None) -> assemble.Fetched:
        stmt = self.query.grouped(dims, restrict, order, limit)
        self.statements += 1
        rows = self.ctx.session.execute(stmt).all()
        out = []
        for row in rows:
            dvals = tuple(row[i] for i in range(len(dims)))
            mvals = {m.name: _exact(row[len(dims) + i]) for i, m in enumerate(self.plain)}
            out.append((dvals, mvals))
        return out

    def result(self) -> ReportResult:
        report, rows_dims = self.report, self.report.row_dimensions
        pivot = report.pivot_dimension
        with_pivot = (pivot,) if pivot else ()
        top = self.query.top_values()
        inside, outside = top if top else (None, None)
        main = self.fetch(rows_dims + with_pivot, inside, order=True, limit=MAX_ROWS + 1)
        truncated = len(main) > MAX_ROWS
        main = main[:MAX_ROWS]
        header = (
            assemble.pivot_values(main, pivot.ages.order if pivot and pivot.ages else None) if pivot else []
        )
        into: dict[tuple, ResultRow] = {}
        width = len(rows_dims)
        assemble.place(report, header, main, "row", width, True, into)
        if pivot:
            assemble.place(report, header, self.fetch(rows_dims, inside), "row", width, False, into)
        if report.subtotals and width >= 2:
            first = rows_dims[:1]
            assemble.place(report, header, self.fetch(first + with_pivot, inside), "subtotal", 1, True, into)
            if pivot:
                assemble.place(report, header, self.fetch(first, inside), "subtotal", 1, False, into)
        if top and report.top.get("others"):
            self._whole(header, outside, "others", into)
        totals = None
        if report.totals:
            self._whole(header, None, "total", into)
            totals = into.pop(("total",), None)
        rows = assemble.ordered_rows(report, into)
        assemble.finish(report, header, rows + ([totals] if totals else []))
        return ReportResult(
            report.name,
            report.label,
            assemble.columns(report, header, self._style, _choices),
            rows,
            totals,
            header,
            report.pivot,
            self.values,
            truncated,
            self.statements,
        )

    def _whole(self, header, restrict, level: str, into) -> None:
        """A row over everything (``restrict``: only the others) - per pivot value and across them."""
        pivot = self.report.pivot_dimension
        if pivot:
            fetched = self.fetch((pivot,), restrict)
            assemble.place(self.report, header, fetched, level, 0, True, into)
        fetched = self.fetch((), restrict)
        if level == "others" and fetched and all(v in (None, 0) for v in fetched[0][1].values()):
            into.pop((level,), None)
            return
        assemble.place(self.report, header, fetched, level, 0, False, into)

    def _style(self, m: Measure) -> NumberStyle | None:
        if m.formula is not None:
            return NumberStyle.fixed(m.scale, suffix=m.suffix)
        if m.agg in ("count", "count_distinct") or m.path is None:
            return NumberStyle.fixed(0)
        if m.path.compiled is None or m.path.kind not in ("integer", "decimal"):
            return None
        entity = self.ctx.snapshot.entity(self.report.app, m.path.entity)
        style = number_style(self.ctx.snapshot, entity, m.path.compiled)
        if m.agg == "avg" and style is not None and style.max_places == 0:
            return NumberStyle.trimmed(2)
        return style


def _choices(dim: Dimension) -> dict[str, Any]:
    cf = dim.path.compiled
    if cf is None or dim.bucket:
        return {}
    return {
        str(c.get("value")): c.get("label") for c in cf.fdef.options.get("choices", []) if isinstance(c, dict)
    }


def _exact(value: Any) -> Any:
    """Decimals as they come (scale of the column); floats never appear (exact types on both databases)."""
    if isinstance(value, float):
        return Decimal(str(value))
    return value
