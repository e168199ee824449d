"""The workflow designer: a new workflow for a table's choice field (its choices made from the states), the
diagram as SVG, states and transitions added, changed and removed in their panels, who may take a transition
saved as the roles' grants, the checks before publish, undo/redo over the linked drafts, conflicts, refusals
that save nothing, publishing, and who may use it."""

from __future__ import annotations

import html
import re

import pytest

from tests.integration.pages.helpers import Browser, add_role_users, signed_in, text

PASSWORD = "user-pass-123"
BUNDLE = {
    "app": {"name": "ops", "label": "Ops"},
    "entities": [
        {
            "name": "ticket",
            "label": {"en": "Ticket", "zh-CN": "工单"},
            "title_field": "title",
            "fields": [
                {"name": "title", "type": "text", "required": True},
                {"name": "note", "type": "text"},
                {
                    "name": "status",
                    "type": "select",
                    "label": "Status",
                    "default": "open",
                    "options": {
                        "choices": [
                            {"value": "open", "label": {"en": "Open", "zh-CN": "待办"}},
                            {"value": "doing", "label": {"en": "Doing", "zh-CN": "处理中"}},
                            {"value": "done", "label": {"en": "Done", "zh-CN": "完成"}},
                        ]
                    },
                },
            ],
        },
        {
            "name": "task",
            "label": "Task",
            "title_field": "name",
            "fields": [{"name": "name", "type": "text"}],
        },
    ],
    "roles": [
        {
            "name": "agent",
            "label": "Agent",
            "grants": [{"entity": "ticket", "actions": ["read", "create", "update"]}],
        },
        {"name": "lead", "label": "Lead", "grants": [{"entity": "task", "actions": ["read"]}]},
        {"name": "boss", "label": "Boss", "admin": True},
        {
            "name": "builder",
            "label": "Builder",
            "grants": [{"entity": "ticket", "actions": ["read", "configure"]}],
        },
    ],
}
OTHER = {
    "app": {"name": "other", "label": "Other"},
    "entities": [
        {
            "name": "thing",
            "label": "Thing",
            "fields": [
                {"name": "stage", "type": "select", "options": {"choices": [{"value": "a"}, {"value": "b"}]}}
            ],
        }
    ],
}
WF = "/design/ops/workflow/ticket_flow"


@pytest.fixture
def ops(app, api):
    assert api.post("/api/templates/import", json=BUNDLE).status_code == 201
    add_role_users(app, "ops", {"ann": "agent", "leo": "lead", "bob": "builder"}, PASSWORD)
    return api


def stamp_of(page: str) -> str:
    return html.unescape(re.search(r'name="stamp" value="([^"]*)"', page).group(1))


def draft(api, kind: str, name: str) -> dict:
    body = api.get(f"/api/definitions/ops/{kind}/{name}").get_json()
    return body["draft"] or body["published"]


def change(browser: Browser, what: str, data: list | dict, expect: int = 303, url: str = WF):
    page = text(browser.get(url))
    pairs = list(data.items()) if isinstance(data, dict) else list(data)
    response = browser.post(f"{url}/edit/{what}", [("stamp", stamp_of(page)), *pairs])
    assert response.status_code == expect, text(response)[-3000:]
    return response


def create(browser: Browser, expect: int = 303, **form):
    response = browser.post("/design/ops/workflows", {"target": "ticket/status", **form})
    assert response.status_code == expect, text(response)[-3000:]
    return response


@pytest.fixture
def flow(ops, designer):
    """The ticket workflow: open -> doing -> done, 'start' and 'finish'."""
    create(designer, states="open\ndoing\ndone")
    change(designer, "add_transition", {"name": "start", "label:en": "Start", "from": "open", "to": "doing"})
    change(
        designer, "add_transition", {"name": "finish", "label:en": "Finish", "from": "doing", "to": "done"}
    )
    return designer


def transition_form(api, name: str, roles=(), **extra) -> list:
    """The transition panel's form as it stands, with ``roles`` ticked and ``extra`` inputs."""
    body = transition_of(api, name)
    sources = body["from"] if isinstance(body["from"], list) else [body["from"]]
    pairs = [("transition", name), ("to", body["to"]), *(("from", s) for s in sources)]
    pairs += [("roles", r) for r in roles]
    pairs += [(f"label:{lang}", text) for lang, text in (body.get("label") or {}).items()]
    return pairs + list(extra.items())


