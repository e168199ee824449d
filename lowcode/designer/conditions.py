"""The visual condition builder: rows of (field, operator, value) in all/any/none groups, nested, read from and
written to the one condition language (:mod:`lowcode.conditions`).

Usage (any designer that edits a condition - view filters, form visibility/required/read-only)::

    builder = ConditionBuilder.for_entity(AppDocuments(workspace.docs), "order", language)
    node = builder.rows(doc, "filter")               # a document as a tree of groups and rows, for the macro
    parsed = builder.parse(request.form, "filter")   # the posted rows back as a document, with errors by row
    if parsed.errors: ...                            # {"filter/1/0": ["expected a whole number"]}, nothing saved
    builder.row("filter/1/0", field, op, values)     # one row again (htmx, after its field or operator changed)

The macro ``condition_group`` of ``templates/designer/_conditions.html`` draws a node. Posted names are
``c:<prefix>/mode`` (a group: all, any, none), ``c:<prefix>/<i>/field``, ``.../op``, ``.../value`` (one value,
a list: several values or one per line) or ``.../value/0`` and ``.../value/1`` (between); the buttons post
``cadd:<prefix>`` (``row`` or ``group``) and ``cdel:<prefix>/<i>``. A new row is ``<first field> is not empty``,
so every state of the builder is a valid document. Which operators a field offers and which input its value
gets is decided here, from the field's kind; the browser only posts. Values are checked by the condition
parser itself, row by row, so every row shows its own problem.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

from lowcode.conditions import OPERATORS
from lowcode.definitions.checks import AppDocuments
from lowcode.definitions.names import CONDITION_SCOPE, Shape
from lowcode.designer.condition_posts import MODES, Parsed, PostedCondition, as_group
from lowcode.fields.base import normalise_label, pick_label
from lowcode.pages.listing import OPERATOR_LABELS

MODE_LABELS = {"all": _l("All of"), "any": _l("Any of"), "none": _l("None of")}
OP_LABELS = {
    **OPERATOR_LABELS,
    "in": _l("is one of"),
    "not_in": _l("is none of"),
    "between": _l("between"),
}
OP_ORDER = (
    "=",
    "!=",
    "contains",
    "starts_with",
    "<",
    "<=",
    ">",
    ">=",
    "between",
    "in",
    "not_in",
    "is_empty",
    "is_not_empty",
)
"""The order operators are offered in (those the registry has and this list lacks come last)."""
INPUT_TYPES = {"date": "date", "datetime": "datetime-local"}
"""The HTML input type of a value by field kind (text otherwise, and for variables such as ``$today``)."""


@dataclass(frozen=True)
class ConditionField:
    """A field a condition may test: its name, label, condition kind and, for select fields, its choices."""

    name: str
    label: str
    kind: str
    choices: tuple[tuple[str, str], ...] = ()


@dataclass
class Row:
    """One comparison as the builder shows it (``values``: the raw texts of its inputs)."""

    prefix: str
    field: str
    op: str
    values: list[str]
    fields: list[tuple[str, str]]
    operators: list[tuple[str, str]]
    widget: str
    """``none`` (no value), ``one``, ``pair`` (between), ``choice`` (a select's value or true/false),
    ``choices`` (several of a select's values), ``lines`` (a list, one value per line)."""
    input_type: str = "text"
    choices: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    suggest: str = ""
    """The id of a list of variables offered as values (a rule's ``$record.x``); values are then text."""
    is_group = False


@dataclass
class GroupNode:
    """An all/any/none group of rows and groups."""

    prefix: str
    mode: str
    items: list[Any]
    modes: list[tuple[str, str]]
    errors: list[str] = field(default_factory=list)
    is_group = True


class ConditionBuilder:
    """Builds and reads the visual condition builder over the ``fields`` a condition may test."""

    def __init__(
        self,
        fields: Sequence[ConditionField],
        language: str,
        scope: Mapping[str, Shape] = CONDITION_SCOPE,
        suggest: str = "",
    ):
        self.fields = {f.name: f for f in fields}
        self.language = language
        self.scope = scope
        self.kinds = {f.name: f.kind for f in fields}
        self.suggest = suggest

    @classmethod
    def for_entity(
        cls,
        docs: AppDocuments,
        entity: str,
        language: str,
        scope: Mapping[str, Shape] = CONDITION_SCOPE,
        suggest: str = "",
    ) -> ConditionBuilder:
        """A builder over an entity's fields as the documents have them (drafts included), select fields
        with their choices by label; ``suggest``: the id of the list of variables its value inputs offer."""
        kinds = docs.kinds(entity)
        fields = []
        for name, cf in docs.typed_fields(entity).items():
            if name not in kinds:
                continue
            choices = tuple(
                (str(c["value"]), pick_label(normalise_label(c.get("label"), str(c["value"])), language, ""))
                for c in cf.fdef.options.get("choices", ())
                if isinstance(c, Mapping) and "value" in c
            )
            fields.append(ConditionField(name, cf.fdef.label_for(language), kinds[name], choices))
        fields += [ConditionField(n, n, k) for n, k in kinds.items() if n not in docs.typed_fields(entity)]
        return cls(fields, language, scope, suggest)

    # -- document -> rows ------------------------------------------------------------------------------
    def rows(self, doc: Any, prefix: str, errors: Mapping[str, list[str]] | None = None) -> GroupNode:
        """The root group of a document (a bare leaf or ``not`` becomes a group of one)."""
        errors = errors or {}
        mode, items = as_group(doc)
        return self._group(prefix, mode, items, errors)

    def _group(self, prefix: str, mode: str, items: list, errors: Mapping) -> GroupNode:
        nodes = []
        for i, item in enumerate(items):
            sub = f"{prefix}/{i}"
            if isinstance(item, Mapping) and ("field" in item or "op" in item):
                nodes.append(self._leaf_row(sub, item, errors))
            else:
                sub_mode, sub_items = as_group(item)
                nodes.append(self._group(sub, sub_mode, sub_items, errors))
        modes = [(m, str(MODE_LABELS[m])) for m in MODES]
        return GroupNode(prefix, mode, nodes, modes, list(errors.get(prefix, ())))

    def _leaf_row(self, prefix: str, leaf: Mapping, errors: Mapping) -> Row:
        value = leaf.get("value")
        values = (
            [_text(v) for v in value]
            if isinstance(value, list)
            else ([] if value is None else [_text(value)])
        )
        return self.row(
            prefix, str(leaf.get("field", "")), str(leaf.get("op", "")), values, list(errors.get(prefix, ()))
        )

    def row(self, prefix: str, name: str, op: str, values: list[str], errors: list[str] | None = None) -> Row:
        """One row: the operators its field's kind allows (an operator that does not apply is replaced by
        the first that does when ``op`` is empty or unknown) and the input its value needs."""
        known = self.fields.get(name)
        field_list = [(f.name, f.label) for f in self.fields.values()]
        if known is None:
            field_list.append((name, f"? {name}"))
        names = [*OP_ORDER, *(n for n in OPERATORS if n not in OP_ORDER)]
        allowed = [n for n in names if known is not None and known.kind in OPERATORS.get(n).kinds]
        operators = [(n, str(OP_LABELS.get(n, n))) for n in allowed]
        if op not in allowed and allowed and (not op or op in OPERATORS):
            op = allowed[0]
        elif op not in allowed:
            operators.append((op, f"? {op}"))
        row = Row(prefix, name, op, values, field_list, operators, "none", errors=list(errors or ()))
        row.suggest = self.suggest
        _shape_value(row, known, op)
        return row

    def parse(self, form, prefix: str) -> Parsed:
        """The document the posted builder under ``prefix`` describes (after its add/remove buttons), and
        the problems of each row by its prefix (:class:`~lowcode.designer.condition_posts.PostedCondition`)."""
        return PostedCondition(self.fields, self.scope).parse(form, prefix)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _shape_value(row: Row, known: ConditionField | None, op: str) -> None:
    """Choose the value input of a row from its operator's arity and its field's kind and choices."""
    arity = OPERATORS.get(op).arity if op in OPERATORS else "one"
    kind = known.kind if known else "text"
    choices = list(known.choices) if known else []
    if kind == "boolean":
        choices = [("true", str(_l("yes"))), ("false", str(_l("no")))]
    variable = any(v.startswith("$") for v in row.values)
    row.input_type = "text" if variable or row.suggest else INPUT_TYPES.get(kind, "text")
    row.choices = choices
    if arity == "none":
        row.widget, row.values = "none", []
    elif arity == "pair":
        row.widget, row.values = "pair", (row.values + ["", ""])[:2]
    elif arity == "list":
        row.widget = "choices" if choices else "lines"
    elif choices and op in ("=", "!=") and not variable:
        row.widget, row.values = "choice", row.values[:1]
    else:
        row.widget, row.values = "one", row.values[:1]
