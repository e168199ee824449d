"""Compiled workflows (no database): locks, transitions between states, colours and labels falling back to
the choice's, and rules fired by transition names."""

from __future__ import annotations

import sqlalchemy as sa

from lowcode.fields import register_builtin_field_types
from lowcode.rules.hooks import WriteEvent
from lowcode.rules.model import compile_rule
from lowcode.runtime.compiler import compile_entity
from lowcode.workflows.model import Lock, attach_workflows, compile_workflow

register_builtin_field_types()

ENTITY = {
    "name": "doc", "label": "Doc", "fields": [
        {"name": "title", "type": "text"},
        {"name": "state", "type": "select", "options": {"choices": [
            {"value": "new", "label": {"en": "New", "zh-CN": "新建"}, "color": "teal"},
            {"value": "done", "color": "#ff0000"}, {"value": "void"}]}},
    ],
}  # fmt: skip
FLOW = {
    "name": "doc_flow", "entity": "doc", "state_field": "state", "initial": ["new"],
    "states": [{"name": "new"}, {"name": "done", "lock": {"record": True, "except": ["title"]}, "delete": False},
               {"name": "void", "label": "Voided", "color": "red", "lock": {"fields": ["title"]}}],
    "transitions": [{"name": "finish", "from": "new", "to": "done"},
                    {"name": "void", "from": ["new", "done"], "to": "void", "confirm": "Sure?"},
                    {"name": "quick_void", "from": "new", "to": "void"}],
}  # fmt: skip


def _entity():
    return compile_entity("app", ENTITY, 1, sa.MetaData())


def test_locks_cover_the_record_but_its_exceptions_or_the_named_fields():
    assert Lock(record=True, fields=frozenset({"title"})).covers("lines")
    assert not Lock(record=True, fields=frozenset({"title"})).covers("title")
    assert Lock(fields=frozenset({"title"})).covers("title") and not Lock(fields=frozenset({"title"})).covers(
        "x"
    )


def test_states_take_labels_and_colours_from_the_choices_when_not_given():
    wf = compile_workflow("app", FLOW, _entity())
    assert wf.states["new"].label_for("zh_CN") == "新建" and wf.states["new"].color == "teal"
    assert wf.states["done"].color == "grey"  # a choice colour that is no badge colour is not used
    assert wf.states["void"].label_for("en") == "Voided" and wf.states["void"].color == "red"
    assert not wf.states["done"].deletable and wf.states["new"].deletable
    assert wf.state_label("gone", "en") == "gone" and wf.state(None) is None


def test_transitions_between_and_leaving_in_declared_order():
    wf = compile_workflow("app", FLOW, _entity())
    assert [t.name for t in wf.leaving("new")] == ["finish", "void", "quick_void"]
    assert [t.name for t in wf.between("new", "void")] == ["void", "quick_void"]
    assert [t.name for t in wf.between("done", "void")] == ["void"]
    assert wf.between("void", "new") == [] and wf.transitions["void"].confirm == {"en": "Sure?"}


def test_attach_skips_a_second_workflow_of_an_entity():
    entity = _entity()
    attach_workflows(
        {("app", "doc"): entity}, {("app", "a_flow"): FLOW, ("app", "b_flow"): {**FLOW, "name": "b"}}
    )
    assert entity.workflow.name == "doc_flow"


def test_a_rule_on_named_transitions_fires_only_for_them():
    entity = _entity()
    body = {"name": "r", "entity": "doc", "trigger": {"events": ["update"], "transition": ["void", "finish"]},
            "actions": [{"type": "refuse", "message": "x"}]}  # fmt: skip
    rule = compile_rule("app", body, entity, 1)

    def event(transition):
        return WriteEvent(
            "app", "doc", "update", 1, {"state": "new"}, {"state": "void"}, {}, transition=transition
        )

    assert rule.triggered_by(event("void"), {}) and rule.triggered_by(event("finish"), {})
    assert not rule.triggered_by(event("quick_void"), {}) and not rule.triggered_by(event(None), {})
    single = compile_rule("app", {**body, "trigger": {"events": ["update"], "transition": "void"}}, entity, 1)
    assert single.transitions_taken == frozenset({"void"}) and single.transition is None