def transition_of(api, name: str) -> dict:
    return next(t for t in draft(api, "workflow", "ticket_flow")["transitions"] if t["name"] == name)


def test_the_list_offers_select_fields_and_a_new_state_field(ops, designer):
    page = text(designer.get("/design/ops/workflows"))
    assert 'value="ticket/status"' in page and 'value="task/status"' in page
    assert "No workflow yet." in page
    assert 'href="/design/ops/workflows"' in text(designer.get("/design/ops"))


def test_a_new_workflow_makes_the_state_field_and_its_choices(ops, designer):
    response = designer.post(
        "/design/ops/workflows",
        {"target": "task/status", "states": "todo\nbusy\nclosed", "make_choices": "1"},
    )
    assert response.status_code == 303 and response.headers["Location"].endswith(
        "/design/ops/workflow/task_flow"
    )
    body = draft(ops, "workflow", "task_flow")
    assert body["initial"] == "todo" and [s["name"] for s in body["states"]] == ["todo", "busy", "closed"]
    status = next(f for f in draft(ops, "entity", "task")["fields"] if f["name"] == "status")
    assert status["type"] == "select" and status["default"] == "todo"
    assert [c["value"] for c in status["options"]["choices"]] == ["todo", "busy", "closed"]
    # the existing choices of a field become the states when none are named
    create(designer)
    assert [s["name"] for s in draft(ops, "workflow", "ticket_flow")["states"]] == ["open", "doing", "done"]
    listing = text(designer.get("/design/ops/workflows"))
    assert 'data-workflow="task_flow"' in listing and 'data-workflow="ticket_flow"' in listing
    assert "Every table has a workflow already." in listing


def test_a_new_state_missing_from_the_choices_is_added_to_them(ops, designer):
    create(designer, states="open\ndoing\ndone\narchived", make_choices="1")
    choices = next(f for f in draft(ops, "entity", "ticket")["fields"] if f["name"] == "status")["options"][
        "choices"
    ]
    assert [c["value"] for c in choices] == ["open", "doing", "done", "archived"]


@pytest.mark.parametrize(
    "form, path",
    [
        ({"target": "ticket/title", "states": "a"}, "target"),  # not a choice field
        ({"target": "nothing/status", "states": "a"}, "target"),
        ({"target": "ticket/status", "states": "Open Now"}, "states"),
        ({"target": "ticket/status", "states": "a", "name": "Bad Name"}, "name"),
        ({"target": "ticket/../x", "states": "a"}, "target"),
        ({"target": "task/name", "states": "a"}, "target"),
    ],
)
def test_a_new_workflow_with_bad_input_is_refused_and_nothing_is_made(ops, designer, form, path):
    response = designer.post("/design/ops/workflows", form)
    assert response.status_code == 422 and f'data-error-for="{path}"' in text(response)
    assert ops.get("/api/definitions/ops/workflow/ticket_flow").status_code == 404
    assert "status" not in {f["name"] for f in draft(ops, "entity", "task")["fields"]}


def test_one_workflow_per_table(ops, designer):
    create(designer, states="open\ndone")
    response = designer.post("/design/ops/workflows", {"target": "ticket/status", "name": "second"})
    assert response.status_code == 422
    assert ops.get("/api/definitions/ops/workflow/second").status_code == 404


def test_the_diagram_draws_states_and_labelled_transitions(flow):
    page = text(flow.get(WF))
    svg = page.split("<svg", 1)[1].split("</svg>", 1)[0]
    for state in ("open", "doing", "done"):
        assert f'data-state="{state}"' in svg
    assert svg.count('class="wf-transition') == 4  # two arrows and their two labels
    assert ">Start<" in svg and ">Finish<" in svg and ">Open<" in svg
    assert 'hx-get="/design/ops/workflow/ticket_flow/panel?state=open"' in svg
    # the start state is left of the others, the end state right
    xs = {
        s: int(re.search(rf'data-state="{s}"[^>]*>\s*<title>[^<]*</title>\s*<rect x="(\d+)"', svg).group(1))
        for s in ("open", "doing", "done")
    }
    assert xs["open"] < xs["doing"] < xs["done"]
    assert "<circle" in svg  # the start marker


