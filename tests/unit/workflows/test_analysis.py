"""The workflow checks before publish: transitions no role may take (automatic ones are fine, admin roles do not
count as a grant), states no record reaches, transitions that start only in such states, end states."""

from __future__ import annotations

import json
from pathlib import Path

from lowcode.workflows.analysis import analyse, granting_roles, reachable_states

ROOT = Path(__file__).resolve().parents[3]

FLOW = {
    "name": "f",
    "entity": "ticket",
    "state_field": "status",
    "initial": "open",
    "states": [{"name": "open"}, {"name": "doing"}, {"name": "done"}, {"name": "limbo"}, {"name": "lost"}],
    "transitions": [
        {"name": "start", "from": "open", "to": "doing"},
        {"name": "finish", "from": ["doing"], "to": "done", "automatic": True},
        {"name": "rescue", "from": "limbo", "to": "lost"},
    ],
}
ROLES = {
    "agent": {
        "name": "agent",
        "grants": [{"entity": "ticket", "actions": ["read"], "transitions": ["start"]}],
    },
    "other": {
        "name": "other",
        "grants": [{"entity": "task", "actions": ["read"], "transitions": ["rescue"]}],
    },
    "boss": {"name": "boss", "admin": True},
}


def kinds(found) -> set[tuple[str, str]]:
    return {(f.kind, f.name) for f in found.findings}


def test_findings_of_a_workflow():
    found = analyse(FLOW, ROLES)
    assert kinds(found) == {
        ("untakeable", "rescue"),  # 'other' grants it on another entity: it does not count
        ("unreachable", "limbo"),
        ("unreachable", "lost"),
        ("dead_transition", "rescue"),
    }
    assert found.granted_by == {"start": ("agent",), "finish": (), "rescue": ()}
    assert found.reachable == {"open", "doing", "done"}
    assert found.end_states == {"done", "lost"}
    assert [f.kind for f in found.about("state", "limbo")] == ["unreachable"]
    assert "rescue" in found.about("transition", "rescue")[0].message


def test_a_granted_or_automatic_workflow_without_orphans_has_no_findings():
    flow = {**FLOW, "states": FLOW["states"][:3], "transitions": FLOW["transitions"][:2]}
    assert analyse(flow, ROLES).findings == ()
    assert kinds(analyse(flow, {})) == {("untakeable", "start")}


def test_automatic_initial_states_are_starts_too():
    flow = {**FLOW, "automatic_initial": ["limbo"]}
    assert reachable_states(flow) == {"open", "doing", "done", "limbo", "lost"}


def test_granting_roles_reads_every_grant_of_the_entity():
    roles = {
        "b": {
            "grants": [
                {"entity": "ticket", "actions": ["read"]},
                {"entity": "ticket", "actions": ["update"], "transitions": ["start"]},
            ]
        },
        "a": {"grants": [{"entity": "ticket", "actions": ["read"], "transitions": ["start", "x"]}]},
        "c": {},
    }
    assert granting_roles(roles, "ticket", "start") == ("a", "b")
    assert granting_roles(roles, "task", "start") == ()


def test_the_jxc_workflows_are_flagged_only_where_the_administrator_alone_decides():
    jxc = ROOT / "app_templates" / "jxc"
    roles = {p.stem: json.loads(p.read_text()) for p in (jxc / "roles").glob("*.json")}
    problems = {}
    for path in sorted((jxc / "workflows").glob("*.json")):
        found = analyse(json.loads(path.read_text()), roles)
        if found.findings:
            problems[path.stem] = sorted((f.kind, f.name) for f in found.findings)
    # approving a purchase order and reopening a closed period are left to the admin role (the owner)
    assert problems == {
        "accounting_period": [("untakeable", "reopen")],
        "purchase_order": [("untakeable", "approve")],
    }
