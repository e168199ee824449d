"""A small ticket app whose form has tabs, columns, help texts and conditional fields, defined here so the
form tests depend on no template."""

from __future__ import annotations

import copy

from lowcode.auth.users import create_user
from lowcode.core.models import RoleAssignment

PASSWORD = "user-pass-123"

IS_BUG = {"field": "kind", "op": "=", "value": "bug"}
IS_OTHER = {"field": "kind", "op": "=", "value": "other"}
CLOSED = {"field": "status", "op": "=", "value": "closed"}

FORM = {
    "name": "ticket_form",
    "entity": "ticket",
    "label": "Ticket",
    "tabs": [
        {"name": "main", "label": {"en": "Main", "zh-CN": "主要"}},
        {"name": "closing", "label": {"en": "Closing", "zh-CN": "结案"}},
    ],
    "sections": [
        {
            "label": {"en": "Ticket", "zh-CN": "工单"},
            "tab": "main",
            "columns": 3,
            "help": {"en": "What happened", "zh-CN": "发生了什么"},
            "fields": [
                {
                    "field": "title",
                    "placeholder": {"en": "One line", "zh-CN": "一句话"},
                    "help": {"en": "Shown in lists", "zh-CN": "列表中显示"},
                },
                "kind",
                {"field": "severity", "visible_when": IS_BUG, "required_when": IS_BUG},
                {"field": "other_reason", "visible_when": IS_OTHER},
                {"field": "parts", "visible_when": IS_BUG},
            ],
        },
        {
            "label": {"en": "Closing", "zh-CN": "结案"},
            "tab": "closing",
            "columns": 2,
            "fields": [
                "status",
                {"field": "resolution", "required_when": CLOSED, "read_only_when": CLOSED},
                "note",
            ],
        },
    ],
}

BUNDLE = {
    "app": {"name": "desk", "label": "Desk"},
    "entities": [
        {
            "name": "ticket",
            "label": {"en": "Ticket", "zh-CN": "工单"},
            "title_field": "title",
            "fields": [
                {
                    "name": "title",
                    "type": "text",
                    "label": {"en": "Title", "zh-CN": "标题"},
                    "required": True,
                },
                {
                    "name": "kind",
                    "type": "select",
                    "label": {"en": "Kind", "zh-CN": "类型"},
                    "default": "question",
                    "options": {
                        "choices": [
                            {"value": "bug", "label": {"en": "Bug", "zh-CN": "缺陷"}},
                            {"value": "question", "label": {"en": "Question", "zh-CN": "问题"}},
                            {"value": "other", "label": {"en": "Other", "zh-CN": "其他"}},
                        ]
                    },
                },
                {"name": "severity", "type": "integer", "label": {"en": "Severity", "zh-CN": "严重程度"}},
                {
                    "name": "other_reason",
                    "type": "text",
                    "label": {"en": "Other reason", "zh-CN": "其他原因"},
                    "required": True,
                },
                {
                    "name": "parts",
                    "type": "child_table",
                    "label": {"en": "Parts", "zh-CN": "部件"},
                    "options": {"entity": "ticket_part"},
                },
                {
                    "name": "status",
                    "type": "select",
                    "label": {"en": "Status", "zh-CN": "状态"},
                    "default": "open",
                    "options": {
                        "choices": [
                            {"value": "open", "label": {"en": "Open", "zh-CN": "处理中"}},
                            {"value": "closed", "label": {"en": "Closed", "zh-CN": "已关闭"}},
                        ]
                    },
                },
                {"name": "resolution", "type": "text", "label": {"en": "Resolution", "zh-CN": "处理结果"}},
                {"name": "note", "type": "text", "label": {"en": "Note", "zh-CN": "备注"}},
            ],
        },
        {
            "name": "ticket_part",
            "label": "Part",
            "child": True,
            "fields": [{"name": "part", "type": "text", "required": True}],
        },
        {
            "name": "followup",
            "label": "Follow-up",
            "fields": [{"name": "ticket_id", "type": "integer"}, {"name": "reason", "type": "text"}],
        },
    ],
    "forms": [
        FORM,
        {
            "name": "followup_form",
            "entity": "followup",
            "sections": [
                {
                    "fields": [
                        "ticket_id",
                        {"field": "reason", "visible_when": {"field": "ticket_id", "op": "<", "value": 0}},
                    ]
                }
            ],
        },
    ],
    "roles": [
        {
            "name": "agent",
            "label": "Agent",
            "grants": [
                {"entity": "ticket", "actions": ["read", "create", "update"]},
                {"entity": "followup", "actions": ["read"]},
            ],
        },
    ],
    "rules": [
        {
            "name": "follow_bugs",
            "entity": "ticket",
            "trigger": {"events": ["create"], "phase": "after", "condition": IS_BUG},
            "actions": [
                {
                    "type": "create_record",
                    "entity": "followup",
                    "values": {"ticket_id": "record.id", "reason": "'check the bug'"},
                }
            ],
        },
    ],
}


def bundle() -> dict:
    """A fresh copy of the bundle (tests change it)."""
    return copy.deepcopy(BUNDLE)


def install(app, api, users=(("ada", "agent"),)) -> None:
    """Import the bundle and create its users with their roles."""
    response = api.post("/api/templates/import", json=bundle())
    assert response.status_code == 201, response.get_json()
    with app.extensions["lowcode"].db.write() as s:
        for name, role in users:
            user = create_user(s, name, PASSWORD)
            s.add(RoleAssignment(user_id=user.id, app="desk", role=role, granted_by="test"))
