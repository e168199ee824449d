"""The condition builder's row refresh: ``POST /design/<app>/entity/<name>/condition-row`` answers one row drawn
again for the posted field and operator (htmx swaps it in), so the server decides which operators a field
offers and which input its value gets. Nothing is saved."""

from __future__ import annotations

import re

from flask import get_template_attribute, request

from lowcode.definitions.checks import AppDocuments
from lowcode.designer.blueprint import bp, design_work
from lowcode.designer.conditions import ConditionBuilder
from lowcode.errors import BadRequest

PREFIX = re.compile(r"^[a-z][a-z0-9_]{0,47}(/[0-9]{1,3}){1,20}$")
"""A row's prefix: the condition's name and the row's place (``filter/1/0``)."""
SUGGEST = re.compile(r"^vars-[a-z][a-z0-9_]{0,47}$")
"""The id of a list of variables the row's value offers (``_suggest``, a rule's ``where``)."""


def posted_values(form, prefix: str) -> list[str]:
    """A row's value inputs as posted: the two ends of a between, else every value (one per line)."""
    if f"c:{prefix}/value/0" in form:
        return [form.get(f"c:{prefix}/value/0", ""), form.get(f"c:{prefix}/value/1", "")]
    return [line.strip() for text in form.getlist(f"c:{prefix}/value") for line in text.splitlines()]


@bp.post("/<app>/entity/<name>/condition-row")
def condition_row(app: str, name: str):
    """One row of a condition over entity ``name`` for the posted field and operator."""
    with design_work(app, name) as dc:
        prefix = request.form.get("_row", "")
        if not PREFIX.match(prefix):
            raise BadRequest("The row names no place in a condition ('_row', such as filter/0)")
        suggest = request.form.get("_suggest", "")
        if suggest and not SUGGEST.match(suggest):
            raise BadRequest("'_suggest' names no list of variables (such as vars-where)")
        builder = ConditionBuilder.for_entity(
            AppDocuments(dc.workspace.docs), name, dc.workspace.language, suggest=suggest
        )
        field, op = request.form.get(f"c:{prefix}/field", ""), request.form.get(f"c:{prefix}/op", "")
        row = builder.row(prefix, field, op, posted_values(request.form, prefix))
        draw = get_template_attribute("designer/_conditions.html", "condition_row")
        return draw(row, request.path)
