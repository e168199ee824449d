"""Guarded atomic updates of many records - the write path for counters that many users change at once.

``UPDATE stock_balance SET reserved = reserved + :q, version = version + 1 WHERE <match> AND
on_hand - reserved >= :q RETURNING ...``: the database does the arithmetic on the current row, so no update
is lost and the guard holds under concurrency. Rows the guard rejects are reported, not changed.

The matched rows are locked first (``FOR UPDATE`` on PostgreSQL; SQLite write transactions hold the only
write lock), and each goes through the record service's checks (``RowChecks``) in the same transaction:
record rules on the current row; the values the update will produce, evaluated exactly in Python on the
locked row and validated like input (so a value that does not fit its column is a 422 naming the field,
never a database error); the stored formulas computed from them, which the same UPDATE writes. After the
UPDATE the stored values are compared with the prediction - where the database's result differs, that
result is validated and the formulas recomputed from it (written by a follow-up UPDATE) - and the new
state is checked against record rules, link targets and unique values. Each changed row gets its audit
entry and outbox event like any other write.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

import sqlalchemy as sa

from lowcode.core.types import ExactDecimal
from lowcode.errors import ExpressionEvaluationError, TooManyRows, ValidationFailed
from lowcode.expressions import compile_expression
from lowcode.runtime import audit, outbox, row_cache
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext
from lowcode.runtime.integrity import guard_constraints
from lowcode.runtime.matching import matching_select
from lowcode.runtime.record_reads import note_written
from lowcode.runtime.serialize import row_to_record


@dataclass(frozen=True)
class AtomicUpdate:
    """What a guarded update changes: the rows matching ``match``, each ``set_exprs`` field, if ``guard``
    holds. In the expressions, bare names are the target's columns; other names come from ``context``."""

    match: dict[str, Any]
    variables: dict[str, Any]
    set_exprs: dict[str, str]
    context: dict[str, Any]
    guard: str | None = None
    max_rows: int | None = None
    """At most this many rows may match (more: ``TooManyRows``, nothing changed); None for no limit."""


@dataclass
class AtomicResult:
    """What a guarded update did: the rows it changed (after) and the rows the guard refused (as they are)."""

    updated: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    before: dict[int, dict[str, Any]] = field(default_factory=dict)
    """The updated rows as they were, by id."""

    @property
    def matched(self) -> int:
        """How many rows the match condition selected."""
        return len(self.updated) + len(self.refused)


class RowChecks(Protocol):
    """The record service's checks of the rows a guarded update touches; each raises to refuse the write."""

    def locked(self, row: dict[str, Any]) -> None:
        """A matched row, locked, before anything changed (record rules on the current row)."""

    def planned(self, row: dict[str, Any], produced: dict[str, Any]) -> dict[str, Any]:
        """Validate the values the update produces on ``row``; return the row's computed fields then."""

    def stored(self, before: dict[str, Any], after: dict[str, Any]) -> None:
        """A row as the write left it (link targets, unique values, record rules on the new state)."""


