"""Refusal messages rendered for the user whose write set the rule off, never showing what they may not read.

A rule runs as the system and may read any record; its refusal message (``{prod.sku}``, ``{target.available}``)
goes back to a user who may not. So every name of a rule's scope that stands for records is bound to where
they came from - a :class:`Source`: their entity and rows - under a scope key no expression can name
(:data:`SOURCES`):

- the trigger record (``record``, ``old``, its fields bare, its child rows as ``line`` and ``parent``): the
  user's own write at the first level (only their hidden fields count), a record the system writes in a
  cascade beyond it;
- a loop's row (``for_each_record`` / ``collect`` ``as``), a created record (``create_record`` ``as``), the row
  a guard refused (``target``), and a ``collect`` list (every row its values came from).

:func:`refusal` renders the message when every part of it reads only sources the user may read - each row
within their read record rules (checked in SQL by id; in memory for a row not yet stored) and no field the
part reads hidden from them. Otherwise the whole message is replaced by :func:`neutral`, naming only the
rule: the text around a value says things about the record too ("... is over its credit limit"). The rule
run log keeps the message the user was given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from lowcode.core.number_styles import NumberStyle, format_number
from lowcode.core.texts import Text, Versions
from lowcode.errors import RuleRefused
from lowcode.expressions import compile_expression
from lowcode.expressions.parser import Attribute, Name
from lowcode.expressions.references import references
from lowcode.rules.actions.base import TEMPLATE_PART, Show, message_languages, pick_message, render
from lowcode.runtime.number_style import number_style

SOURCES = "@sources"
"""Scope key of the name -> :class:`Source` map (``@`` cannot start a name of the expression language)."""


def neutral(rule: str) -> Text:
    """The refusal shown instead of a message that reads what the reader may not: only the rule's name."""
    return Text("Refused by rule '{rule}' (the reason concerns a record you may not read).", rule=rule)


@dataclass(frozen=True)
class Source:
    """Where the value of a scope name came from: records, each as (entity, row); ``own``: the reader's own
    write (only their hidden fields count)."""

    rows: tuple[tuple[str, Mapping[str, Any]], ...]
    own: bool = False

    @classmethod
    def of(cls, entity: str, *rows: Mapping[str, Any], own: bool = False) -> Source:
        """Rows of one entity."""
        return cls(tuple((entity, row) for row in rows), own)


def with_source(scope: dict[str, Any], name: str, value: Any, source: Source) -> dict[str, Any]:
    """A new scope with ``name`` bound to ``value`` that came from ``source``."""
    return {**scope, name: value, SOURCES: {**scope.get(SOURCES, {}), name: source}}


def bind_source(scope: dict[str, Any], name: str, source: Source, extend: bool = False) -> None:
    """Record in ``scope`` (in place) where the value of ``name`` came from; ``extend``: add to its rows."""
    known = scope.get(SOURCES, {})
    previous = known.get(name) if extend else None
    if previous is not None:
        source = Source(previous.rows + source.rows, previous.own and source.own)
    scope[SOURCES] = {**known, name: source}


def trigger_sources(entity: str, record: Mapping[str, Any], own: bool) -> dict[str, Source]:
    """The sources of a rule's first scope: the trigger record as ``record`` and ``old``."""
    source = Source.of(entity, record, own=own)
    return {"record": source, "old": source}


def refusal(run: Any, message: str | Mapping[str, str], scope: Mapping[str, Any]) -> RuleRefused:
    """The refusal of ``run`` with ``message`` (a template, or one per language) rendered for the reader in
    their language, select values by their choice label (see the module docstring)."""
    reader = run.ctx.reader or run.ctx.actor
    own = (getattr(reader, "language", None) or "en").replace("_", "-")
    languages = dict.fromkeys([own, "en", *(k.replace("_", "-") for k in message_languages(message))])
    templates = {lang: pick_message(message, lang) for lang in languages}
    if not reader.is_admin and not all(_readable(run, reader, t, scope) for t in set(templates.values())):
        return RuleRefused(neutral(run.rule.name), rule=run.rule.name)
    versions = {lang: render(t, scope, shown_values(run, scope, lang)) for lang, t in templates.items()}
    return RuleRefused(Versions(versions, own), rule=run.rule.name)


