"""What an entity says of a field the designer renames follows the new key: formulas, the title field,
unique groups and declared indexes (an index on the old key would refuse the publish)."""

from __future__ import annotations

from lowcode.designer.entity_edits import renamed_in_entity

ITEM = {
    "name": "item",
    "title_field": "code",
    "unique_together": [["code", "batch"]],
    "indexes": [["status", "code"], ["batch"]],
    "fields": [
        {"name": "code", "type": "text"},
        {"name": "batch", "type": "text"},
        {"name": "status", "type": "text"},
        {
            "name": "tag",
            "type": "formula",
            "options": {"expression": 'concat(code, "-", batch)', "result": "text"},
        },
    ],
}


def test_a_renamed_field_is_renamed_wherever_the_entity_names_it():
    renamed = renamed_in_entity(ITEM, "code", "sku")
    assert renamed["title_field"] == "sku"
    assert renamed["unique_together"] == [["sku", "batch"]]
    assert renamed["indexes"] == [["status", "sku"], ["batch"]]
    assert renamed["fields"][3]["options"]["expression"] == 'concat(sku, "-", batch)'
    assert ITEM["indexes"] == [["status", "code"], ["batch"]]  # the given document is not changed
