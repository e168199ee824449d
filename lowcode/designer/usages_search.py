"""One "used by" search: the field looked for, the app's documents, and the helpers the finders of each
definition kind record usages with (names, expressions, conditions resolved through scopes).

A scope maps each name an expression or a condition variable may use to a
:class:`~lowcode.definitions.names.Shape`, the same scopes the publish checks build: ``line.qty`` reads field
``qty`` of the record ``line`` stands for (``Shape.entity``), a bare ``qty`` is a field itself when its shape
says whose (``Shape.field_of``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from lowcode.definitions.checks import AppDocuments
from lowcode.definitions.names import Shape, join
from lowcode.errors import LowcodeError
from lowcode.expressions import compile_expression
from lowcode.expressions.references import references

Scope = Mapping[str, Shape]


@dataclass(frozen=True)
class Usage:
    """Where a field is used: the definition (``kind``, ``name``), the JSON ``path`` in it
    (``/fields/3/options/expression``) and ``what`` it is for people ("formula 'amount'", a :class:`Text`)."""

    kind: str
    name: str
    path: str
    what: str


class Search:
    """Usages of field ``field`` of ``entity`` in ``docs``; finders call :meth:`at` for each document, then
    record what they find through the other methods."""

    def __init__(self, docs: AppDocuments, entity: str, field: str):
        self.docs = docs
        self.entity = entity
        self.field = field
        self.found: list[Usage] = []
        self._at = ("", "")

    def at(self, kind: str, name: str) -> None:
        """The document the next usages are in."""
        self._at = (kind, name)

    def hit(self, entity: str, name: Any) -> bool:
        """Whether ``name`` of ``entity`` is the field looked for."""
        return entity == self.entity and name == self.field

    def add(self, path: str, what: str) -> None:
        """Record a usage at ``path`` of the current document (once per path)."""
        usage = Usage(self._at[0], self._at[1], path, what)
        if usage not in self.found:
            self.found.append(usage)

    def name(self, path: str, entity: str, name: Any, what: str) -> None:
        """The value at ``path`` names field ``name`` of ``entity``."""
        if self.hit(entity, name):
            self.add(path, what)

    def names(self, path: str, entity: str, names: Any, what: str) -> None:
        """The list at ``path`` names fields of ``entity`` (each at ``path/<index>``)."""
        for i, name in enumerate(names if isinstance(names, list) else []):
            self.name(f"{path}/{i}", entity, name, what)

    def expression(self, path: str, text: Any, scope: Scope, what: str) -> None:
        """An expression evaluated in ``scope`` (a literal or a broken one reads nothing)."""
        if any(self.hit(*used) for used in expression_fields(text, scope)):
            self.add(path, what)

    def condition(self, path: str, doc: Any, entity: str, scope: Scope, what: str) -> None:
        """A condition over the fields of ``entity`` whose ``$variables`` come from ``scope``."""
        for leaf_path, leaf in condition_leaves(doc, path):
            self.name(f"{leaf_path}/field", entity, leaf.get("field"), what)
            value = leaf.get("value")
            values = value if isinstance(value, list) else [value]
            for i, one in enumerate(values):
                where = f"{leaf_path}/value" + (f"/{i}" if isinstance(value, list) else "")
                if any(self.hit(*used) for used in variable_fields(one, scope)):
                    self.add(where, what)

    def formula_scope(self, entity: str) -> dict[str, Shape]:
        """The names a formula of ``entity`` reads: its fields, each also the record a link or child table
        of it names (``lines.amount``)."""
        targets = self.targets(entity)
        return {
            name: Shape(entity=targets.get(name, ""), field_of=entity) for name in self.docs.fields(entity)
        }

    def targets(self, entity: str) -> dict[str, str]:
        """Link and child-table fields of ``entity`` -> the entity their values are records of."""
        return {
            name: cf.fdef.options.get("entity", "")
            for name, cf in self.docs.typed_fields(entity).items()
            if getattr(cf.ftype, "references_entity", False) or getattr(cf.ftype, "holds_children", False)
        }


def expression_fields(text: Any, scope: Scope) -> Iterator[tuple[str, str]]:
    """``(entity, field)`` of each field expression ``text`` reads, as far as ``scope`` tells."""
    if not isinstance(text, str):
        return
    try:
        tree = compile_expression(text).tree
    except LowcodeError:
        return
    for ref in references(tree):
        yield from _resolved(ref.name, ref.keys, scope)


def variable_fields(value: Any, scope: Scope) -> Iterator[tuple[str, str]]:
    """``(entity, field)`` a condition value reads when it is a variable (``$line.product``)."""
    if isinstance(value, str) and value.startswith("$") and not value.startswith("$$"):
        name, *keys = value[1:].split(".")
        yield from _resolved(name, tuple(keys), scope)


def _resolved(name: str, keys: tuple[str, ...], scope: Scope) -> Iterator[tuple[str, str]]:
    shape = scope.get(name)
    if shape is None:
        return
    if shape.field_of:
        yield shape.field_of, name
    if keys and shape.entity:
        yield shape.entity, keys[0]


def condition_leaves(doc: Any, path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every leaf (``{field, op, value}``) of a condition document with its JSON path; tolerant of a
    condition that would not parse (a draft's), so a usage in it is still found."""
    stack = [(doc, path)]
    while stack:
        node, where = stack.pop()
        if not isinstance(node, Mapping):
            continue
        if "field" in node:
            yield where, node
            continue
        for key in ("all", "any"):
            if isinstance(node.get(key), list):
                stack.extend((item, f"{where}/{key}/{i}") for i, item in enumerate(node[key]))
        if "not" in node:
            stack.append((node["not"], join(where, "not")))
