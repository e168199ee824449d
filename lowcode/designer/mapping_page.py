"""What the mapping designer pages show: the app's mappings (target, source, state) and one mapping's entries
as a table (target field <- source path or expression, with the steps on the way), its problems by JSON path
and a preview's result. No Flask here: the views in :mod:`lowcode.designer.mapping_designer` render these."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lowcode.core.texts import Text
from lowcode.designer.blueprint import DesignContext
from lowcode.fields.base import normalise_label, pick_label

KIND = "mapping"
SOURCE_KINDS = ("payload", "sheet", "record")


def mapping_list(dc: DesignContext, language: str) -> list[dict[str, Any]]:
    """The app's mappings (drafts included), by name."""
    rows = []
    for name, body in sorted(dc.workspace.docs.get(KIND, {}).items()):
        state = dc.history.state(KIND, name)
        source = body.get("source") or {}
        rows.append(
            {
                "name": name,
                "label": pick_label(normalise_label(body.get("label"), name), language, name),
                "target": body.get("target", ""),
                "source": source.get("kind", ""),
                "source_entity": source.get("entity", ""),
                "pending": state.pending,
                "published": state.published_version,
            }
        )
    return rows


def _steps(entry: Mapping[str, Any]) -> list[Text | str]:
    steps: list[Text | str] = []
    if entry.get("values"):
        steps.append(Text("value map ({n} codes)", n=len(entry["values"].get("map", {}))))
    if entry.get("date_format"):
        steps.append(Text("date format {format}", format=entry["date_format"]))
    lookup = entry.get("lookup")
    if lookup:
        steps.append(Text("lookup {entity} by {field}", entity=lookup.get("entity"), field=lookup.get("by")))
        if lookup.get("missing") == "create":
            steps.append(Text("creates unknown ones"))
    if "default" in entry:
        steps.append(Text("default {value}", value=entry["default"]))
    if entry.get("required"):
        steps.append(Text("required"))
    return steps


def entry_rows(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every entry of the mapping as a row of the table view: where (path of the entry), target field,
    source, steps."""
    rows = []
    if isinstance(body.get("key"), Mapping):
        key = body["key"]
        rows.append(
            {"at": "key", "field": key.get("field"), "source": key.get("source"), "steps": [Text("key")]}
        )

    def add(entries: Any, at: str, prefix: str) -> None:
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(entry, Mapping):
                continue
            source = entry.get("source") or (f"= {entry['expression']}" if entry.get("expression") else "")
            rows.append(
                {
                    "at": f"{at}/{i}",
                    "field": prefix + str(entry.get("field")),
                    "source": source,
                    "steps": _steps(entry),
                }
            )

    add(body.get("fields"), "fields", "")
    for c, child in enumerate(body.get("children") or []):
        if isinstance(child, Mapping):
            add(
                child.get("fields"),
                f"children/{c}/fields",
                f"{child.get('field')}[] <- {child.get('source')}: ",
            )
    return rows


def starter(name: str, target: str, source: str, source_entity: str | None) -> dict[str, Any]:
    """A new mapping's first draft: the source and target, no entries yet."""
    return {
        "schema_version": 1,
        "name": name,
        "label": {"en": name},
        "source": {"kind": source, "entity": source_entity} if source == "record" else {"kind": source},
        "target": target,
        "fields": [],
    }
