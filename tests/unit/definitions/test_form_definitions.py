"""Form definitions (issue 12, item 3): the schema of tabs, sections and field entries with conditions, every
existing form still valid, and the publish checks - fields exist and appear once, tabs exist, conditions
parse over the entity's fields with only the ``$user``/``$now``/``$today`` variables. No database."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from lowcode.app import register_builtins
from lowcode.definitions.checks import app_errors_for
from lowcode.definitions.validate import validate_document
from lowcode.errors import DefinitionInvalid

register_builtins()

ROOT = Path(__file__).resolve().parents[3]
TICKET = {
    "name": "ticket",
    "label": "Ticket",
    "fields": [
        {"name": "title", "type": "text"},
        {"name": "kind", "type": "select", "options": {"choices": [{"value": "bug"}, {"value": "other"}]}},
        {"name": "severity", "type": "integer"},
        {"name": "score", "type": "formula", "options": {"expression": "severity * 2"}},
        {"name": "parts", "type": "child_table", "options": {"entity": "part"}},
    ],
}
PART = {"name": "part", "label": "Part", "child": True, "fields": [{"name": "name", "type": "text"}]}
IS_BUG = {"field": "kind", "op": "=", "value": "bug"}
FORM = {
    "name": "ticket_form",
    "entity": "ticket",
    "tabs": [{"name": "main", "label": {"en": "Main", "zh-CN": "主要"}}, {"name": "more", "label": "More"}],
    "sections": [
        {
            "label": "Head",
            "tab": "main",
            "columns": 3,
            "help": "What happened",
            "fields": [
                {"field": "title", "help": "One line", "placeholder": {"en": "Title", "zh-CN": "标题"}},
                "kind",
                {
                    "field": "severity",
                    "visible_when": IS_BUG,
                    "required_when": IS_BUG,
                    "read_only_when": {"field": "owner", "op": "!=", "value": "$user.id"},
                },
            ],
        },
        {
            "tab": "more",
            "fields": [{"field": "parts", "visible_when": {"not": IS_BUG}}, "score", "created_at"],
        },
    ],
}


def _docs(form: dict) -> dict:
    return {
        "app": {"desk": {"name": "desk", "label": "Desk"}},
        "entity": {"ticket": TICKET, "part": PART},
        "form": {form["name"]: form},
    }


def _form_errors(change) -> dict:
    form = copy.deepcopy(FORM)
    change(form)
    return app_errors_for(_docs(form))


def test_a_form_with_tabs_help_placeholders_and_conditions_is_valid_and_passes_its_checks():
    validate_document("form", "ticket_form", FORM)
    assert app_errors_for(_docs(FORM)) == {}


def test_every_shipped_form_is_still_valid():
    paths = sorted(ROOT.glob("app_templates/*/forms/*.json"))
    assert len(paths) >= 5
    for path in paths:
        doc = json.loads(path.read_text(encoding="utf-8"))
        validate_document("form", doc["name"], doc)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda f: f["sections"][0].update(columns=5), "sections/0/columns"),
        (
            lambda f: f["sections"][0]["fields"].append({"field": "kind", "hidden": True}),
            "sections/0/fields/3",
        ),
        (lambda f: f["sections"][0]["fields"].append({"help": "no field"}), "sections/0/fields/3"),
        (
            lambda f: f["sections"][0]["fields"][2].update(visible_when={"field": "kind"}),
            "sections/0/fields/2",
        ),
        (lambda f: f["tabs"].append({"name": "x"}), "tabs/2"),
        (lambda f: f["sections"][0].update(tab="Main Tab"), "sections/0/tab"),
    ],
)
def test_the_schema_refuses_malformed_entries(change, path):
    form = copy.deepcopy(FORM)
    change(form)
    with pytest.raises(DefinitionInvalid) as info:
        validate_document("form", "ticket_form", form)
    assert any(key.startswith(path) for key in info.value.fields), info.value.fields


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (
            lambda f: f["sections"][0]["fields"].append({"field": "colour"}),
            "form:ticket_form/sections/0/fields/3",
            "unknown field 'colour'",
        ),
        (
            lambda f: f["sections"][1]["fields"].append("kind"),
            "form:ticket_form/sections/1/fields/3",
            "field 'kind' appears more than once in the form",
        ),
        (
            lambda f: f["sections"][1].update(tab="closing"),
            "form:ticket_form/sections/1/tab",
            "unknown tab 'closing'",
        ),
        (lambda f: f.pop("tabs"), "form:ticket_form/sections/0/tab", "unknown tab 'main'"),
        (
            lambda f: f["tabs"].append({"name": "main", "label": "Again"}),
            "form:ticket_form/tabs/2/name",
            "duplicate tab 'main'",
        ),
        (
            lambda f: f["sections"][0]["fields"][2].update(
                visible_when={"field": "kynd", "op": "=", "value": "bug"}
            ),
            "form:ticket_form/sections/0/fields/2/visible_when/field",
            "unknown field 'kynd'",
        ),
        (
            lambda f: f["sections"][0]["fields"][2].update(
                required_when={"field": "severity", "op": ">", "value": "high"}
            ),
            "form:ticket_form/sections/0/fields/2/required_when/value",
            None,
        ),
        (
            lambda f: f["sections"][0]["fields"][2].update(
                read_only_when={"field": "owner", "op": "=", "value": "$record.owner"}
            ),
            "form:ticket_form/sections/0/fields/2/read_only_when/value",
            "unknown variable '$record'",
        ),
        (
            lambda f: f["sections"][0]["fields"][2].update(
                read_only_when={"field": "owner", "op": "=", "value": "$user.boss"}
            ),
            "form:ticket_form/sections/0/fields/2/read_only_when/value",
            "'$user' (the user's facts) has no field 'boss'",
        ),
        (
            lambda f: f["sections"][1]["fields"].__setitem__(1, {"field": "score", "required_when": IS_BUG}),
            "form:ticket_form/sections/1/fields/1/required_when",
            "'score' is not entered in forms: no required_when",
        ),
        (
            lambda f: f["sections"][1]["fields"].__setitem__(
                2, {"field": "created_at", "read_only_when": IS_BUG}
            ),
            "form:ticket_form/sections/1/fields/2/read_only_when",
            "'created_at' is not entered in forms: no read_only_when",
        ),
    ],
)
def test_publish_checks_name_each_problem_at_its_path(change, path, message):
    errors = _form_errors(change)
    assert path in errors, errors
    if message is not None:
        assert message in errors[path]
    else:
        assert errors[path]


def test_a_formula_may_be_shown_conditionally():
    form = copy.deepcopy(FORM)
    form["sections"][1]["fields"][1] = {"field": "score", "visible_when": IS_BUG}
    assert app_errors_for(_docs(form)) == {}
