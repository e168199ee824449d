"""What a record would look like if saved now, without writing anything: the form's compute round trip.

The posted values are read with each field's own input field (a value that does not read is left out and
reported), empty ``fetch_from`` fields are fetched from their linked records, and the computed fields
(formulas, rollups) of each child row and then of the record are computed by the field types' own
``compute`` - the evaluator the record service uses at save. No naming-series number is taken, no rule runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import marshmallow as ma

from lowcode.errors import LowcodeError
from lowcode.fields.base import ComputeContext
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext
from lowcode.runtime.fetch import Fetcher


@dataclass
class Preview:
    """The record as it would be saved: typed values (computed ones included), child rows by child field,
    the messages of values that did not read, and the paths whose values were fetched."""

    values: dict[str, Any] = field(default_factory=dict)
    children: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    fetched: set[str] = field(default_factory=set)


def _read(entity: CompiledEntity, raw: dict[str, Any], prefix: str, errors: dict) -> dict[str, Any]:
    """The writable values of ``raw`` that read as their field's type."""
    values: dict[str, Any] = {}
    for cf in entity.writable:
        value = raw.get(cf.name)
        if value is None:
            values[cf.name] = None
            continue
        try:
            values[cf.name] = cf.ftype.marshmallow_field(cf.fdef).deserialize(value)
        except ma.ValidationError as exc:
            values[cf.name] = None
            messages = exc.messages if isinstance(exc.messages, list) else [str(exc.messages)]
            errors[f"{prefix}{cf.name}"] = [str(m) for m in messages]
    return values


def read_values(entity: CompiledEntity, raw: dict[str, Any]) -> dict[str, Any]:
    """The writable values of ``raw`` (JSON values, as a form posts them) typed as the record service reads
    them; a value that does not read is None."""
    return _read(entity, raw, "", {})


def _compute(ctx: WriteContext, entity: CompiledEntity, record: dict, children: dict) -> None:
    """Each computed field in dependency order; one that cannot be computed yet (a missing input) is None."""
    cctx = ComputeContext(ctx.session, False, ctx.now, lambda key: 0)
    for cf in entity.computed:
        try:
            record[cf.name] = cf.ftype.compute(cf.fdef, {**record, **children}, children, cctx)
        except (LowcodeError, ArithmeticError, TypeError, ValueError):
            record[cf.name] = None


def preview(ctx: WriteContext, permissions: Any, entity: CompiledEntity, data: dict[str, Any]) -> Preview:
    """The record ``data`` (a bound form: raw values, child rows as lists of dicts) would be, computed."""
    data, fetched = Fetcher(ctx, permissions).fill(entity, data)
    out = Preview(fetched=fetched)
    out.values = _read(entity, data, "", out.errors)
    for cf in entity.child_fields:
        child = ctx.snapshot.entity(entity.app, cf.fdef.options["entity"])
        rows = []
        for i, raw in enumerate(data.get(cf.name) or []):
            row = _read(child, raw if isinstance(raw, dict) else {}, f"{cf.name}.{i}.", out.errors)
            _compute(ctx, child, row, {})
            rows.append(row)
        out.children[cf.name] = rows
    _compute(ctx, entity, out.values, out.children)
    return out
