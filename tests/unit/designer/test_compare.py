"""Two versions of a definition compared for people: entity fields, form placement, view settings, and the
structural diff of the other kinds."""

from __future__ import annotations

import copy

from lowcode.app import register_builtins
from lowcode.designer.compare import Change, compare_versions, flatten

register_builtins()

ENTITY = {"schema_version": 1, "name": "order", "label": {"en": "Order", "zh-CN": "订单"}, "title_field": "ref",
          "fields": [{"name": "ref", "type": "text", "label": {"en": "Ref"}},
                     {"name": "qty", "type": "integer", "label": {"en": "Qty"}, "options": {"min": 0}},
                     {"name": "state", "type": "select", "options": {"choices": [
                         {"value": "new", "label": {"en": "New"}}, {"value": "done", "label": {"en": "Done"}}]}},
                     {"name": "note", "type": "text", "label": {"en": "Note"}}]}  # fmt: skip


def rows(comparison) -> set[tuple]:
    return {(c.area, c.item, c.change, c.property, str(c.old), str(c.new)) for c in comparison.changes}


def test_entity_fields_added_removed_renamed_changed_and_reordered():
    new = copy.deepcopy(ENTITY)
    fields = new["fields"]
    fields[1]["label"]["en"] = "Quantity"
    fields[1]["required"] = True
    fields[1]["options"]["min"] = 1
    fields[2]["options"]["choices"][1]["label"]["en"] = "Finished"
    fields[3]["name"] = "remark"  # same type and label: a rename, probably
    fields.append({"name": "day", "type": "date"})
    fields[0], fields[1] = fields[1], fields[0]
    del new["title_field"]
    comparison = compare_versions("entity", ENTITY, new)
    assert rows(comparison) == {
        ("fields", "qty", "changed", "label.en", "Qty", "Quantity"),
        ("fields", "qty", "added", "required", "None", "True"),
        ("fields", "qty", "changed", "options.min", "0", "1"),
        ("fields", "state", "changed", "options.choices[done].label.en", "Done", "Finished"),
        ("fields", "remark", "renamed?", "name", "note", "remark"),
        ("fields", "day", "added", "type", "None", "date"),
        (
            "fields",
            "",
            "reordered",
            "order",
            "['ref', 'qty', 'state', 'remark']",
            "['qty', 'ref', 'state', 'remark']",
        ),
        ("settings", "title_field", "removed", "title_field", "ref", "None"),
    }
    assert (comparison.old_summary, comparison.new_summary) == ({"fields": 4}, {"fields": 5})
    assert comparison.counts == {"changed": 3, "added": 2, "renamed?": 1, "reordered": 1, "removed": 1}


def test_a_declared_rename_is_a_rename_and_a_different_type_is_a_removal_and_an_addition():
    new = copy.deepcopy(ENTITY)
    new["fields"][3] = {"name": "remark", "type": "text", "label": {"en": "Remark"}}
    new["fields"][0] = {"name": "code", "type": "integer", "label": {"en": "Ref"}}
    comparison = compare_versions("entity", ENTITY, new, renames={"note": "remark"})
    assert {r for r in rows(comparison) if r[0] == "fields"} == {
        ("fields", "remark", "renamed", "name", "note", "remark"),
        ("fields", "remark", "changed", "label.en", "Note", "Remark"),
        ("fields", "ref", "removed", "type", "text", "None"),
        ("fields", "code", "added", "type", "None", "integer"),
    }
    assert compare_versions("entity", ENTITY, copy.deepcopy(ENTITY)).changes == []


FORM = {"name": "order_form", "entity": "order", "sections": [
    {"label": {"en": "Main"}, "fields": ["ref", "qty", {"field": "state", "help": {"en": "Where it is"}}]},
    {"label": {"en": "More"}, "columns": 2, "fields": ["note"]}]}  # fmt: skip


