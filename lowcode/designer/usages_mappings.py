"""Where a mapping or a subscription uses a field (the designer's usages, renames and deletes): its target entries, external
key, lookups (the key field and the fields a lookup creates), outbound fields, for a record source the
source entity's fields its paths start with, its offer's condition and its related rows (link, filter, match)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lowcode.core.texts import Text
from lowcode.definitions.names import CONDITION_SCOPE
from lowcode.designer.usages_search import Search
from lowcode.mappings.paths import PathError, parse_path


def _first_key(text: Any) -> str | None:
    try:
        steps = parse_path(text).steps
    except (PathError, TypeError):
        return None
    return steps[0] if steps and isinstance(steps[0], str) else None


def _entries(search: Search, where: str, entries: Any, entity: str, source: str | None, what: str) -> None:
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, Mapping):
            continue
        search.name(f"{where}/{i}/field", entity, entry.get("field"), what)
        if source and "source" in entry:
            search.name(f"{where}/{i}/source", source, _first_key(entry["source"]), what)
        lookup = entry.get("lookup")
        if isinstance(lookup, Mapping):
            search.name(f"{where}/{i}/lookup/by", lookup.get("entity", ""), lookup.get("by"), what)
            for name in lookup.get("create") or {}:
                search.name(f"{where}/{i}/lookup/create/{name}", lookup.get("entity", ""), name, what)


def mapping_usages(name: str, doc: Mapping[str, Any], search: Search) -> None:
    """The fields a mapping reads or writes."""
    what = Text("mapping '{mapping}'", mapping=name)
    target = doc.get("target", "")
    source_doc = doc.get("source")
    source = source_doc.get("entity") if isinstance(source_doc, Mapping) else None
    key = doc.get("key")
    if isinstance(key, Mapping):
        search.name("/key/field", target, key.get("field"), what)
    _entries(search, "/fields", doc.get("fields"), target, source, what)
    children = search.docs.children(target) if target in search.docs.entities else {}
    source_children = search.docs.children(source) if source in search.docs.entities else {}
    for i, child in enumerate(doc.get("children") or []):
        if not isinstance(child, Mapping):
            continue
        search.name(f"/children/{i}/field", target, child.get("field"), what)
        child_entity = children.get(child.get("field"), "")
        related = child.get("related")
        if isinstance(related, Mapping):
            child_source = _related(search, f"/children/{i}/related", related, source, source_children, what)
        else:
            first = _first_key(child.get("source"))
            if source:
                search.name(f"/children/{i}/source", source, first, what)
            child_source = source_children.get(first or "")
        _entries(search, f"/children/{i}/fields", child.get("fields"), child_entity, child_source, what)
    for i, out in enumerate(doc.get("outbound") or []):
        if isinstance(out, Mapping):
            search.name(f"/outbound/{i}/field", target, out.get("field"), what)
    offer = doc.get("offer")
    if isinstance(offer, Mapping) and source:
        search.condition("/offer/when", offer.get("when"), source, CONDITION_SCOPE, what)


def _related(search: Search, where: str, related: Mapping[str, Any], source, source_children, what) -> str:
    """A child's related rows: their link and filter fields, the matched child table and field."""
    entity = str(related.get("entity", ""))
    search.name(f"{where}/link", entity, related.get("link"), what)
    search.condition(f"{where}/where", related.get("where"), entity, CONDITION_SCOPE, what)
    match = related.get("match")
    if isinstance(match, Mapping) and source:
        search.name(f"{where}/match/child", source, match.get("child"), what)
        search.name(f"{where}/match/on", entity, match.get("on"), what)
        search.name(f"{where}/match/on", source_children.get(match.get("child"), ""), match.get("on"), what)
    return entity


def subscription_usages(name: str, doc: Mapping[str, Any], search: Search) -> None:
    """The fields a subscription's condition reads (its mapping's fields are the mapping's usages)."""
    what = Text("subscription '{subscription}'", subscription=name)
    search.condition("/condition", doc.get("condition"), doc.get("entity", ""), CONDITION_SCOPE, what)
