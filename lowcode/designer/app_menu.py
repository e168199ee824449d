"""Where a table made in the designer shows in its app's menu: a new table is added to the menu at once, so
that a creator who never opens the settings page still finds it once published. An app without a menu gets
its first menu group (named ``main``, labelled like the app) holding the table; an app with menu groups gets
the table at the end of its last group; an app with only loose entries gets a loose entry. A table already
listed, or a table of lines of another one, is left as it is."""

from __future__ import annotations

import copy
from typing import Any

FIRST_GROUP = "main"


def menu_with_table(app_body: dict[str, Any], table: str) -> dict[str, Any]:
    """A copy of the app definition ``app_body`` whose menu lists ``table`` (see the module's rule)."""
    body = copy.deepcopy(app_body)
    menu = list(body.get("menu") or [])
    listed = {m.get("entity") for m in menu} | {
        i.get("entity") for m in menu if "group" in m for i in m.get("items") or ()
    }
    if table in listed:
        return body
    groups = [m for m in menu if "group" in m]
    if not menu:
        label = body.get("label") or {"en": body.get("name") or FIRST_GROUP}
        menu.append({"group": FIRST_GROUP, "label": label, "items": [{"entity": table}]})
    elif groups:
        groups[-1]["items"] = [*(groups[-1].get("items") or []), {"entity": table}]
    else:
        menu.append({"entity": table})
    body["menu"] = menu
    return body