def test_panels_open_by_htmx_and_without_script(flow):
    partial = text(flow.get(f"{WF}/panel?transition=start", htmx=True))
    assert 'data-panel="transition:start"' in partial and "<html" not in partial
    assert 'name="roles" value="agent"' in partial and 'name="c:condition/mode"' in partial
    page = text(flow.get(f"{WF}?state=doing"))
    assert 'data-panel="state:doing"' in page and 'name="lock"' in page
    assert flow.get(f"{WF}/panel?state=nowhere").status_code == 404
    assert flow.get(f"{WF}/panel").status_code == 404


def test_checks_flag_untakeable_transitions_and_unreachable_states(flow, ops):
    page = text(flow.get(WF))
    assert 'data-check="untakeable" data-name="start"' in page
    assert 'data-check="untakeable" data-name="finish"' in page
    change(flow, "add_state", {"name": "limbo", "label:en": "Limbo"})
    page = text(flow.get(WF))
    assert 'data-check="unreachable" data-name="limbo"' in page
    assert "wf-flagged" in page.split('data-state="limbo"')[0].rsplit("<g", 1)[1]
    choices = next(f for f in draft(ops, "entity", "ticket")["fields"] if f["name"] == "status")["options"][
        "choices"
    ]
    assert choices[-1] == {"value": "limbo", "label": {"en": "Limbo"}}
    # a role takes 'start', the app itself 'finish': both are fine now
    change(flow, "transition", transition_form(ops, "start", roles=["agent"]))
    change(flow, "transition", transition_form(ops, "finish", automatic="1"))
    page = text(flow.get(WF))
    assert 'data-check="untakeable"' not in page
    agent = draft(ops, "role", "agent")
    assert agent["grants"][0]["transitions"] == ["start"]
    assert transition_of(ops, "finish")["automatic"] is True


def test_who_may_is_the_roles_whose_grants_name_it(flow, ops):
    change(flow, "transition", transition_form(ops, "start", roles=["agent", "lead"]))
    lead = draft(ops, "role", "lead")
    # the lead had no grant on tickets: one to read them and take the transition
    assert {"entity": "ticket", "actions": ["read"], "transitions": ["start"]} in lead["grants"]
    assert draft(ops, "role", "boss").get("grants") is None  # an admin role takes everything anyway
    partial = text(flow.get(f"{WF}/panel?transition=start"))
    assert re.search(r'value="agent" checked', partial) and re.search(r'value="lead" checked', partial)
    change(flow, "transition", transition_form(ops, "start", roles=["lead"]))
    assert "transitions" not in draft(ops, "role", "agent")["grants"][0]
    # a role of no app is refused, nothing saved
    change(flow, "transition", transition_form(ops, "start", roles=["lead", "ghost"]), expect=422)
    assert draft(ops, "role", "lead")["grants"][-1]["transitions"] == ["start"]


def test_the_transition_panel_saves_label_sources_condition_fields_and_confirmation(flow, ops):
    pairs = transition_form(ops, "finish") + [
        ("from", "open"),
        ("label:en", "Finish"),
        ("label:zh-CN", "完成"),
        ("required_fields", "note"),
        ("confirm:en", "Sure?"),
        ("c:condition/mode", "all"),
        ("c:condition/0/field", "title"),
        ("c:condition/0/op", "is_not_empty"),
        ("condition_message:en", "A title first"),
    ]
    change(flow, "transition", pairs)
    t = transition_of(ops, "finish")
    assert t["from"] == ["doing", "open"] and t["label"] == {"en": "Finish", "zh-CN": "完成"}
    assert t["required_fields"] == ["note"] and t["confirm"] == {"en": "Sure?"}
    assert t["condition"] == {"all": [{"field": "title", "op": "is_not_empty"}]}
    assert t["condition_message"] == {"en": "A title first"}
    # adding a row to the condition saves the transition with a new valid row
    change(flow, "transition", transition_form(ops, "finish", **{"cadd:condition": "row"}))
    assert transition_of(ops, "finish").get("condition") == {
        "all": [{"field": "title", "op": "is_not_empty"}]
    }


