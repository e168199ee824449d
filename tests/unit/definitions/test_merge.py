"""The three-way merge of definitions (lowcode/definitions/merge.py) and the upgrade plan built on it."""

from __future__ import annotations

import copy

from lowcode.definitions.merge import MISSING, merge_documents
from lowcode.definitions.upgrade import plan_upgrade

BASE = {
    "name": "product",
    "label": {"en": "Product", "zh-CN": "产品"},
    "fields": [
        {"name": "code", "type": "text", "label": {"en": "Code"}},
        {"name": "price", "type": "money", "label": {"en": "Price"}},
        {"name": "note", "type": "text"},
    ],
    "title_field": "code",
}


def changed(**edits):
    doc = copy.deepcopy(BASE)
    for path, value in edits.items():
        target = doc
        *head, last = path.split("__")
        for part in head:
            target = (
                next(f for f in target if f["name"] == part) if isinstance(target, list) else target[part]
            )
        if value is MISSING:
            del target[last]
        else:
            target[last] = value
    return doc


def test_one_side_changed_takes_that_side():
    local = changed(label={"en": "Item", "zh-CN": "产品"})
    assert merge_documents(BASE, local, BASE).body == local
    assert merge_documents(BASE, BASE, local).body == local
    assert merge_documents(BASE, local, BASE).conflicts == []


def test_both_sides_changing_different_keys_merge_without_conflict():
    local = changed(fields__price__label={"en": "Sale price"})
    new = changed(fields__code__label={"en": "SKU"}, title_field="note")
    merged = merge_documents(BASE, local, new)
    assert merged.conflicts == []
    fields = {f["name"]: f for f in merged.body["fields"]}
    assert fields["price"]["label"] == {"en": "Sale price"}
    assert fields["code"]["label"] == {"en": "SKU"}
    assert merged.body["title_field"] == "note"


def test_the_same_change_on_both_sides_is_no_conflict():
    both = changed(fields__price__label={"en": "Sale price"})
    merged = merge_documents(BASE, both, copy.deepcopy(both))
    assert merged.conflicts == [] and merged.body == both


def test_both_changing_the_same_key_differently_is_a_conflict_kept_local_unless_chosen():
    local = changed(fields__price__label={"en": "Sale price"})
    new = changed(fields__price__label={"en": "List price"})
    merged = merge_documents(BASE, local, new)
    assert [(c.path, c.base, c.local, c.new) for c in merged.conflicts] == [
        ("$.fields[price].label.en", "Price", "Sale price", "List price")
    ]
    assert merged.body["fields"][1]["label"] == {"en": "Sale price"}
    taken = merge_documents(BASE, local, new, {"$.fields[price].label.en": "new"})
    assert taken.body["fields"][1]["label"] == {"en": "List price"}
    back = merge_documents(BASE, local, new, {"$.fields[price].label.en": "base"})
    assert back.body["fields"][1]["label"] == {"en": "Price"}
    assert merge_documents(BASE, local, new, {"$.fields[price].label.en": "nonsense"}).body == merged.body


def test_fields_added_on_either_side_are_both_kept_in_place():
    local = copy.deepcopy(BASE)
    local["fields"].insert(1, {"name": "colour", "type": "text"})
    new = copy.deepcopy(BASE)
    new["fields"].append({"name": "weight", "type": "decimal"})
    merged = merge_documents(BASE, local, new)
    assert merged.conflicts == []
    assert [f["name"] for f in merged.body["fields"]] == ["code", "colour", "price", "note", "weight"]


def test_a_field_removed_on_one_side_and_untouched_on_the_other_is_removed():
    local = copy.deepcopy(BASE)
    del local["fields"][2]
    assert [f["name"] for f in merge_documents(BASE, local, changed(title_field="price")).body["fields"]] == [
        "code",
        "price",
    ]
    new = copy.deepcopy(BASE)
    del new["fields"][2]
    merged = merge_documents(BASE, changed(title_field="price"), new)
    assert [f["name"] for f in merged.body["fields"]] == ["code", "price"]
    assert merged.body["title_field"] == "price"