def apply_atomic(
    ctx: WriteContext, entity: CompiledEntity, update: AtomicUpdate, checks: RowChecks
) -> AtomicResult:
    """Run the guarded update (caller has authorized the action) with ``checks`` on every row."""
    from lowcode.rules.sqlexpr import table_update_plan

    _refuse_unsettable(entity, update.set_exprs)
    t = entity.table
    dialect = ctx.session.get_bind().dialect.name
    plan = table_update_plan(dialect, t, update.set_exprs, update.guard, update.context)
    condition = entity.condition(update.match, "where")
    limit = None if update.max_rows is None else update.max_rows + 1
    lock = dialect == "postgresql"
    known = row_cache.matching(ctx, entity, condition, update.variables, limit, lock)  # a loop read them
    from_loop = known is not None
    if known is None:
        select, params = matching_select(entity, condition, update.variables, limit, lock)
        known = [row_to_record(entity, r) for r in ctx.session.execute(select, params).mappings()]
        complete = limit is None or len(known) < limit
        from_loop = row_cache.learned(ctx, entity, condition, update.variables, known, complete, lock)
    before = {r["id"]: r for r in known}
    if update.max_rows is not None and len(before) > update.max_rows:
        message = f"More than {update.max_rows} {entity.name} records match the update"
        raise TooManyRows(message, max_rows=update.max_rows)
    if not before:
        return AtomicResult()
    expected: dict[int, dict[str, Any]] = {}
    for row in before.values():
        checks.locked(row)
        produced = _predict(entity, update, row)
        if produced is not None:
            expected[row["id"]] = {**produced, **checks.planned(row, produced)}
    with guard_constraints(ctx, entity, {}):
        returned = ctx.session.execute(*_statement(ctx, t, plan, list(before), expected)).mappings().all()
    note_written(ctx.session, t.name)
    changed_ids = {r["id"] for r in returned}
    # a row left alone for a division by zero or an overflow is an error, not a refusal by the guard
    plan.verify(ctx.session, t.c.id, [rid for rid in before if rid not in changed_ids], entity.name)
    result = AtomicResult()
    for stored in sorted((row_to_record(entity, r) for r in returned), key=lambda r: r["id"]):
        old = before[stored["id"]]
        wanted = expected.get(stored["id"])
        extra: dict[str, Any] = {}
        if wanted is None or any(stored[k] != v for k, v in wanted.items()):
            # the database's result differs from the prediction: check what it stored
            produced = {name: stored[name] for name in update.set_exprs}
            extra = {k: v for k, v in checks.planned(old, produced).items() if v != stored[k]}
            if extra:
                with guard_constraints(ctx, entity, extra):
                    ctx.session.execute(sa.update(t).where(t.c.id == stored["id"]).values(extra))
        after = {**stored, **extra}
        checks.stored(old, after)
        result.updated.append(after)
        result.before[after["id"]] = old
        changes = audit.diff(old, after, [cf.name for cf in entity.fields.values() if cf.has_column])
        audit.record_change(ctx, entity.app, entity.name, after["id"], after["version"], "update", changes)
        outbox.enqueue(
            ctx,
            entity.app,
            entity.name,
            after["id"],
            "updated",
            {"id": after["id"], "version": after["version"], "changes": changes},
        )
    result.refused = [row for rid, row in before.items() if rid not in result.before]
    row_cache.updated(ctx, entity, from_loop, result.updated)
    return result


def _statement(ctx: WriteContext, t: sa.Table, plan: Any, ids: list[int], expected: dict) -> tuple:
    """The UPDATE (and its parameters) of the locked rows ``ids``: the plan's values, the stored formulas
    predicted per row, the version, time and user; where the plan's guard and checks hold."""
    planned = {rid: {k: v for k, v in e.items() if k not in plan.values} for rid, e in expected.items()}
    if len(ids) == 1:  # the usual case (a keyed row): one prebuilt statement per plan, values bound
        values = planned.get(ids[0], {})
        params = {f"_lc_set_{k}": v for k, v in values.items()}
        params |= {"_lc_id": ids[0], "_lc_now": ctx.now, "_lc_user": ctx.actor.user_id}
        return _one_row(t, plan, tuple(sorted(values))), params
    values = dict(plan.values) | _per_row(t, planned)
    values |= {"version": t.c.version + 1, "updated_at": ctx.now, "updated_by": ctx.actor.user_id}
    statement = sa.update(t).where(t.c.id.in_(ids)).values(values)
    if plan.where is not None:  # the guard, and the checks of division by zero, overflow and range
        statement = statement.where(plan.where)
    return (statement.returning(*t.columns),)


_ONE_ROW: OrderedDict[tuple, tuple] = OrderedDict()
_LOCK = threading.Lock()


