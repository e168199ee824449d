"""Rules by their label in the page's language."""

from __future__ import annotations

from lowcode.fields.base import normalise_label, pick_label
from lowcode.runtime.context import WriteContext


def rule_label(ctx: WriteContext, app: str, name: str, language: str) -> str:
    """A rule's label (its name when it has none or is no longer published)."""
    rule = ctx.snapshot.rulebook.all.get((app, name))
    if rule is None or not rule.definition.get("label"):
        return name
    return pick_label(normalise_label(rule.definition["label"], name), language, name)
