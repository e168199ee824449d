"""Where a report uses a field (the designer's usages, renames and deletes): every step of its dimension,
measure, filtered-measure (``where``) and filter paths, and those of its second source (``compare``) (``customer.name`` uses ``customer`` of the source and ``name`` of the customer)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lowcode.core.texts import Text
from lowcode.designer.usages_search import Search, condition_leaves
from lowcode.reports.paths import PARENT, document_shapes


def _walk(search: Search, where: str, source: str, text: Any, what: str) -> None:
    if not isinstance(text, str):
        return
    shapes, names = document_shapes(search.docs)
    entity: str | None = source
    for step in text.split("."):
        if entity is None:
            return
        if step == PARENT and entity in shapes.child_entities:
            entity = shapes.parent_of(entity, names)
            continue
        search.name(where, entity, step, what)
        cf = search.docs.typed_fields(entity).get(step)
        entity = cf.fdef.options.get("entity") if cf is not None else None


def report_usages(name: str, doc: Mapping[str, Any], search: Search, prefix: str = "") -> None:
    """The fields a report groups by, measures and filters on (and those of its second source)."""
    what = Text("report '{report}'", report=name)
    source = doc.get("source", "")
    for section in ("dimensions", "measures"):
        for i, item in enumerate(doc.get(section) or []):
            if isinstance(item, Mapping):
                _walk(search, f"{prefix}/{section}/{i}/field", source, item.get("field"), what)
    for path, leaf in condition_leaves(doc.get("filter"), f"{prefix}/filter"):
        _walk(search, f"{path}/field", source, leaf.get("field"), what)
    for i, item in enumerate(doc.get("measures") or []):
        if isinstance(item, Mapping):
            for path, leaf in condition_leaves(item.get("where"), f"{prefix}/measures/{i}/where"):
                _walk(search, f"{path}/field", source, leaf.get("field"), what)
    compare = doc.get("compare")
    if isinstance(compare, Mapping) and not prefix:
        report_usages(name, compare, search, "/compare")
