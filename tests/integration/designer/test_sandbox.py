"""Sandboxes: a copy of a live app with a masked, consistent sample of its data; changed there; published to
the live app as one change set (conflicts detected); thrown away without leftovers; only for those who may
design the whole app."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lowcode.core.definition_models import Definition, DraftStep, Sandbox
from lowcode.core.models import OutboxEvent
from lowcode.delivery import dispatch_pending
from tests.integration.pages.helpers import add_role_users, signed_in, text

PASSWORD = "user-pass-123"
BUNDLE = {
    "app": {"name": "shop", "label": "Shop"},
    "entities": [
        {
            "name": "customer",
            "label": "Customer",
            "title_field": "name",
            "fields": [
                {"name": "name", "type": "text", "required": True},
                {"name": "contact", "type": "text", "options": {"personal": True}},
                {"name": "phone", "type": "phone", "options": {"personal": True}},
                {"name": "email", "type": "email", "options": {"personal": True}},
                {"name": "referrer", "type": "link", "options": {"entity": "customer"}},
            ],
        },
        {
            "name": "product",
            "label": "Product",
            "title_field": "sku",
            "fields": [
                {"name": "sku", "type": "text", "required": True, "unique": True},
                {"name": "price", "type": "money"},
            ],
        },
        {
            "name": "order",
            "label": "Order",
            "title_field": "number",
            "fields": [
                {"name": "number", "type": "text", "required": True},
                {"name": "customer", "type": "link", "required": True, "options": {"entity": "customer"}},
                {"name": "lines", "type": "child_table", "options": {"entity": "order_line"}},
                {
                    "name": "total",
                    "type": "rollup",
                    "options": {"child": "lines", "function": "sum", "field": "amount"},
                },
            ],
        },
        {
            "name": "order_line",
            "label": "Line",
            "child": True,
            "fields": [
                {"name": "product", "type": "link", "required": True, "options": {"entity": "product"}},
                {"name": "qty", "type": "integer"},
                {"name": "amount", "type": "money"},
            ],
        },
    ],
    "forms": [
        {
            "name": "customer_form",
            "entity": "customer",
            "sections": [{"fields": ["name", "contact", "phone"]}],
        },
        {"name": "order_form", "entity": "order", "sections": [{"fields": ["number", "customer", "lines"]}]},
    ],
    "views": [{"name": "customer_list", "entity": "customer", "columns": ["name", "phone"]}],
    "rules": [
        {
            "name": "tell_crm",
            "entity": "customer",
            "trigger": {"events": ["create"], "phase": "after"},
            "actions": [
                {"type": "call_webhook", "url": "https://crm.example.com/hook", "payload": {"name": "name"}}
            ],
        }
    ],
    "roles": [
        {"name": "owner", "label": "Owner", "admin": True},
        {
            "name": "clerk",
            "label": "Clerk",
            "grants": [{"entity": "customer", "actions": ["read", "create", "update", "configure"]}],
        },
    ],
}


@pytest.fixture
def shop(app, api):
    """The shop with 3 customers (Carol referred by Bob, referred by Ann), 3 products and 2 orders."""
    assert api.post("/api/templates/import", json=BUNDLE).status_code == 201
    ids = {}
    for name, referrer in (("Ann", None), ("Bob", "Ann"), ("Carol", "Bob")):
        body = {
            "name": name,
            "contact": f"{name} Smith",
            "phone": "+86 138 0000 0001",
            "email": f"{name.lower()}@real.example.org",
            "referrer": ids.get(referrer),
        }
        ids[name] = api.post("/api/data/shop/customer", json=body).get_json()["id"]
    for sku in ("A-1", "B-2", "C-3"):
        ids[sku] = api.post("/api/data/shop/product", json={"sku": sku, "price": "9.50"}).get_json()["id"]
    first = {
        "number": "SO-1",
        "customer": ids["Ann"],
        "lines": [{"product": ids["A-1"], "qty": 2, "amount": "19.00"}],
    }
    ids["SO-1"] = api.post("/api/data/shop/order", json=first).get_json()["id"]
    second = {
        "number": "SO-2",
        "customer": ids["Ann"],
        "lines": [{"product": ids["A-1"], "qty": 1, "amount": "9.50"}],
    }
    ids["SO-2"] = api.post("/api/data/shop/order", json=second).get_json()["id"]
    add_role_users(app, "shop", {"olive": "owner", "clerk": "clerk"}, PASSWORD)
    return ids


def _records(api, app: str, entity: str) -> list[dict]:
    return api.get(f"/api/data/{app}/{entity}?limit=100").get_json()["data"]


def _make(api, sample: int = 1, name: str | None = None):
    body = {"sample": sample, **({"name": name} if name else {})}
    return api.post("/api/sandboxes/shop", json=body)


def test_a_sandbox_copies_definitions_and_a_consistent_masked_sample(app, api, shop):
    made = _make(api, sample=1)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["app"] == "shop_sandbox"
    assert made.get_json()["records"]["left_out_count"] == 0
    definitions = api.get("/api/definitions/shop_sandbox").get_json()["data"]
    assert {(d["kind"], d["name"]) for d in definitions} >= {
        ("entity", "order"),
        ("rule", "tell_crm"),
        ("role", "clerk"),
    }
    # the latest order (SO-2) came with its customer Ann and its line's product A-1 (and no other order)
    orders = _records(api, "shop_sandbox", "order")
    assert [o["number"] for o in orders] == ["SO-2"]
    customers = {c["id"]: c for c in _records(api, "shop_sandbox", "customer")}
    # the latest customer (Carol) came with the chain of referrers: Bob, then Ann
    assert len(customers) == 3
    by_phone = {}
    for c in customers.values():
        assert c["name"] in ("Ann", "Bob", "Carol")  # not personal: kept
        assert c["contact"].startswith("Masked ") and "Smith" not in c["contact"]
        assert c["email"].endswith("@example.com") and "real" not in c["email"]
        assert c["phone"].startswith("555-")
        by_phone.setdefault(c["phone"], []).append(c["name"])
    assert len(by_phone) == 1  # the same phone number became the same stand-in (stable)
    names = {c["id"]: c["name"] for c in customers.values()}
    referrers = {c["name"]: names.get(c["referrer"]) for c in customers.values()}
    assert referrers == {"Ann": None, "Bob": "Ann", "Carol": "Bob"}
    order = api.get(f"/api/data/shop_sandbox/order/{orders[0]['id']}").get_json()
    assert names[order["customer"]] == "Ann"
    assert order["total"] == "9.50"
    products = {p["id"]: p["sku"] for p in _records(api, "shop_sandbox", "product")}
    assert sorted(products.values()) == ["A-1", "C-3"]  # the latest product, and the one the line names
    assert [products[line["product"]] for line in order["lines"]] == ["A-1"]
    # the live app is untouched, and the live data keeps its real values
    assert len(_records(api, "shop", "order")) == 2
    assert {c["email"] for c in _records(api, "shop", "customer")} == {
        "ann@real.example.org",
        "bob@real.example.org",
        "carol@real.example.org",
    }


def test_a_sandbox_sends_nothing_outside(app, api, shop):
    assert _make(api, sample=0).status_code == 201
    db = app.extensions["lowcode"].db
    with db.write() as s:  # the live app's own webhooks are not this test's business: out of the way
        s.execute(sa.update(OutboxEvent).values(delivered_at=sa.func.current_timestamp()))
    created = api.post("/api/data/shop_sandbox/customer", json={"name": "Trial"})
    assert created.status_code == 201  # the sandbox's rule ran: it queued its webhook
    result = dispatch_pending(db)
    with db.read() as s:
        columns = (
            OutboxEvent.id,
            OutboxEvent.kind,
            OutboxEvent.payload,
            OutboxEvent.delivered_at,
            OutboxEvent.last_error,
        )
        events = s.execute(sa.select(*columns).where(OutboxEvent.app == "shop_sandbox")).all()
    hooks = [e for e in events if e.kind == "webhook"]
    assert len(hooks) == 1 and hooks[0].payload["url"] == "https://crm.example.com/hook"
    assert hooks[0].delivered_at is None and "sandbox" in hooks[0].last_error
    assert hooks[0].id in result.failed and hooks[0].id not in result.delivered
    assert all(e.delivered_at is not None for e in events if e.kind == "created")  # local: nothing leaves
    assert dispatch_pending(db).claimed == 0  # held for good, never tried again


def test_sample_zero_copies_no_data_and_names_are_checked(api, shop):
    assert _make(api, sample=0, name="trial").status_code == 201
    assert _records(api, "trial", "customer") == []
    assert _make(api, sample=0, name="trial").status_code == 422  # the name is taken
    assert _make(api, sample=0, name="Bad Name").status_code == 422
    assert api.post("/api/sandboxes/shop", json={"sample": 5000}).status_code == 400
    assert api.post("/api/sandboxes/shop", json={"sample": "5"}).status_code == 400
    assert api.post("/api/sandboxes/shop", json={"what": 1}).status_code == 400
    assert api.post("/api/sandboxes/nosuchapp", json={}).status_code == 404
    assert api.post("/api/sandboxes/trial", json={}).status_code == 400  # no sandbox of a sandbox


def _change_in_sandbox(api):
    """A new field on customer and the customer form changed (the field placed, contact removed)."""
    entity = api.get("/api/definitions/shop_sandbox/entity/customer").get_json()["published"]
    entity["fields"].append({"name": "vip", "type": "boolean", "label": "VIP"})
    assert api.put("/api/definitions/shop_sandbox/entity/customer", json=entity).status_code == 200
    form = api.get("/api/definitions/shop_sandbox/form/customer_form").get_json()["published"]
    form["sections"] = [{"fields": ["name", "phone", "vip"]}]
    assert api.put("/api/definitions/shop_sandbox/form/customer_form", json=form).status_code == 200
    assert api.post("/api/definitions/shop_sandbox/publish").status_code == 200


def test_publish_a_change_set_to_live_keeps_live_data(api, shop):
    assert _make(api, sample=2).status_code == 201
    assert api.get("/api/sandboxes/shop_sandbox").get_json()["changes"] == []
    _change_in_sandbox(api)
    changes = api.get("/api/sandboxes/shop_sandbox").get_json()
    assert [(c["kind"], c["name"], c["change"]) for c in changes["changes"]] == [
        ("entity", "customer", "changed"),
        ("form", "customer_form", "changed"),
    ]
    assert changes["live_changes"] == [] and changes["unpublished"] == []
    dry = api.post("/api/sandboxes/shop_sandbox/publish", json={"dry_run": True}).get_json()
    plan = {p["name"]: p["plan"] for p in dry["published"]}
    assert [s["op"] for s in plan["customer"]["steps"]] == ["add_column"]
    assert "vip" not in [
        f["name"] for f in api.get("/api/definitions/shop/entity/customer").get_json()["published"]["fields"]
    ]
    published = api.post("/api/sandboxes/shop_sandbox/publish", json={})
    assert published.status_code == 200, published.get_json()
    assert {(p["kind"], p["name"]) for p in published.get_json()["published"]} == {
        ("entity", "customer"),
        ("form", "customer_form"),
    }
    live_form = api.get("/api/definitions/shop/form/customer_form").get_json()["published"]
    assert live_form["sections"] == [{"fields": ["name", "phone", "vip"]}]
    live = _records(api, "shop", "customer")
    assert len(live) == 3 and all("vip" in c for c in live)
    assert {c["email"] for c in live} >= {"ann@real.example.org"}  # live data kept, not the masked copy
    assert api.get("/api/sandboxes/shop_sandbox").get_json()["changes"] == []  # nothing left to publish


def test_a_live_change_since_the_copy_is_shown_and_needs_confirming(api, shop):
    assert _make(api, sample=0).status_code == 201
    _change_in_sandbox(api)
    # meanwhile the live form changes (its own way) and the live list changes too
    form = api.get("/api/definitions/shop/form/customer_form").get_json()["published"]
    form["sections"] = [{"fields": ["phone", "name"]}]
    assert api.put("/api/definitions/shop/form/customer_form", json=form).status_code == 200
    view = api.get("/api/definitions/shop/view/customer_list").get_json()["published"]
    view["columns"] = ["name"]
    assert api.put("/api/definitions/shop/view/customer_list", json=view).status_code == 200
    assert api.post("/api/definitions/shop/publish").status_code == 200
    changes = api.get("/api/sandboxes/shop_sandbox").get_json()
    assert changes["live_changes"] == ["form/customer_form", "view/customer_list"]
    by_name = {c["name"]: c for c in changes["changes"]}
    assert by_name["customer_form"]["conflict"] is True and by_name["customer"]["conflict"] is False
    assert "customer_list" not in by_name  # changed live only: publishing does not undo it
    refused = api.post("/api/sandboxes/shop_sandbox/publish", json={})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "live_changed"
    assert api.get("/api/definitions/shop/form/customer_form").get_json()["published"]["sections"] == [
        {"fields": ["phone", "name"]}
    ]
    assert api.post("/api/sandboxes/shop_sandbox/publish", json={"confirm": True}).status_code == 200
    assert api.get("/api/definitions/shop/form/customer_form").get_json()["published"]["sections"] == [
        {"fields": ["name", "phone", "vip"]}
    ]
    assert api.get("/api/definitions/shop/view/customer_list").get_json()["published"]["columns"] == ["name"]
    assert api.get("/api/sandboxes/shop_sandbox").get_json()["live_changes"] == []


def test_throw_away_leaves_nothing(app, api, shop):
    assert _make(api, sample=2).status_code == 201
    _change_in_sandbox(api)
    entity = api.get("/api/definitions/shop_sandbox/entity/customer").get_json()["published"]
    entity["fields"] = [f for f in entity["fields"] if f["name"] != "contact"]
    assert api.put("/api/definitions/shop_sandbox/entity/customer", json=entity).status_code == 200
    assert api.post("/api/definitions/shop_sandbox/publish").status_code == 200  # contact -> the trash
    gone = api.delete("/api/sandboxes/shop_sandbox")
    assert gone.status_code == 200
    assert sorted(gone.get_json()["tables"]) == [
        "e_shop_sandbox_customer",
        "e_shop_sandbox_order",
        "e_shop_sandbox_order_line",
        "e_shop_sandbox_product",
    ]
    db = app.extensions["lowcode"].db
    with db.read() as s:
        assert not s.scalars(sa.select(Definition).where(Definition.app == "shop_sandbox")).all()
        assert not s.scalars(sa.select(Sandbox)).all()
        assert not s.scalars(sa.select(DraftStep).where(DraftStep.app == "shop_sandbox")).all()
        tables = sa.inspect(s.connection()).get_table_names()
    assert not [t for t in tables if t.startswith("e_shop_sandbox")]
    assert api.get("/api/data/shop_sandbox/customer").status_code == 404
    assert len(_records(api, "shop", "customer")) == 3
    assert api.delete("/api/sandboxes/shop_sandbox").status_code == 404
    assert api.delete("/api/sandboxes/shop").status_code == 404  # a live app is not thrown away here
    assert _make(api, sample=1).status_code == 201  # the name is free again


def test_only_whole_app_designers(app, api, shop):
    clerk = signed_in(app, "clerk", PASSWORD)  # may configure one table: not the whole app
    olive = signed_in(app, "olive", PASSWORD)  # holds the app's admin role
    from tests.conftest import login

    token = login(app.test_client(), "clerk", PASSWORD)
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    assert client.post("/api/sandboxes/shop", json={}, headers=headers).status_code == 403
    owner = {"Authorization": f"Bearer {login(app.test_client(), 'olive', PASSWORD)}"}
    assert client.post("/api/sandboxes/shop", json={"sample": 1}, headers=owner).status_code == 201
    assert client.get("/api/sandboxes/shop_sandbox", headers=headers).status_code == 403
    assert client.post("/api/sandboxes/shop_sandbox/publish", json={}, headers=headers).status_code == 403
    assert client.delete("/api/sandboxes/shop_sandbox", headers=headers).status_code == 403
    assert client.get("/api/sandboxes/shop_sandbox", headers=owner).status_code == 200
    # the owner designs the sandbox (its live app's admin role), the clerk does not
    assert olive.get("/design/shop_sandbox").status_code == 200
    assert clerk.get("/design/shop_sandbox").status_code == 403
    assert "shop_sandbox" in text(olive.get("/design"))
    assert client.delete("/api/sandboxes/shop_sandbox", headers=owner).status_code == 200


def test_the_designer_makes_reviews_publishes_and_throws_away(app, api, shop, designer):
    home = text(designer.get("/design/shop"))
    assert "make-sandbox-form" in home and "sandbox-banner" not in home
    made = designer.post("/design/shop/sandbox", {"name": "", "sample": "1"})
    assert made.status_code == 303 and made.headers["Location"].startswith("/design/shop_sandbox")
    page = text(designer.get("/design/shop_sandbox"))
    assert "sandbox-banner" in page and "make-sandbox-form" not in page
    assert 'href="/design/shop_sandbox"' in text(designer.get("/design/shop"))  # listed on the live app
    assert "no-changes" in text(designer.get("/design/shop_sandbox/live"))
    _change_in_sandbox(api)
    review = text(designer.get("/design/shop_sandbox/live"))
    assert 'data-name="customer"' in review and 'data-name="customer_form"' in review
    assert 'data-item="vip"' in review and 'data-op="add_column"' in review
    assert "live-changed" not in review
    published = designer.post("/design/shop_sandbox/live", {})
    assert published.status_code == 303 and published.headers["Location"].startswith(
        "/design/shop?published=2"
    )
    assert "vip" in str(api.get("/api/definitions/shop/form/customer_form").get_json()["published"])
    gone = designer.post("/design/shop_sandbox/discard", {})
    assert gone.status_code == 303
    assert 'href="/design/shop_sandbox"' not in text(designer.get("/design"))
    assert "data-entity" not in text(designer.get("/design/shop_sandbox"))


def test_the_review_shows_a_live_change_and_publishes_only_when_confirmed(api, shop, designer):
    assert designer.post("/design/shop/sandbox", {"name": "trial", "sample": "0"}).status_code == 303
    form = api.get("/api/definitions/trial/form/customer_form").get_json()["published"]
    form["sections"] = [{"fields": ["name"]}]
    assert api.put("/api/definitions/trial/form/customer_form", json=form).status_code == 200
    assert api.post("/api/definitions/trial/publish").status_code == 200
    live = api.get("/api/definitions/shop/form/customer_form").get_json()["published"]
    live["sections"] = [{"fields": ["phone", "name"]}]
    assert api.put("/api/definitions/shop/form/customer_form", json=live).status_code == 200
    assert api.post("/api/definitions/shop/publish").status_code == 200
    review = text(designer.get("/design/trial/live"))
    assert "live-changed" in review and "conflict" in review and 'name="confirm"' in review
    refused = designer.post("/design/trial/live", {})
    assert refused.status_code == 409 and "publish-refused" in text(refused)
    assert api.get("/api/definitions/shop/form/customer_form").get_json()["published"]["sections"] == [
        {"fields": ["phone", "name"]}
    ]
    assert designer.post("/design/trial/live", {"confirm": "1"}).status_code == 303
    assert api.get("/api/definitions/shop/form/customer_form").get_json()["published"]["sections"] == [
        {"fields": ["name"]}
    ]


def test_designer_sandbox_pages_refuse_others(app, api, shop, designer):
    clerk = signed_in(app, "clerk", PASSWORD)
    assert clerk.post("/design/shop/sandbox", {"sample": "1"}).status_code == 403
    assert designer.post("/design/shop/sandbox", {"sample": "1"}).status_code == 303
    assert clerk.get("/design/shop_sandbox/live").status_code == 403
    assert clerk.post("/design/shop_sandbox/live", {"confirm": "1"}).status_code == 403
    assert clerk.post("/design/shop_sandbox/discard", {}).status_code == 403
    assert designer.get("/design/shop/live").status_code == 404  # the live app is no sandbox
    assert designer.post("/design/shop/discard", {}).status_code == 404
    assert api.get("/api/definitions/shop").status_code == 200
    assert designer.post("/design/shop/sandbox", {"sample": "many"}).status_code == 400
    assert designer.post("/design/shop/sandbox", {"name": "shop_sandbox"}).status_code == 422


def test_a_field_renamed_in_the_sandbox_is_published_as_a_rename_keeping_live_values(api, shop, designer):
    assert _make(api, sample=0).status_code == 201
    entity = api.get("/api/definitions/shop_sandbox/entity/customer").get_json()["published"]
    for field in entity["fields"]:
        if field["name"] == "contact":
            field["name"] = "contact_name"
    assert api.put("/api/definitions/shop_sandbox/entity/customer", json=entity).status_code == 200
    form = api.get("/api/definitions/shop_sandbox/form/customer_form").get_json()["published"]
    form["sections"] = [{"fields": ["name", "contact_name", "phone"]}]
    assert api.put("/api/definitions/shop_sandbox/form/customer_form", json=form).status_code == 200
    body = {"entities": {"customer": {"renames": {"contact": "contact_name"}}}}
    assert api.post("/api/definitions/shop_sandbox/publish", json=body).status_code == 200
    review = text(designer.get("/design/shop_sandbox/live"))
    assert 'name="rename:customer:contact" value="contact_name" checked' in review
    assert 'data-op="rename_column"' in review
    assert (
        designer.post("/design/shop_sandbox/live", {"rename:customer:contact": "contact_name"}).status_code
        == 303
    )
    live = _records(api, "shop", "customer")
    assert sorted(c["contact_name"] for c in live) == ["Ann Smith", "Bob Smith", "Carol Smith"]
