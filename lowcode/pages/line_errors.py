"""Messages about child rows shown on the rows they concern, on pages that show no editable rows (the
transition page): a refusal for line 3 (``lines.2``, ``lines.2.qty``) is listed as that line - its number,
the title of what it names, the column - not as a banner alone."""

from __future__ import annotations

from typing import Any

from lowcode.core.texts import localize
from lowcode.pages.display import Lookups, is_link
from lowcode.pages.forms import ErrorBag
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext


def _row_title(lookups: Lookups, child: CompiledEntity, row: dict[str, Any]) -> str:
    """What the row names: its first link's title (the product of an order line), else nothing."""
    for cf in child.fields.values():
        if is_link(cf) and row.get(cf.name) is not None:
            return lookups.format(child, cf, row[cf.name])
    return ""


def line_errors(
    ctx: WriteContext, entity: CompiledEntity, record: dict[str, Any], bag: ErrorBag, language: str
) -> list[dict[str, Any]]:
    """``[{"label", "rows": [{"number", "path", "title", "column", "messages"}]}]`` per child table whose rows
    have messages in ``bag`` (taken from it)."""
    lookups = Lookups(ctx, language)
    tables = []
    for cf in entity.child_fields:
        rows = record.get(cf.name) or []
        child = ctx.snapshot.entity(entity.app, cf.fdef.options["entity"])
        found = []
        for i, row in enumerate(rows):
            for column in [None, *child.fields]:
                path = f"{cf.name}.{i}" + (f".{column}" if column else "")
                messages = bag.fields.pop(path, [])
                if messages:
                    found.append(
                        {
                            "number": i + 1,
                            "row": row,
                            "path": path,
                            "messages": [str(localize(m)) for m in messages],
                            "column": child.fields[column].fdef.label_for(language) if column else "",
                        }
                    )
        if found:
            lookups.load_records(child, [f["row"] for f in found])
            for f in found:
                f["title"] = _row_title(lookups, child, f.pop("row"))
            tables.append({"label": cf.fdef.label_for(language), "rows": found})
    return tables
