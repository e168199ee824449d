"""The fast input path of a compiled entity: a record body converted by each field type's ``coerce`` hook
(plain type checks, no marshmallow machinery) in the subset of input those hooks are sure of.

Any doubt - an unknown or missing required field, a null where none is allowed, a value a hook is not sure
of, a field type without a hook whose marshmallow field refuses the value - sends the whole body through the
entity's marshmallow schema, so every message is the schema's own. Built once per entity and mode (create
or partial update) by :meth:`lowcode.runtime.compiler.CompiledEntity.input_loader`.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from lowcode.fields.base import Coerce, Doubt


def _by_marshmallow(mfield: ma.fields.Field) -> Coerce:
    """The converter of a type without a ``coerce`` hook: its marshmallow field, any refusal a doubt."""

    def convert(value: Any) -> Any:
        try:
            return mfield.deserialize(value)
        except ma.ValidationError:
            raise Doubt from None

    return convert


class FastInput:
    """Loads record bodies like ``schema.load`` (same values, same errors), fast where it can."""

    def __init__(self, schema: ma.Schema, coerce_hooks: dict[str, Coerce | None]):
        self.schema = schema
        self.converters: dict[str, tuple[Coerce, bool]] = {
            name: (coerce_hooks.get(name) or _by_marshmallow(mfield), mfield.allow_none)
            for name, mfield in schema.fields.items()
        }
        self.required = frozenset(name for name, mfield in schema.fields.items() if mfield.required)

    def load(self, body: dict[str, Any]) -> dict[str, Any]:
        """The typed values of ``body``. :raises marshmallow.ValidationError: as the schema would."""
        try:
            return self._fast(body)
        except Doubt:
            return self.schema.load(body)

    def _fast(self, body: dict[str, Any]) -> dict[str, Any]:
        if not self.required <= body.keys():
            raise Doubt
        converters = self.converters
        values: dict[str, Any] = {}
        for name, value in body.items():
            entry = converters.get(name)
            if entry is None:
                raise Doubt
            if value is None:
                if not entry[1]:
                    raise Doubt
                values[name] = None
            else:
                values[name] = entry[0](value)
        return values
