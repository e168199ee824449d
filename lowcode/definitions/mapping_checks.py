"""The publish check of mapping definitions (see :mod:`lowcode.definitions.checks`): the source entity, the
target and its fields, paths that parse (and, for a record source, name the source entity's fields),
lookups by unique fields of the entity the link targets, child tables, value maps into select choices, date
formats on date fields, expressions that parse and read only ``source``, ``parent`` and the row's fields,
and outbound entries. Every problem at its JSON path (``mapping:<name>/fields/2/lookup/by``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lowcode.definitions.checks import AppDocuments
from lowcode.definitions.names import CONDITION_SCOPE, condition_problems, join
from lowcode.errors import LowcodeError
from lowcode.expressions import compile_expression
from lowcode.fields.base import SYSTEM_NAMES
from lowcode.mappings.paths import EVERY, PathError, parse_path

Errors = dict[str, list[str]]
DATE_TYPES = frozenset({"date", "datetime"})


def _add(errors: Errors, path: str, message: str) -> None:
    errors.setdefault(path, []).append(message)


class _Check:
    def __init__(self, doc: Mapping[str, Any], docs: AppDocuments):
        self.doc, self.docs = doc, docs
        self.prefix = f"mapping:{doc['name']}"
        self.errors: Errors = {}
        self.sheet = doc["source"]["kind"] == "sheet"

    def add(self, path: str, message: str) -> None:
        _add(self.errors, f"{self.prefix}/{path}", message)

    def field_docs(self, entity: str) -> dict[str, Mapping[str, Any]]:
        return {f["name"]: f for f in self.docs.entities.get(entity, {}).get("fields", [])}

    def path(self, text: str, where: str, source_entity: str | None, *, list_path: bool = False) -> None:
        """A source path parses; for a record source its first key is a field of the source entity."""
        if self.sheet:
            return
        try:
            parsed = parse_path(text)
        except PathError as exc:
            self.add(where, str(exc))
            return
        if EVERY in parsed.steps and not list_path:
            self.add(where, "[*] only names a child table's source list")
        if source_entity and parsed.steps:
            first = parsed.steps[0]
            if first not in self.docs.fields(source_entity) | SYSTEM_NAMES:
                self.add(where, f"'{first}' is not a field of {source_entity}")

    def run(self) -> Errors:
        doc = self.doc
        source_entity = doc["source"].get("entity")
        if source_entity and source_entity not in self.docs.entities:
            self.add("source/entity", f"unknown entity '{source_entity}'")
            source_entity = None
        target = doc["target"]
        if target not in self.docs.entities:
            self.add("target", f"unknown entity '{target}'")
            return self.errors
        key = doc.get("key")
        if key:
            self.path(key["source"], "key/source", source_entity)
            fdoc = self.field_docs(target).get(key["field"])
            if fdoc is None:
                self.add("key/field", f"unknown field '{key['field']}' of {target}")
            elif not fdoc.get("unique"):
                self.add("key/field", f"'{key['field']}' is not a unique field of {target}: no upserts by it")
        self.entries(doc["fields"], "fields", target, source_entity, False)
        children = self.docs.children(target)
        source_children = self.docs.children(source_entity) if source_entity else {}
        for i, child in enumerate(doc.get("children", [])):
            here = f"children/{i}"
            if child["field"] not in children:
                self.add(f"{here}/field", f"'{child['field']}' is not a child table of {target}")
                continue
            extra: set[str] = set()
            if "related" in child:
                child_source = self.related(child["related"], f"{here}/related", source_entity)
                extra = {"record", *(["matched"] if child["related"].get("match") else [])}
            else:
                self.path(child["source"], f"{here}/source", source_entity, list_path=True)
                child_source = (
                    source_children.get(parse_path_or_none(child["source"]) or "") if source_entity else None
                )
            self.entries(
                child["fields"], f"{here}/fields", children[child["field"]], child_source, True, extra
            )
        self.outbound(doc.get("outbound", []), target)
        if "offer" in doc:
            self.offer(doc["offer"], source_entity)
        return self.errors

    def offer(self, offer: Mapping[str, Any], source_entity: str | None) -> None:
        """A "create from" button: a record source, a condition over the source entity's fields."""
        if self.doc["source"]["kind"] != "record":
            self.add("offer", "only a mapping whose source is a record can be offered on a record page")
            return
        related = {c["field"] for c in self.doc.get("children", []) if "related" in c}
        for i, name in enumerate(offer.get("require_rows", [])):
            if name not in related:
                self.add(
                    f"offer/require_rows/{i}",
                    f"'{name}' is not a child table this mapping fills from related rows",
                )
        if source_entity and "when" in offer:
            kinds = self.docs.kinds(source_entity)
            for path, messages in condition_problems(offer["when"], kinds, CONDITION_SCOPE).items():
                for message in messages:
                    self.add(join("offer/when", path), message)

    def related(self, spec: Mapping[str, Any], here: str, source_entity: str | None) -> str | None:
        """Related rows: a record source, an entity linking to it by ``link``, a condition over that entity,
        a child table of the source and a field both have for ``match``. The related entity, if it exists."""
        if self.doc["source"]["kind"] != "record":
            self.add(here, "related rows need a record source")
        entity = spec["entity"]
        if entity not in self.docs.entities:
            self.add(f"{here}/entity", f"unknown entity '{entity}'")
            return None
        link = self.field_docs(entity).get(spec["link"])
        if link is None or link["type"] != "link" or link.get("options", {}).get("entity") != source_entity:
            self.add(f"{here}/link", f"'{spec['link']}' is not a link of {entity} to {source_entity}")
        if "where" in spec:
            kinds = self.docs.kinds(entity)
            for path, messages in condition_problems(spec["where"], kinds, CONDITION_SCOPE).items():
                for message in messages:
                    self.add(join(f"{here}/where", path), message)
        match = spec.get("match")
        if match and source_entity:
            child_entity = self.docs.children(source_entity).get(match["child"])
            if child_entity is None:
                self.add(f"{here}/match/child", f"'{match['child']}' is not a child table of {source_entity}")
            elif match["on"] not in self.docs.fields(entity) & self.docs.fields(child_entity):
                self.add(
                    f"{here}/match/on", f"'{match['on']}' is not a field of both {entity} and {child_entity}"
                )
        return entity

    def entries(
        self,
        entries,
        where: str,
        entity: str,
        source_entity: str | None,
        in_child: bool,
        extra: set[str] = frozenset(),  # type: ignore[assignment]
    ) -> None:
        fields = self.field_docs(entity)
        writable = self.docs.writable(entity)
        names = {"source", *fields, *(["parent"] if in_child else []), *extra}
        for i, entry in enumerate(entries):
            here = f"{where}/{i}"
            name = entry["field"]
            if name not in fields:
                self.add(f"{here}/field", f"unknown field '{name}' of {entity}")
                continue
            if name not in writable:
                self.add(f"{here}/field", f"'{name}' is computed or not stored: it cannot be mapped")
            given = [k for k in ("source", "expression") if k in entry]
            if len(given) > 1:
                self.add(here, "an entry reads a source or computes an expression, not both")
            if not given and "default" not in entry:
                self.add(here, "an entry needs a source, an expression or a default")
            if "source" in entry:
                self.path(entry["source"], f"{here}/source", source_entity)
            if "expression" in entry:
                self.expression(entry["expression"], f"{here}/expression", names)
            self.steps(entry, here, fields[name])

    def steps(self, entry: Mapping[str, Any], here: str, fdoc: Mapping[str, Any]) -> None:
        if entry.get("date_format") and fdoc["type"] not in DATE_TYPES:
            self.add(f"{here}/date_format", f"'{fdoc['name']}' is not a date or datetime field")
        values = entry.get("values")
        if values and fdoc["type"] == "select":
            choices = {c["value"] for c in fdoc.get("options", {}).get("choices", [])}
            ours = [*values["map"].values(), *([values["default"]] if "default" in values else [])]
            for value in ours:
                if value is not None and value not in choices:
                    self.add(f"{here}/values", f"'{value}' is not a choice of {fdoc['name']}")
        lookup = entry.get("lookup")
        if lookup:
            self.lookup(lookup, f"{here}/lookup", fdoc)

    def lookup(self, lookup: Mapping[str, Any], here: str, fdoc: Mapping[str, Any]) -> None:
        entity = lookup["entity"]
        if entity not in self.docs.entities:
            self.add(f"{here}/entity", f"unknown entity '{entity}'")
            return
        if fdoc["type"] != "link" or fdoc.get("options", {}).get("entity") != entity:
            self.add(f"{here}/entity", f"'{fdoc['name']}' is not a link to {entity}")
        by = self.field_docs(entity).get(lookup["by"])
        if by is None:
            self.add(f"{here}/by", f"unknown field '{lookup['by']}' of {entity}")
        elif not by.get("unique"):
            self.add(f"{here}/by", f"'{lookup['by']}' is not a unique field of {entity}: a lookup needs one")
        writable = self.docs.writable(entity)
        for name, path in lookup.get("create", {}).items():
            if name not in writable:
                self.add(f"{here}/create/{name}", f"'{name}' is not a writable field of {entity}")
            self.path(path, f"{here}/create/{name}", None)
        if lookup.get("create") and lookup.get("missing") != "create":
            self.add(f"{here}/create", "'create' needs missing: create")

    def expression(self, text: str, here: str, names: set[str]) -> None:
        try:
            compiled = compile_expression(text)
        except LowcodeError as exc:
            self.add(here, exc.message if hasattr(exc, "message") else str(exc))
            return
        for name in sorted(compiled.names - names):
            self.add(here, f"unknown name '{name}' (names: source, parent in child rows, the row's fields)")

    def outbound(self, entries, target: str) -> None:
        fields = self.field_docs(target)
        written: list[tuple] = []
        for i, out in enumerate(entries):
            here = f"outbound/{i}"
            try:
                steps = parse_path(out["path"]).steps
                if not steps or not all(isinstance(s, str) and s != EVERY for s in steps):
                    self.add(f"{here}/path", "an outbound path is keys only (a.b.c)")
                clash = [w for w in written if w[: len(steps)] == steps or steps[: len(w)] == w]
                if clash:
                    self.add(f"{here}/path", f"'{out['path']}' overlaps another outbound path")
                written.append(steps)
            except PathError as exc:
                self.add(f"{here}/path", str(exc))
            if ("field" in out) == ("expression" in out):
                self.add(here, "an outbound entry has a field or an expression")
            if "field" in out and out["field"] not in set(fields) | SYSTEM_NAMES:
                self.add(f"{here}/field", f"unknown field '{out['field']}' of {target}")
            if "expression" in out:
                self.expression(out["expression"], f"{here}/expression", {*fields, *SYSTEM_NAMES})


def parse_path_or_none(text: str) -> str | None:
    """The first key of a path (a record source's child-table field), None if it does not parse."""
    try:
        steps = parse_path(text).steps
    except PathError:
        return None
    return steps[0] if steps and isinstance(steps[0], str) else None


def mapping_errors(doc: Mapping[str, Any], docs: AppDocuments) -> Errors:
    """Every cross-document problem of one mapping, keyed by JSON path."""
    return _Check(doc, docs).run()