def test_removed_on_one_side_and_changed_on_the_other_is_a_conflict():
    local = copy.deepcopy(BASE)
    del local["fields"][2]
    new = changed(fields__note__label={"en": "Notes"})
    merged = merge_documents(BASE, local, new)
    assert [(c.path, c.local) for c in merged.conflicts] == [("$.fields[note]", MISSING)]
    assert "note" not in [f["name"] for f in merged.body["fields"]]  # local: removed
    kept = merge_documents(BASE, local, new, {"$.fields[note]": "new"})
    assert kept.body["fields"][2] == {"name": "note", "type": "text", "label": {"en": "Notes"}}


def test_keys_added_and_removed_on_one_side():
    local = changed(description={"en": "Things we sell"})
    new = changed(title_field=MISSING)
    merged = merge_documents(BASE, local, new)
    assert merged.body["description"] == {"en": "Things we sell"} and "title_field" not in merged.body
    both_added = merge_documents(BASE, changed(icon="box"), changed(icon="cube"))
    assert [c.path for c in both_added.conflicts] == ["$.icon"] and both_added.body["icon"] == "box"


def test_lists_of_plain_values_merge_as_sets():
    base = {"columns": ["a", "b", "c"]}
    merged = merge_documents(base, {"columns": ["a", "c", "x"]}, {"columns": ["a", "b", "c", "y"]})
    assert merged.conflicts == [] and merged.body["columns"] == ["a", "c", "x", "y"]


def test_unnamed_lists_changed_on_both_sides_are_one_conflict():
    base = {"sections": [{"fields": ["a"]}]}
    merged = merge_documents(base, {"sections": [{"fields": ["a", "b"]}]}, {"sections": [{"fields": ["c"]}]})
    assert [c.path for c in merged.conflicts] == ["$.sections"]
    assert merged.body["sections"] == [{"fields": ["a", "b"]}]


def test_menu_groups_and_entries_match_by_their_names():
    base = {"menu": [{"group": "sales", "label": "Sales", "items": [{"entity": "order"}]}]}
    local = {"menu": [{"group": "sales", "label": "Selling", "items": [{"entity": "order"}]}]}
    new = {
        "menu": [{"group": "sales", "label": "Sales", "items": [{"entity": "order"}, {"entity": "quote"}]}]
    }
    merged = merge_documents(base, local, new)
    assert merged.conflicts == []
    assert merged.body == {
        "menu": [{"group": "sales", "label": "Selling", "items": [{"entity": "order"}, {"entity": "quote"}]}]
    }


def test_the_plan_names_what_happens_to_each_definition():
    base = {"entity": {"a": BASE, "b": BASE, "c": BASE, "d": BASE, "gone": BASE}}
    local_a = changed(label={"en": "Local"})
    new_b = changed(label={"en": "New"})
    local = {"entity": {"a": local_a, "b": BASE, "c": changed(title_field="note"), "d": local_a, "gone": BASE,
                        "mine": BASE}}  # fmt: skip
    new = {"entity": {"a": BASE, "b": new_b, "c": changed(fields__code__label={"en": "SKU"}), "d": new_b,
                      "extra": BASE}}  # fmt: skip
    plans = {p.name: p for p in plan_upgrade(base, local, new)}
    assert {n: p.status for n, p in plans.items()} == {
        "a": "local", "b": "new", "c": "merged", "d": "conflict", "extra": "added", "gone": "removed",
        "mine": "local",
    }  # fmt: skip
    assert [n for n, p in plans.items() if p.changes] == ["b", "c", "extra"]
    assert plans["d"].body["label"] == {"en": "Local"} and not plans["d"].changes
    chosen = {p.name: p for p in plan_upgrade(base, local, new, {"entity/d:$.label.en": "new"})}
    assert chosen["d"].body["label"] == {"en": "New"} and chosen["d"].changes
    assert chosen["d"].choice_key(chosen["d"].conflicts[0]) == "entity/d:$.label.en"
    assert plans["gone"].body == BASE  # the bundle dropped it: the app keeps it (and its data)
