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

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

from lowcode.conditions import MAX_DEPTH, MAX_LEAVES, OPERATORS
from lowcode.definitions.checks import AppDocuments
from lowcode.definitions.names import CONDITION_SCOPE, Shape, condition_problems
from lowcode.fields.base import normalise_label, pick_label
from lowcode.pages.listing import OPERATOR_LABELS

MODES = ("all", "any", "none")
"""Group modes: every row holds, at least one holds, none holds (``{"not": {"any": [...]}}``)."""
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
_INDEX = re.compile(r"^[0-9]{1,3}$")
_WHOLE = re.compile(r"^[+-]?[0-9]{1,19}$")


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


@dataclass
class Parsed:
    """A posted builder read back: the document (None for an empty root group) and the errors by prefix."""

    doc: dict[str, Any] | None
    errors: dict[str, list[str]]


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
        mode, items = _as_group(doc)
        return self._group(prefix, mode, items, errors)

    def _group(self, prefix: str, mode: str, items: list, errors: Mapping) -> GroupNode:
        nodes = []
        for i, item in enumerate(items):
            sub = f"{prefix}/{i}"
            if isinstance(item, Mapping) and ("field" in item or "op" in item):
                nodes.append(self._leaf_row(sub, item, errors))
            else:
                sub_mode, sub_items = _as_group(item)
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

    # -- posted form -> document -----------------------------------------------------------------------
    def parse(self, form, prefix: str) -> Parsed:
        """The document the posted builder under ``prefix`` describes (after its add/remove buttons), and
        the problems of each row by its prefix; the whole is then checked once more (depth, size)."""
        errors: dict[str, list[str]] = {}
        counter = [0]
        doc = self._read_group(form, prefix, errors, 0, counter)
        if not _as_group(doc)[1]:
            return Parsed(None, errors)
        if not errors:
            for path, messages in condition_problems(doc, self.kinds, self.scope).items():
                errors.setdefault(prefix, []).extend(f"{path}: {m}" if path else m for m in messages)
        return Parsed(doc, errors)

    def _read_group(self, form, prefix: str, errors: dict, depth: int, counter: list[int]) -> dict:
        if depth >= MAX_DEPTH:
            errors.setdefault(prefix, []).append(str(_l("Groups nest too deep")))
            return {"all": []}
        mode = form.get(f"c:{prefix}/mode", "all")
        if mode not in MODES:
            mode = "all"
        items: list[dict] = []
        for index in _indices(form, prefix):
            sub = f"{prefix}/{index}"
            if f"cdel:{sub}" in form:
                continue
            counter[0] += 1
            if counter[0] > MAX_LEAVES:
                errors.setdefault(prefix, []).append(str(_l("Too many conditions")))
                break
            if f"c:{sub}/mode" in form:
                items.append(self._read_group(form, sub, errors, depth + 1, counter))
            else:
                items.append(self._read_row(form, sub, len(items), errors))
        added = form.get(f"cadd:{prefix}")
        if added in ("row", "group") and self.fields:
            leaf = {"field": next(iter(self.fields)), "op": "is_not_empty"}
            items.append(leaf if added == "row" else {"all": [leaf]})
        return {"not": {"any": items}} if mode == "none" else {mode: items}

    def _read_row(self, form, prefix: str, position: int, errors: dict) -> dict:
        name, op = form.get(f"c:{prefix}/field", ""), form.get(f"c:{prefix}/op", "")
        leaf: dict[str, Any] = {"field": name, "op": op}
        known = self.fields.get(name)
        arity = OPERATORS.get(op).arity if op in OPERATORS else "one"
        kind = known.kind if known else "text"
        if arity == "one":
            leaf["value"] = _typed(form.get(f"c:{prefix}/value", ""), kind)
        elif arity == "pair":
            leaf["value"] = [_typed(form.get(f"c:{prefix}/value/{i}", ""), kind) for i in (0, 1)]
        elif arity == "list":
            raw = form.getlist(f"c:{prefix}/value")
            lines = [line.strip() for text in raw for line in text.splitlines()]
            leaf["value"] = [_typed(v, kind) for v in lines if v]
        problems = condition_problems(leaf, self.kinds, self.scope)
        if problems:
            errors[prefix] = [m for messages in problems.values() for m in messages]
        return leaf


def _as_group(doc: Any) -> tuple[str, list]:
    """A document as (mode, items): ``not any`` is a none group, another ``not`` a none group of one."""
    if not isinstance(doc, Mapping) or not doc:
        return "all", []
    if "all" in doc or "any" in doc:
        mode = "all" if "all" in doc else "any"
        return mode, list(doc[mode]) if isinstance(doc[mode], list) else []
    if "not" in doc:
        inner = doc["not"]
        if isinstance(inner, Mapping) and list(inner) == ["any"] and isinstance(inner["any"], list):
            return "none", list(inner["any"])
        return "none", [inner]
    return "all", [doc]


def _indices(form, prefix: str) -> list[int]:
    """The item numbers posted directly under ``prefix`` (``c:<prefix>/<i>/...``), in order."""
    head = f"c:{prefix}/"
    found = set()
    for key in form:
        if key.startswith(head):
            part = key[len(head) :].split("/", 1)[0]
            if _INDEX.match(part):
                found.add(int(part))
    return sorted(found)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _typed(raw: str, kind: str) -> Any:
    """A posted value as the document keeps it: whole numbers and booleans as JSON numbers and booleans,
    the rest as text (decimals travel as strings); anything unreadable stays text for the parser to refuse."""
    if raw.startswith("$"):
        return raw
    if kind == "integer" and _WHOLE.match(raw.strip()):
        return int(raw.strip())
    if kind == "boolean" and raw in ("true", "false"):
        return raw == "true"
    if kind in ("decimal", "date", "datetime"):
        return raw.strip()
    return raw


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