def shown_values(run: Any, scope: Mapping[str, Any], language: str) -> Show:
    """Shows a template part that is just a select field of a known source (``{po.status}``, ``{status}``)
    by the choice's label in ``language``, and a number read from fields of known sources (``{bal.on_hand}``,
    ``{-(bal.on_hand + record.qty)}``) in those fields' number style for ``language`` when they share one
    (quantities ``120``, money ``1,234.50 CNY``); another decimal without trailing zeros. Other parts as
    their value."""
    sources: Mapping[str, Source] = scope.get(SOURCES, {})
    trigger = sources.get("record")
    styles: dict[tuple[str, str], Any] = {}

    def field_of(name: str, keys: tuple[str, ...]) -> tuple[Any, Any] | None:
        """The (entity, field) a name of the scope reads (``po.status``, a bare ``status``), if known."""
        if keys:
            source, key = sources.get(name), keys[0]
        elif trigger is not None and name in trigger.rows[0][1]:
            source, key = trigger, name
        else:
            return None
        if source is None or not source.rows:
            return None
        entity = run.ctx.snapshot.entity(run.rule.app, source.rows[0][0])
        cf = entity.fields.get(key)
        return None if cf is None else (entity, cf)

    def style_of(found: tuple[Any, Any]) -> Any:
        entity, cf = found
        key = (entity.name, cf.name)
        if key not in styles:
            styles[key] = number_style(run.ctx.snapshot, entity, cf)
        return styles[key]

    def show(part: str, value: Any) -> str | None:
        tree = compile_expression(part).tree
        if isinstance(value, str):
            if isinstance(tree, Attribute) and isinstance(tree.target, Name) and len(tree.keys) == 1:
                found = field_of(tree.target.name, tree.keys)
            elif isinstance(tree, Name):
                found = field_of(tree.name, ())
            else:
                return None
            if found is None or "choices" not in found[1].fdef.options:
                return None
            return found[1].ftype.format(found[1].fdef, value, language)
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            return None
        read = [field_of(ref.name, ref.keys[:1]) for ref in references(tree)]
        found_styles = {style_of(f) if f is not None else None for f in read}
        if len(found_styles) == 1 and None not in found_styles:
            return format_number(value, found_styles.pop(), language)
        if isinstance(value, Decimal):
            return format_number(value, NumberStyle.trimmed(max(-value.as_tuple().exponent, 0)), language)
        return None

    return show


def _readable(run: Any, reader: Any, template: str, scope: Mapping[str, Any]) -> bool:
    sources: Mapping[str, Source] = scope.get(SOURCES, {})
    trigger = sources.get("record")
    for part in TEMPLATE_PART.findall(template):
        for ref in references(compile_expression(part).tree):
            source, keys = sources.get(ref.name), ref.keys[:1]
            if source is None and trigger is not None and ref.name in trigger.rows[0][1]:
                source, keys = trigger, (ref.name,)  # a field of the trigger record, bare
            if source is not None and not _may_read(run, reader, source, frozenset(keys) if keys else None):
                return False
    return True


def _may_read(run: Any, reader: Any, source: Source, keys: frozenset[str] | None) -> bool:
    """The reader may read every row of ``source`` (and the fields ``keys`` of each; None: all of them)."""
    by_entity: dict[str, list[Mapping[str, Any]]] = {}
    for entity_name, row in source.rows:
        by_entity.setdefault(entity_name, []).append(row)
    return all(_may_read_rows(run, reader, name, rows, keys, source.own) for name, rows in by_entity.items())


def _may_read_rows(run: Any, reader: Any, entity_name: str, rows: list, keys, own: bool) -> bool:
    permissions = run.engine.records.permissions
    entity = run.ctx.snapshot.entity(run.rule.app, entity_name)
    wanted = frozenset(entity.fields) if keys is None else keys & frozenset(entity.fields)
    if permissions.hidden_fields(reader, entity) & wanted:
        return False
    if own:
        return True
    stored = {row["id"] for row in rows if isinstance(row.get("id"), int)}
    unstored = [row for row in rows if not isinstance(row.get("id"), int)]
    if any(not permissions.may_read(reader, entity, dict(row), wanted) for row in unstored):
        return False
    if not stored:
        return True
    where = permissions.read_filter(reader, entity, {**run.ctx.variables, "user": reader.variables})
    if where is None:
        return True
    t = entity.table
    seen = run.ctx.session.scalar(sa.select(sa.func.count()).select_from(t).where(t.c.id.in_(stored), where))
    return seen == len(stored)