def _one_row(t: sa.Table, plan: Any, names: tuple[str, ...]) -> sa.Update:
    """``UPDATE t SET <plan's values>, <names> = :_lc_set_<name>, version = version + 1, ... WHERE id = :_lc_id
    AND <plan's condition> RETURNING *``, built once per plan (plans are cached, see
    :func:`lowcode.rules.sqlexpr.table_update_plan`) and set of per-row names."""
    key = (id(plan), names)
    hit = _ONE_ROW.get(key)
    if hit is not None and hit[0] is plan:
        return hit[1]
    values = dict(plan.values)
    values |= {name: sa.bindparam(f"_lc_set_{name}", type_=t.c[name].type) for name in names}
    values |= {
        "version": t.c.version + 1,
        "updated_at": sa.bindparam("_lc_now", type_=t.c.updated_at.type),
        "updated_by": sa.bindparam("_lc_user", type_=t.c.updated_by.type),
    }
    statement = sa.update(t).where(t.c.id == sa.bindparam("_lc_id")).values(values)
    if plan.where is not None:
        statement = statement.where(plan.where)
    statement = statement.returning(*t.columns)
    with _LOCK:  # the plan is held, so its id is not reused while the entry lives
        _ONE_ROW[key] = (plan, statement)
        while len(_ONE_ROW) > 1024:
            _ONE_ROW.popitem(last=False)  # the oldest built (plans are few; a hit costs no reordering)
    return statement


def _refuse_unsettable(entity: CompiledEntity, set_exprs: dict[str, str]) -> None:
    settable = {cf.name for cf in entity.writable}
    errors = {
        name: ["Not a stored field that can be set: computed and system fields are set by the server."]
        for name in set_exprs
        if name not in settable
    }
    if errors:
        raise ValidationFailed(
            f"A guarded update of {entity.name} cannot set {', '.join(errors)}", fields=errors
        )


def _predict(entity: CompiledEntity, update: AtomicUpdate, row: dict[str, Any]) -> dict[str, Any] | None:
    """The values the update will produce on this (locked) row, evaluated exactly in Python and rounded as
    their columns store them; None when the guard will refuse the row. Checking them before the UPDATE
    keeps a value the database rejects itself (numeric overflow on PostgreSQL) from becoming a database
    error; the database's own result is compared with them afterwards."""
    names = {**update.context, **row}  # bare names that are columns are the row's values, as in SQL
    if update.guard and _evaluate(update.guard, names, "guard") is not True:
        return None
    return {
        name: _as_stored(entity, name, _evaluate(expr, names, name))
        for name, expr in update.set_exprs.items()
    }


def _per_row(t: sa.Table, planned: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """``SET f = CASE id WHEN 1 THEN :v1 ... ELSE f END`` for each field with values per row (formulas
    computed from the predicted values, so they are stored by the same statement)."""
    names = sorted({name for values in planned.values() for name in values})
    return {
        name: sa.case(
            {
                rid: sa.literal(values[name], t.c[name].type)
                for rid, values in planned.items()
                if name in values
            },
            value=t.c.id,
            else_=t.c[name],
        )
        for name in names
    }


def _evaluate(text: str, names: dict[str, Any], what: str) -> Any:
    try:
        return compile_expression(text).evaluate(names)
    except ExpressionEvaluationError as exc:
        raise ValidationFailed(exc.message, fields={what: [exc.message]}) from exc


def _as_stored(entity: CompiledEntity, name: str, value: Any) -> Any:
    """A predicted number as its column will hold it: rounded half-up at the column's scale (an integer
    column's scale is 0). A number too large for any column stays a Decimal, for validation to refuse."""
    column = entity.table.c[name].type
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return value
    number = Decimal(value)
    if number.adjusted() >= 19:  # beyond every column: no int() of a number that may have a million digits
        return number.to_integral_value(rounding=ROUND_HALF_UP)
    if isinstance(column, ExactDecimal):
        return number.quantize(Decimal(1).scaleb(-column.scale), rounding=ROUND_HALF_UP)
    if isinstance(column, sa.Integer):
        return int(number.to_integral_value(rounding=ROUND_HALF_UP))
    return value


def refusal(entity: CompiledEntity, record_id: int, errors: dict[str, list[str]]) -> str:
    """The message of a guarded update refused for the values it would store in one record."""
    details = "; ".join(f"{name}: {' '.join(map(str, messages))}" for name, messages in errors.items())
    return f"The update of {entity.name} {record_id} was refused: {details}"