@pytest.mark.parametrize(
    "extra, path",
    [
        ({"required_fields": "status"}, "required_fields"),  # the state field is set by the transition
        ({"required_fields": "nothing"}, "required_fields"),
        (
            {"c:condition/mode": "all", "c:condition/0/field": "nothing", "c:condition/0/op": "="},
            "condition/0",
        ),
    ],
)
def test_a_bad_transition_panel_is_refused_and_nothing_is_saved(flow, ops, extra, path):
    before = transition_of(ops, "start")
    response = change(flow, "transition", transition_form(ops, "start", **extra), expect=422)
    assert f'data-error-for="{path}"' in text(response)
    assert transition_of(ops, "start") == before


@pytest.mark.parametrize(
    "what, form",
    [
        ("add_state", {"name": "open"}),  # taken
        ("add_state", {"name": "Not A Key"}),
        ("add_state", {"name": "x", "color": "pink"}),
        ("add_transition", {"name": "start", "from": "open", "to": "doing"}),  # taken
        ("add_transition", {"name": "loop", "from": "open", "to": "open"}),
        ("add_transition", {"name": "jump", "from": "nowhere", "to": "done"}),
        ("add_transition", {"name": "jump", "to": "done"}),
        ("state", {"state": "nowhere"}),
        ("state", {"state": "open", "lock": "fields"}),  # no field ticked
        ("state", {"state": "open", "lock": "record", "lock_fields": "status"}),
        ("state", {"state": "open", "lock": "sometimes"}),
        ("state", {"state": "open", "delete": "1"}),  # the only start state unticked
        ("delete_state", {"state": "open"}),  # the only start state
        ("transition", {"transition": "nothing", "from": "open", "to": "done"}),
        ("transition", {"transition": "start", "from": "open", "to": "nowhere"}),
        ("delete_transition", {"transition": "nothing"}),
    ],
)
def test_hostile_changes_are_refused_and_change_nothing(flow, ops, what, form):
    before = (draft(ops, "workflow", "ticket_flow"), draft(ops, "entity", "ticket"))
    change(flow, what, form, expect=422)
    assert (draft(ops, "workflow", "ticket_flow"), draft(ops, "entity", "ticket")) == before


def test_bad_requests(flow, ops):
    page = text(flow.get(WF))
    assert flow.post(f"{WF}/edit/explode", {"stamp": stamp_of(page)}).status_code == 400
    assert flow.post(f"{WF}/edit/add_state", {"name": "x"}).status_code == 400  # no stamp
    assert flow.get("/design/ops/workflow/nothing").status_code == 404
    assert (
        flow.post("/design/ops/workflow/nothing/edit/add_state", {"stamp": "", "name": "x"}).status_code
        == 404
    )
    # another app's workflow is not reachable through this one
    assert ops.post("/api/templates/import", json=OTHER).status_code == 201
    assert (
        flow.post("/design/other/workflows", {"target": "thing/stage", "name": "thing_flow"}).status_code
        == 303
    )
    assert flow.get("/design/ops/workflow/thing_flow").status_code == 404


def test_the_state_panel_saves_label_colour_lock_delete_and_start(flow, ops):
    change(
        flow,
        "state",
        [
            ("state", "doing"),
            ("label:en", "Working"),
            ("color", "amber"),
            ("initial", "1"),
            ("lock", "record"),
            ("lock_fields", "note"),
        ],
    )
    body = draft(ops, "workflow", "ticket_flow")
    doing = next(s for s in body["states"] if s["name"] == "doing")
    assert doing == {
        "name": "doing",
        "label": {"en": "Working"},
        "color": "amber",
        "delete": False,
        "lock": {"record": True, "except": ["note"]},
    }
    assert body["initial"] == ["open", "doing"]
    change(flow, "state", [("state", "doing"), ("delete", "1"), ("lock", "fields"), ("lock_fields", "title")])
    doing = next(s for s in draft(ops, "workflow", "ticket_flow")["states"] if s["name"] == "doing")
    assert doing == {"name": "doing", "lock": {"fields": ["title"]}}
    assert 'fill="#fff6db"' not in text(flow.get(WF))  # the amber is gone with the colour


def test_removing_a_state_removes_its_transitions_grants_and_choice(flow, ops):
    change(flow, "transition", transition_form(ops, "finish", roles=["agent"]))
    change(flow, "delete_state", {"state": "done"})
    body = draft(ops, "workflow", "ticket_flow")
    assert [s["name"] for s in body["states"]] == ["open", "doing"]
    assert [t["name"] for t in body["transitions"]] == ["start"]
    assert "transitions" not in draft(ops, "role", "agent")["grants"][0]
    choices = next(f for f in draft(ops, "entity", "ticket")["fields"] if f["name"] == "status")["options"][
        "choices"
    ]
    assert [c["value"] for c in choices] == ["open", "doing"]
    change(flow, "delete_transition", {"transition": "start"})
    assert draft(ops, "workflow", "ticket_flow")["transitions"] == []


