"""A table made in the designer is listed in its app's menu."""

from __future__ import annotations

from lowcode.designer.app_menu import menu_with_table


def test_the_first_table_makes_the_first_menu_group():
    app = {"name": "shop", "label": {"en": "Shop", "zh-CN": "商店"}}
    listed = menu_with_table(app, "product")
    assert listed["menu"] == [
        {"group": "main", "label": {"en": "Shop", "zh-CN": "商店"}, "items": [{"entity": "product"}]}
    ]
    assert "menu" not in app  # a copy
    again = menu_with_table(listed, "customer")
    assert again["menu"][0]["items"] == [{"entity": "product"}, {"entity": "customer"}]
    assert menu_with_table(again, "product") == again  # listed once


def test_later_tables_go_to_the_last_group_or_stay_loose():
    app = {
        "name": "shop",
        "menu": [
            {"group": "a", "label": "A", "items": [{"entity": "x"}]},
            {"group": "b", "label": "B", "items": [{"entity": "y"}]},
        ],
    }
    assert menu_with_table(app, "z")["menu"][1]["items"] == [{"entity": "y"}, {"entity": "z"}]
    loose = {"name": "shop", "menu": [{"entity": "x"}]}
    assert menu_with_table(loose, "z")["menu"] == [{"entity": "x"}, {"entity": "z"}]
    assert menu_with_table({"name": "shop"}, "z")["menu"][0]["label"] == {"en": "shop"}
