"""Where entities, forms and views use a field ("used by" finders of these kinds): computed fields (formulas
read fields, through links and child tables too - ``lines.amount``), rollups, ``fetch_from``, the naming
series' date field, the title field and unique groups; form layout and conditions; view columns, filter,
sort, search, boards, totals and the related lists that reach the entity through a link field."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from lowcode.core.texts import Text
from lowcode.definitions.names import CONDITION_SCOPE
from lowcode.designer.usages_search import Search
from lowcode.errors import LowcodeError
from lowcode.fields import field_types
from lowcode.fields.base import FieldDef
from lowcode.fields.fetch import fetch_spec
from lowcode.registry import Registry

FieldFinder = Callable[[str, Mapping[str, Any], str, Search], None]
"""``(entity, field document, its JSON path, search)``: what one field's options use."""
field_option_finders: Registry[FieldFinder] = Registry("field usage finder")


def _formula(entity: str, fdoc: Mapping[str, Any], here: str, search: Search) -> None:
    text = (fdoc.get("options") or {}).get("expression")
    what = Text("formula '{field}'", field=fdoc["name"])
    search.expression(f"{here}/options/expression", text, search.formula_scope(entity), what)


def _rollup(entity: str, fdoc: Mapping[str, Any], here: str, search: Search) -> None:
    options = fdoc.get("options") or {}
    child, column = options.get("child"), options.get("field")
    what = Text(
        "rollup '{field}' over {child}.{column}", field=fdoc["name"], child=child, column=column or "*"
    )
    search.name(f"{here}/options/child", entity, child, what)
    search.name(f"{here}/options/field", search.targets(entity).get(child, ""), column, what)


def _naming_series(entity: str, fdoc: Mapping[str, Any], here: str, search: Search) -> None:
    date_field = (fdoc.get("options") or {}).get("date_field")
    what = Text("date of the naming series '{field}'", field=fdoc["name"])
    search.name(f"{here}/options/date_field", entity, date_field, what)


def register_field_finders(registry: Registry[FieldFinder] = field_option_finders) -> None:
    """The built-in field types whose options name fields (idempotent). Other computed types are covered
    by what their type says they are computed from (``FieldType.depends_on``)."""
    for type_name, finder in (("formula", _formula), ("rollup", _rollup), ("autonumber", _naming_series)):
        if type_name not in registry:
            registry.register(type_name, finder)


def _computed(entity: str, fdoc: Mapping[str, Any], here: str, search: Search) -> None:
    """A computed field of a type without a finder: the names its type says it is computed from."""
    try:
        names = field_types.get(fdoc["type"]).depends_on(FieldDef.from_json(fdoc))
    except (LowcodeError, KeyError, TypeError, ValueError):
        return
    for name in sorted(names):
        search.name(f"{here}/options", entity, name, Text("computed field '{field}'", field=fdoc["name"]))


def entity_usages(name: str, doc: Mapping[str, Any], search: Search) -> None:
    """The fields of ``doc`` (options, fetch_from), its title field and unique groups."""
    targets = search.targets(name)
    for i, fdoc in enumerate(doc.get("fields") or []):
        if not isinstance(fdoc, Mapping) or "name" not in fdoc:
            continue
        here = f"/fields/{i}"
        finder = field_option_finders.get(fdoc["type"]) if fdoc.get("type") in field_option_finders else None
        (finder or _computed)(name, fdoc, here, search)
        fetch = fetch_spec(fdoc.get("options") or {})
        if fetch:
            what = Text("fetch_from of '{field}'", field=fdoc["name"])
            search.name(f"{here}/options/fetch_from/link", name, fetch[0], what)
            search.name(f"{here}/options/fetch_from/field", targets.get(fetch[0], ""), fetch[1], what)
    search.name("/title_field", name, doc.get("title_field"), Text("title field"))
    for i, group in enumerate(doc.get("unique_together") or []):
        search.names(f"/unique_together/{i}", name, group, Text("unique_together"))
    for i, group in enumerate(doc.get("indexes") or []):
        search.names(f"/indexes/{i}", name, group, Text("index"))


def form_usages(name: str, doc: Mapping[str, Any], search: Search) -> None:
    """Fields placed in the form's sections and the conditions (``*_when``) of sections and fields."""
    entity = doc.get("entity", "")
    for s, section in enumerate(doc.get("sections") or []):
        here = f"/sections/{s}"
        _conditions(here, section, entity, search, Text("condition of section {section}", section=s + 1))
        for f, item in enumerate(section.get("fields") or []):
            where = f"{here}/fields/{f}"
            placed = Text("form field (section {section})", section=s + 1)
            if isinstance(item, Mapping):
                search.name(f"{where}/field", entity, item.get("field"), placed)
                what = Text("condition of form field '{field}'", field=item.get("field"))
                _conditions(where, item, entity, search, what)
            else:
                search.name(where, entity, item, placed)


def _conditions(here: str, part: Mapping[str, Any], entity: str, search: Search, what: str) -> None:
    for key, doc in part.items():
        if key.endswith("_when") and isinstance(doc, Mapping):
            search.condition(f"{here}/{key}", doc, entity, CONDITION_SCOPE, what)


def view_usages(name: str, doc: Mapping[str, Any], search: Search) -> None:
    """Columns, filter, sort, search fields, kanban and calendar settings, totals and related lists."""
    entity = doc.get("entity", "")
    search.names("/columns", entity, doc.get("columns"), Text("list column"))
    search.condition("/filter", doc.get("filter"), entity, CONDITION_SCOPE, Text("list filter"))
    _sort("/sort", doc.get("sort"), entity, search, Text("sort"))
    search.names("/search_fields", entity, doc.get("search_fields"), Text("search field"))
    kanban = doc.get("kanban") or {}
    search.name("/kanban/group_by", entity, kanban.get("group_by"), Text("kanban group_by"))
    search.names("/kanban/card_fields", entity, kanban.get("card_fields"), Text("kanban card field"))
    calendar = doc.get("calendar") or {}
    search.name("/calendar/date_field", entity, calendar.get("date_field"), Text("calendar date field"))
    for i, total in enumerate(doc.get("totals") or []):
        field, where = (total.get("field"), "/field") if isinstance(total, Mapping) else (total, "")
        search.name(f"/totals/{i}{where}", entity, field, Text("list total"))
    for i, rel in enumerate(doc.get("related") or []):
        here, other = f"/related/{i}", rel.get("entity", "")
        search.name(f"{here}/field", other, rel.get("field"), Text("related list link field"))
        search.names(f"{here}/columns", other, rel.get("columns"), Text("related list column"))
        _sort(f"{here}/sort", rel.get("sort"), other, search, Text("related list sort"))


def _sort(here: str, keys: Any, entity: str, search: Search, what: str) -> None:
    for i, key in enumerate(keys if isinstance(keys, list) else []):
        if isinstance(key, Mapping):
            search.name(f"{here}/{i}/field", entity, key.get("field"), what)