def test_form_fields_moved_between_sections_added_removed_reordered_and_conditions_changed():
    new = copy.deepcopy(FORM)
    main, more = new["sections"]
    main["fields"] = [{"field": "qty", "visible_when": {"field": "state", "op": "=", "value": "new"}}, "ref"]
    more["fields"] = ["note", {"field": "state", "help": {"en": "Status"}}, "day"]
    more["columns"] = 3
    comparison = compare_versions("form", FORM, new)
    assert rows(comparison) == {
        ("layout", "state", "moved", "section", "1. Main", "2. More"),
        ("layout", "state", "changed", "help.en", "Where it is", "Status"),
        ("layout", "qty", "added", "visible_when", "None", "{'field': 'state', 'op': '=', 'value': 'new'}"),
        ("layout", "day", "added", "section", "None", "2. More"),
        ("layout", "1. Main", "reordered", "order", "['ref', 'qty']", "['qty', 'ref']"),
        ("sections", "2. More", "changed", "columns", "2", "3"),
    }
    assert comparison.old_summary == {"sections": 2, "fields": 4, "tabs": 0}
    assert comparison.new_summary == {"sections": 2, "fields": 5, "tabs": 0}
    removed = compare_versions("form", FORM, {**FORM, "sections": FORM["sections"][:1]})
    assert rows(removed) == {("layout", "note", "removed", "section", "2. More", "None"),
                             ("sections", "2. More", "removed", "", "None", "None")}  # fmt: skip


VIEW = {"name": "order_list", "entity": "order", "columns": ["ref", "qty", "state"], "sort": [{"field": "ref"}],
        "search_fields": ["ref"], "kanban": {"group_by": "state"}}  # fmt: skip


def test_view_columns_sort_filter_and_settings():
    new = {**VIEW, "columns": ["state", "ref", "note"], "sort": [{"field": "qty", "direction": "desc"}],
           "filter": {"field": "qty", "op": ">", "value": 0}, "kanban": {"group_by": "state", "card_fields": ["qty"]},
           "page_size": 20}  # fmt: skip
    comparison = compare_versions("view", VIEW, new)
    assert rows(comparison) == {
        ("columns", "qty", "removed", "", "None", "None"),
        ("columns", "note", "added", "", "None", "None"),
        ("columns", "", "reordered", "order", "['ref', 'state']", "['state', 'ref']"),
        ("sort", "sort", "changed", "", "[{'field': 'ref'}]", "[{'field': 'qty', 'direction': 'desc'}]"),
        ("filter", "filter", "changed", "", "None", "{'field': 'qty', 'op': '>', 'value': 0}"),
        ("settings", "kanban", "added", "kanban.card_fields", "None", "['qty']"),
        ("settings", "page_size", "added", "page_size", "None", "20"),
    }
    assert comparison.new_summary == {"columns": 3, "sort": 1, "search_fields": 1, "related": 0, "filter": 1}


def test_other_kinds_get_a_structural_diff_by_path_with_named_items_matched_by_name():
    old = {"name": "flow", "entity": "order", "state_field": "state", "initial": "new",
           "states": [{"name": "new"}, {"name": "done", "color": "green"}],
           "transitions": [{"name": "finish", "from": "new", "to": "done",
                            "condition": {"field": "qty", "op": ">", "value": 0}}]}  # fmt: skip
    new = copy.deepcopy(old)
    new["states"] = [{"name": "done", "color": "blue"}, {"name": "new"}, {"name": "void"}]
    new["transitions"][0]["condition"]["value"] = 1
    comparison = compare_versions("workflow", old, new)
    assert comparison.changes == [
        Change("states", "states", "changed", "states[done].color", "green", "blue"),
        Change("states", "states", "added", "states[void].name", None, "void"),
        Change("transitions", "transitions", "changed", "transitions[finish].condition",
               {"field": "qty", "op": ">", "value": 0}, {"field": "qty", "op": ">", "value": 1}),
    ]  # fmt: skip
    assert comparison.old_summary == {"states": 2, "transitions": 1}
    created = compare_versions("role", None, {"name": "r", "label": {"en": "R"}})
    assert set(created.changes) == {Change("name", "name", "added", "name", None, "r"),
                                    Change("label", "label", "added", "label.en", None, "R")}  # fmt: skip


def test_flatten_keeps_conditions_and_unkeyed_lists_whole():
    doc = {
        "a": {"b": 1},
        "where": {"all": []},
        "x_when": {"field": "f"},
        "l": [1, 2],
        "m": [{"k": 1}, {"k": 2}],
    }
    assert flatten(doc) == {"a.b": 1, "where": {"all": []}, "x_when": {"field": "f"}, "l": [1, 2],
                            "m": [{"k": 1}, {"k": 2}]}  # fmt: skip