def test_undo_and_redo_walk_the_workflow_and_the_roles_in_order(flow, ops):
    change(flow, "transition", transition_form(ops, "start", roles=["agent"]))
    change(flow, "add_state", {"name": "late"})
    page = text(flow.get(WF))
    assert flow.post(f"{WF}/undo", {"stamp": stamp_of(page)}).status_code == 303
    assert "late" not in [s["name"] for s in draft(ops, "workflow", "ticket_flow")["states"]]
    page = text(flow.get(WF))
    assert flow.post(f"{WF}/undo", {"stamp": stamp_of(page)}).status_code == 303  # the choice 'late'
    page = text(flow.get(WF))
    assert flow.post(f"{WF}/undo", {"stamp": stamp_of(page)}).status_code == 303  # the agent's grant
    assert "transitions" not in draft(ops, "role", "agent")["grants"][0]
    page = text(flow.get(WF))
    assert flow.post(f"{WF}/redo", {"stamp": stamp_of(page)}).status_code == 303
    assert draft(ops, "role", "agent")["grants"][0]["transitions"] == ["start"]


def test_a_change_made_on_a_stale_page_is_a_conflict(flow, ops):
    old = text(flow.get(WF))
    change(flow, "transition", transition_form(ops, "start", roles=["agent"]))
    stale = flow.post(f"{WF}/edit/add_state", {"stamp": stamp_of(old), "name": "x"})
    assert stale.status_code == 409 and "role" in text(stale)
    assert "x" not in [s["name"] for s in draft(ops, "workflow", "ticket_flow")["states"]]
    assert flow.post(f"{WF}/undo", {"stamp": stamp_of(old)}).status_code == 409


def test_published_from_the_publish_page_and_taken_by_the_granted_role(app, flow, ops):
    change(flow, "transition", transition_form(ops, "start", roles=["agent"]))
    change(flow, "transition", transition_form(ops, "finish", roles=["agent"]))
    assert 'data-name="ticket_flow"' in text(flow.get("/design/ops/publish"))
    assert f'href="{WF}"' in text(flow.get(f"{WF}/versions"))
    assert flow.post("/design/ops/publish").status_code == 303
    published = ops.get("/api/definitions/ops/workflow/ticket_flow").get_json()["published"]
    assert [t["name"] for t in published["transitions"]] == ["start", "finish"]
    ann, leo = signed_in(app, "ann", PASSWORD), signed_in(app, "leo", PASSWORD)
    record = ops.post("/api/data/ops/ticket", json={"title": "Printer"}).get_json()
    assert record["status"] == "open"
    page = text(ann.get(f"/a/ops/ticket/{record['id']}"))
    assert "/transitions/start" in page and "/transitions/finish" not in page
    assert "/transitions/start" not in text(leo.get(f"/a/ops/ticket/{record['id']}"))


def test_only_app_designers_may_use_it(app, flow):
    bob = signed_in(app, "bob", PASSWORD)  # configures the ticket table, not the app
    ann = signed_in(app, "ann", PASSWORD)
    for browser in (bob, ann):
        assert browser.get("/design/ops/workflows").status_code == 403
        assert browser.get(WF).status_code == 403
        assert browser.get(f"{WF}/panel?state=open").status_code == 403
        assert browser.post(f"{WF}/edit/add_state", {"stamp": "", "name": "x"}).status_code == 403
        assert (
            browser.post("/design/ops/workflows", {"target": "task/status", "states": "a"}).status_code == 403
        )
        assert browser.get("/design/ops/workflow/ticket_flow/versions").status_code == 403
    assert flow.post(f"{WF}/edit/add_state", {"name": "x", "stamp": ""}, csrf=False).status_code == 403


def test_the_designer_speaks_chinese(flow):
    assert flow.post("/language", {"lang": "zh_CN", "next": WF}).status_code in (302, 303)
    page = text(flow.get(WF))
    assert "工单" in page and "发布前检查" in page and "待办" in page
    assert "没有角色可以执行" in page
