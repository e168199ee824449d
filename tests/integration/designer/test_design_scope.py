"""A business user with the configure grant on one table designs that table - its fields, form and list - and
publishes it, and is offered nothing the platform would refuse: no other table, no new table, no other
table's drafts published with hers."""

from __future__ import annotations

import pytest

from tests.integration.designer.test_entity_designer import base_of
from tests.integration.pages.helpers import Browser, add_role_users, signed_in, text

PASSWORD = "user-pass-123"
BUNDLE = {
    "app": {"name": "crm", "label": "CRM"},
    "entities": [
        {"name": "deal", "label": "Deal", "title_field": "title", "fields": [{"name": "title", "type": "text"}]},
        {"name": "secret", "label": "Secret", "fields": [{"name": "code", "type": "text"}]},
    ],
    "forms": [{"name": "deal_form", "entity": "deal", "sections": [{"fields": ["title"]}]}],
    "views": [{"name": "deal_list", "entity": "deal", "columns": ["title"]}],
    "roles": [
        {"name": "builder", "label": "Builder", "grants": [{"entity": "deal", "actions": ["read", "configure"]}]},
        {"name": "viewer", "label": "Viewer", "grants": [{"entity": "deal", "actions": ["read"]}]},
    ],
}  # fmt: skip


@pytest.fixture
def crm(app, api):
    assert api.post("/api/templates/import", json=BUNDLE).status_code == 201
    add_role_users(app, "crm", {"bea": "builder", "vic": "viewer"}, PASSWORD)
    return api


def _browser(app, username: str) -> Browser:
    return signed_in(app, username, PASSWORD)


def test_a_table_designer_sees_and_publishes_only_her_table(app, crm):
    bea, vic = _browser(app, "bea"), _browser(app, "vic")
    assert 'href="/design/crm"' in text(bea.get("/design"))
    assert 'href="/design/crm"' not in text(vic.get("/design"))
    assert vic.get("/design/crm").status_code == 403
    assert "design-link" in text(bea.get("/a/crm/deal")) and "design-link" not in text(vic.get("/a/crm/deal"))
    home = text(bea.get("/design/crm"))
    assert 'data-entity="deal"' in home and 'data-entity="secret"' not in home
    assert "new-entity-form" not in home
    assert bea.post("/design/crm/entities", {"name": "x"}).status_code == 403
    assert bea.get("/design/crm/entity/secret").status_code == 403
    # someone else's pending draft of the other table stays a draft when she publishes hers
    secret = crm.get("/api/definitions/crm/entity/secret").get_json()["published"]
    secret["fields"].append({"name": "hidden_note", "type": "text"})
    assert crm.put("/api/definitions/crm/entity/secret", json=secret).status_code in (200, 201)
    page = text(bea.get("/design/crm/entity/deal"))
    assert (
        bea.post("/design/crm/entity/deal/fields", {"type": "money", "base": base_of(page)}).status_code
        == 303
    )
    plan = text(bea.get("/design/crm/publish"))
    assert 'data-name="deal"' in plan and 'data-name="secret"' not in plan
    assert bea.post("/design/crm/publish").status_code == 303
    assert "money_1" in [
        f["name"] for f in crm.get("/api/definitions/crm/entity/deal").get_json()["published"]["fields"]
    ]
    secret_now = crm.get("/api/definitions/crm/entity/secret").get_json()
    assert "hidden_note" not in [f["name"] for f in secret_now["published"]["fields"]]
    assert "hidden_note" in [f["name"] for f in secret_now["draft"]["fields"]]
    assert bea.get("/design/crm/form/deal_form").status_code == 200
    assert vic.get("/design/crm/form/deal_form").status_code == 403
