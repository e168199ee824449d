"""The steps of a demo scenario, one handler each in :data:`steps` (keyed by the step's action word).

Every step may carry ``when`` (skipped unless true). Writes (``create``, ``update``, ``transition``) act as
``as`` (a username) at ``hour`` on the current ``day``; a refused write is counted and, unless
``if_refused`` is ``continue``, ends the enclosing procedure call or loop iteration (:class:`Stop`)."""

from __future__ import annotations

import datetime as dt
from collections import ChainMap
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lowcode.demo.functions import key_of
from lowcode.demo.values import as_input
from lowcode.demo.writer import Refused
from lowcode.registry import Registry

if TYPE_CHECKING:
    from lowcode.demo.runner import Run

Handler = Callable[["Run", dict, ChainMap], None]
steps: Registry[Handler] = Registry("demo step")
"""Step handlers by action word; a step is an object holding exactly one of these words."""


class Stop(Exception):
    """Ends the current procedure call or loop iteration (after a refused write)."""


def action_of(step: dict) -> str:
    """The action word of a step (validated by the scenario schema to be exactly one)."""
    return next(k for k in step if k in steps)


def _record_id(value: Any) -> int:
    return int(value["id"] if isinstance(value, dict) else value)


def _write(run: Run, step: dict, scope: ChainMap, kind: str, entity: str, **call: Any) -> dict | None:
    who = step.get("as", run.default_user)
    try:
        return run.writer.write(kind, who, entity, run.moment(step, scope), **call)
    except Refused:
        if step.get("if_refused", "stop") == "stop":
            raise Stop from None
        return None


def _bind(step: dict, scope: ChainMap, value: Any) -> None:
    if "bind" in step:
        scope.maps[0][step["bind"]] = value


def _create(run: Run, step: dict, scope: ChainMap) -> None:
    data = as_input(run.values.eval(step.get("values", {}), scope))
    record = _write(run, step, scope, "create", step["create"], data=data)
    if record is None:
        return
    if "keep" in step:
        record = {**record, **run.values.eval(step["keep"], scope.new_child({"record": record}))}
    _bind(step, scope, record)
    if "collect" in step:
        scope[step["collect"]].append(record)


def _create_many(run: Run, step: dict, scope: ChainMap) -> None:
    """Records independent of each other (``values``: a list, e.g. ``{"$each": ...}``) in one bulk write;
    ``bind`` gets the list (None for a refused item), ``collect`` each created record. A refused item is
    counted; with ``if_refused`` ``stop`` (the default) the others are still kept, then the step stops."""
    items = run.values.eval(step.get("values", []), scope)
    if not isinstance(items, list):
        raise TypeError(f"create_many {step['create_many']}: 'values' must give a list")
    who = step.get("as", run.default_user)
    try:
        created = run.writer.write_many(
            who, step["create_many"], run.moment(step, scope), [as_input(i) for i in items]
        )
    except Refused:
        if step.get("if_refused", "stop") == "stop":
            raise Stop from None
        return
    _bind(step, scope, created)
    if "collect" in step:
        scope[step["collect"]].extend(r for r in created if r is not None)
    if None in created and step.get("if_refused", "stop") == "stop":
        raise Stop


def _update(run: Run, step: dict, scope: ChainMap) -> None:
    record = run.values.eval(step["record"], scope)
    data = as_input(run.values.eval(step.get("values", {}), scope))
    result = _write(run, step, scope, "update", step["update"], record_id=_record_id(record), data=data)
    if result is not None:
        _bind(step, scope, result)


def _transition(run: Run, step: dict, scope: ChainMap) -> None:
    record = run.values.eval(step["record"], scope)
    data = as_input(run.values.eval(step.get("values", {}), scope))
    result = _write(
        run,
        step,
        scope,
        "transition",
        step["entity"],
        record_id=_record_id(record),
        name=step["transition"],
        data=data,
    )
    if result is not None:
        _bind(step, scope, result)


def _condition(run: Run, node: Any, scope: ChainMap) -> Any:
    """A condition of the condition language with the ``value`` of each leaf evaluated as a value spec
    (operators such as '=' stay as written)."""
    if isinstance(node, list):
        return [_condition(run, n, scope) for n in node]
    if not isinstance(node, dict):
        return node
    return {
        k: run.values.eval(v, scope) if k == "value" else _condition(run, v, scope) for k, v in node.items()
    }


def _find(run: Run, step: dict, scope: ChainMap) -> None:
    condition = as_input(_condition(run, step["where"], scope)) if "where" in step else None
    limit = run.values.eval(step["limit"], scope) if "limit" in step else None
    who = step.get("as", run.default_user)
    rows = run.writer.find(
        who,
        step["find"],
        condition,
        step.get("sort", []),
        None if limit is None else int(limit),
        run.moment(step, scope),
    )
    if step.get("first"):
        _bind(step, scope, rows[0] if rows else None)
    elif "key" in step:
        _bind(step, scope, {key_of(*(r[k] for k in step["key"])): r for r in rows})
    else:
        _bind(step, scope, rows)


def _get(run: Run, step: dict, scope: ChainMap) -> None:
    record_id = _record_id(run.values.eval(step["id"], scope))
    who = step.get("as", run.default_user)
    _bind(step, scope, run.writer.get(who, step["get"], record_id, run.moment(step, scope)))


def _let(run: Run, step: dict, scope: ChainMap) -> None:
    run.values.bind(step["let"], scope)


def _set(run: Run, step: dict, scope: ChainMap) -> None:
    for name, spec in step["set"].items():
        value = run.values.eval(spec, scope)
        holder = next((m for m in scope.maps if name in m), scope.maps[0])
        holder[name] = value


def _if(run: Run, step: dict, scope: ChainMap) -> None:
    branch = "then" if run.values.test(step["if"], scope, "if") else "else"
    run.block(step.get(branch, []), scope)


def _for_each(run: Run, step: dict, scope: ChainMap) -> None:
    for element in list(run.values.eval(step["for_each"], scope)):
        run.guarded(step["steps"], scope.new_child({step.get("as", "it"): element}))


def _repeat(run: Run, step: dict, scope: ChainMap) -> None:
    for _ in range(int(run.values.eval(step["repeat"], scope))):
        run.guarded(step["steps"], scope.new_child())


def _call(run: Run, step: dict, scope: ChainMap) -> None:
    run.call(step["call"], run.values.eval(step.get("args", {}), scope))


def _schedule(run: Run, step: dict, scope: ChainMap) -> None:
    days = int(run.values.eval(step.get("in_days", 0), scope))
    due = scope["day"] + dt.timedelta(days=days)
    run.agenda.setdefault(due, []).append((step["schedule"], run.values.eval(step.get("args", {}), scope)))


def _calendar(run: Run, step: dict, scope: ChainMap) -> None:
    span = step["calendar"]
    day, last = run.values.eval(span["from"], scope), run.values.eval(span["to"], scope)
    while day <= last:
        run.globals["day"] = day
        for procedure, args in run.agenda.pop(day, []):
            run.call(procedure, args)
        run.guarded(step.get("steps", []), scope.new_child())
        day += dt.timedelta(days=1)


for _word, _handler in {
    "create": _create,
    "create_many": _create_many,
    "update": _update,
    "transition": _transition,
    "find": _find,
    "get": _get,
    "let": _let,
    "set": _set,
    "if": _if,
    "for_each": _for_each,
    "repeat": _repeat,
    "call": _call,
    "schedule": _schedule,
    "calendar": _calendar,
}.items():
    steps.register(_word, _handler)
