"""The SELECT of the live rows a rule matches (a guarded update's rows, a ``for_each_record`` loop's records),
built once per condition, shape, limit and locking, and run with the condition's values bound.

A condition with variables (``id = $line.product``) compiled with its values inlined is a new statement
for every value, and SQLAlchemy builds and keys it again each time. Where the condition can be bound
(:mod:`lowcode.conditions.bound`) the statement is built once and cached here; otherwise it is compiled with
the values inlined, as before.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from lowcode.conditions.bound import bind_values, bound_clause
from lowcode.runtime.compiler import CompiledEntity

LIMIT = "_lc_limit"
"""The bind parameter of the row limit."""
_CACHE: OrderedDict[tuple, tuple] = OrderedDict()
_LOCK = threading.Lock()
_SIZE = 1024


def entity_columns(entity: CompiledEntity) -> dict[str, Any]:
    """The entity's field columns by name (built once per compiled entity)."""
    columns = entity.__dict__.get("_columns")
    if columns is None:
        t = entity.table
        columns = entity.__dict__["_columns"] = {n: t.c[n] for n in entity.kinds}
    return columns


def matching_select(
    entity: CompiledEntity,
    condition: Any,
    variables: Mapping[str, Any],
    limit: int | None,
    lock: bool,
) -> tuple[sa.Select, dict[str, Any]]:
    """``SELECT * WHERE deleted_at IS NULL AND <condition> ORDER BY id [LIMIT :_lc_limit] [FOR UPDATE]`` of
    the parsed ``condition`` with ``variables``, and its parameters.

    :raises ConditionInvalid: if a variable is unknown or its value does not fit its field."""
    t = entity.table
    columns = entity_columns(entity)
    params: dict[str, Any] = {} if limit is None else {LIMIT: limit}
    bound = bind_values(condition.root, columns, variables)
    if bound is None:
        return _select(t, condition.to_sql(columns, variables), limit is not None, lock), params
    shape, values = bound
    key = (id(condition), shape, limit is not None, lock)
    hit = _CACHE.get(key)
    if hit is None or hit[0] is not condition or hit[1] is not t:
        hit = (
            condition,
            t,
            _select(t, bound_clause(condition.root, columns, shape), limit is not None, lock),
        )
        with _LOCK:  # the condition is held, so its id is not reused while the entry lives
            _CACHE[key] = hit
            while len(_CACHE) > _SIZE:
                _CACHE.popitem(last=False)
    return hit[2], {**values, **params}


def _select(t: sa.Table, where: Any, limited: bool, lock: bool) -> sa.Select:
    select = sa.select(t).where(t.c.deleted_at.is_(None), where).order_by(t.c.id)
    if limited:
        select = select.limit(sa.bindparam(LIMIT, type_=sa.Integer))
    return select.with_for_update() if lock else select
