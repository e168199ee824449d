"""Record rules hold through links, messages and dry runs (issue 9, item 3).

A small app: customers and orders each user may only read if they own them, products everyone may read,
orders linking a customer (and their lines a product and a ship-to customer), a rule charging a customer
account named by its code (refusing with the customer's figures), a rule refusing with a hidden field's
value, a unique customer code. ``ann`` and ``bob`` are sales users; each probe is ann's, against bob's
records: every link field of the app, every message-producing path (create and update with links, child
rows, unique values, rule refusals naming a record, dry runs). Nothing of bob's may come back, and a
record ann may not read must answer exactly like one that does not exist.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from lowcode.auth.users import create_user
from lowcode.core.models import RoleAssignment, RuleRunEntry, User
from tests.conftest import ApiClient, login
from tests.integration.pages.helpers import Browser, text

PASSWORD = "user-pass-123"
OWN = {"field": "owner", "op": "=", "value": "$user.id"}
BOB_NAME = "Bob's Secret Buyer 4b1d"
BOB_CODE = "C-BOB-77"
BOB_LIMIT = "1234.56"
BOB_BALANCE = "1200.00"
MISSING = 987654321

BUNDLE = {
    "app": {"name": "leak", "label": "Leak probes"},
    "entities": [
        {"name": "customer", "label": "Customer", "title_field": "name", "fields": [
            {"name": "name", "type": "text", "required": True},
            {"name": "code", "type": "text", "unique": True},
            {"name": "credit_limit", "type": "money"},
            {"name": "balance", "type": "money", "default": "0"}]},
        {"name": "product", "label": "Product", "title_field": "sku", "fields": [
            {"name": "sku", "type": "text", "required": True, "unique": True}]},
        {"name": "order", "label": "Order", "fields": [
            {"name": "customer", "type": "link", "options": {"entity": "customer"}},
            {"name": "account", "type": "text"},
            {"name": "total", "type": "money"},
            {"name": "cost", "type": "money"},
            {"name": "note", "type": "text"},
            {"name": "lines", "type": "child_table", "options": {"entity": "order_line"}}]},
        {"name": "order_line", "label": "Line", "child": True, "fields": [
            {"name": "product", "type": "link", "options": {"entity": "product"}},
            {"name": "ship_to", "type": "link", "options": {"entity": "customer"}},
            {"name": "qty", "type": "decimal"}]},
    ],
    "rules": [
        {"name": "charge_account", "entity": "order", "trigger": {"events": ["create"], "phase": "after"},
         "actions": [{"type": "update_records", "entity": "customer", "expect": "any",
                      "where": {"field": "code", "op": "=", "value": "$record.account"},
                      "set": {"balance": "balance + record.total"},
                      "guard": "balance + record.total <= credit_limit",
                      "refuse_message": "Customer {target.name} is over its limit {target.credit_limit} "
                                        "(balance {target.balance})"}]},
        {"name": "cap_total", "entity": "order", "trigger": {"events": ["create", "update"], "phase": "before"},
         "actions": [{"type": "refuse", "when": "total > 5000", "message": "Total {total} is over 5000"}]},
        {"name": "cost_check", "entity": "order", "trigger": {"events": ["create"], "phase": "before"},
         "actions": [{"type": "refuse", "when": "note = 'cost'", "message": "Cost {cost} is too high"}]},
        {"name": "code_check", "entity": "order", "trigger": {"events": ["create"], "phase": "before"},
         "actions": [{"type": "for_each_record", "entity": "customer", "as": "other",
                      "where": {"field": "code", "op": "=", "value": "$record.note"},
                      "actions": [{"type": "refuse", "message": "{other.code} belongs to {other.name}"}]}]},
    ],
    "roles": [
        {"name": "sales", "label": "Sales", "grants": [
            {"entity": "customer", "actions": ["read", "create", "update", "delete"], "record_rule": OWN},
            {"entity": "product", "actions": ["read"]},
            {"entity": "order", "actions": ["read", "create", "update"], "record_rule": OWN,
             "fields": {"cost": "read_only"}},
            {"entity": "order_line", "actions": ["read", "create", "update"]}]},
        {"name": "clerk", "label": "Clerk (no customers)", "grants": [
            {"entity": "order", "actions": ["read", "create"], "record_rule": OWN}]},
    ],
}  # fmt: skip


@pytest.fixture
def world(app, api):
    response = api.post("/api/templates/import", json=BUNDLE)
    assert response.status_code == 201, response.get_json()
    with app.extensions["lowcode"].db.write() as s:
        for name, role in (("ann", "sales"), ("bob", "sales"), ("cid", "clerk")):
            user = create_user(s, name, PASSWORD)
            s.add(RoleAssignment(user_id=user.id, app="leak", role=role, granted_by="test"))
    ann, bob, cid = (client_for(app, n) for n in ("ann", "bob", "cid"))
    theirs = bob.post("/api/data/leak/customer", json={"name": BOB_NAME, "code": BOB_CODE,
                                                         "credit_limit": BOB_LIMIT, "balance": BOB_BALANCE})  # fmt: skip
    assert theirs.status_code == 201, theirs.get_json()
    mine = ann.post(
        "/api/data/leak/customer", json={"name": "Ann's buyer", "code": "C-ANN", "credit_limit": "100"}
    )
    product = api.post("/api/data/leak/product", json={"sku": "TEE"}).get_json()["id"]
    return {"ann": ann, "bob": bob, "cid": cid, "admin": api, "theirs": theirs.get_json()["id"],
            "mine": mine.get_json()["id"], "product": product}  # fmt: skip


def client_for(app, username: str) -> ApiClient:
    client = app.test_client()
    return ApiClient(client, login(client, username, PASSWORD))


def fingerprint(app) -> str:
    """Every business row and rule run (refusals must leave nothing behind)."""
    with app.extensions["lowcode"].db.read() as s:
        tables = ["e_leak_customer", "e_leak_order", "e_leak_order_line", "e_leak_product"]
        rows = {t: [tuple(r) for r in s.execute(sa.text(f"SELECT * FROM {t} ORDER BY id"))] for t in tables}
        rows["runs"] = s.scalar(sa.select(sa.func.count()).select_from(RuleRunEntry))
    return json.dumps(rows, default=str)


def assert_no_secret(response) -> None:
    text = response.get_data(as_text=True)
    for secret in (BOB_NAME, BOB_LIMIT, BOB_BALANCE, "1,234.56", "1234.560"):
        assert secret not in text, text


def link_fields() -> list[tuple[str | None, str, str]]:
    """Every link field of the bundle as (child-table field or None, field, target entity)."""
    entities = {e["name"]: e for e in BUNDLE["entities"]}
    found = []
    for e in BUNDLE["entities"]:
        if e.get("child"):
            continue
        for f in e["fields"]:
            if f["type"] == "link":
                found.append((e["name"], None, f["name"], f["options"]["entity"]))
            if f["type"] == "child_table":
                child = entities[f["options"]["entity"]]
                found += [(e["name"], f["name"], c["name"], c["options"]["entity"])
                          for c in child["fields"] if c["type"] == "link"]  # fmt: skip
    return found


def body_with(child: str | None, name: str, value: int) -> tuple[dict, str]:
    """An order body pointing ``name`` at ``value``, and the path of its message."""
    if child is None:
        return {name: value}, name
    return {child: [{name: value, "qty": "1"}]}, f"{child}.0.{name}"


@pytest.mark.parametrize("link", link_fields(), ids=lambda link: ".".join(p for p in link[1:3] if p))
def test_every_link_field_answers_an_unseen_record_like_a_missing_one(app, world, link):
    entity, child, name, target = link
    ann, admin = world["ann"], world["admin"]
    unseen = world["theirs"] if target == "customer" else world["product"]
    if target != "customer":
        # products are readable by all: linking one is fine, a missing one is refused
        body, path = body_with(child, name, unseen)
        assert ann.post(f"/api/data/leak/{entity}", json=body).status_code == 201
    else:
        before = fingerprint(app)
        answers = {}
        for value in (unseen, MISSING):
            body, path = body_with(child, name, value)
            response = ann.post(f"/api/data/leak/{entity}", json=body)
            assert response.status_code == 422, response.get_json()
            error = response.get_json()["error"]
            answers[value] = (
                error["code"],
                error["message"],
                error["fields"][path][0].replace(str(value), "N"),
            )
            assert_no_secret(response)
        assert (
            answers[unseen]
            == answers[MISSING]
            == ("validation_failed", "Some fields are not valid", f"No {target} record with id N.")
        )
        assert fingerprint(app) == before
        # the owner may link it, an administrator too
        body, _ = body_with(child, name, unseen)
        assert world["bob"].post(f"/api/data/leak/{entity}", json=body).status_code == 201
        assert admin.post(f"/api/data/leak/{entity}", json=body).status_code == 201
    body, _ = body_with(child, name, world["mine"] if target == "customer" else world["product"])
    assert ann.post(f"/api/data/leak/{entity}", json=body).status_code == 201


def test_update_to_an_unseen_link_is_refused_and_an_unchanged_one_is_kept(app, world):
    ann, admin = world["ann"], world["admin"]
    body = {
        "customer": world["mine"],
        "lines": [{"product": world["product"], "ship_to": world["mine"], "qty": "1"}],
    }
    order = ann.post("/api/data/leak/order", json=body).get_json()
    line = {k: order["lines"][0][k] for k in ("id", "product", "ship_to", "qty")}
    before = fingerprint(app)
    for change, path in (({"customer": world["theirs"]}, "customer"),
                         ({"lines": [{**line, "ship_to": world["theirs"]}]}, "lines.0.ship_to"),
                         ({"lines": [line, {"ship_to": world["theirs"]}]}, "lines.1.ship_to")):  # fmt: skip
        response = ann.patch(
            f"/api/data/leak/order/{order['id']}", json={**change, "version": order["version"]}
        )
        assert response.status_code == 422
        assert response.get_json()["error"]["fields"] == {
            path: [f"No customer record with id {world['theirs']}."]
        }
    assert fingerprint(app) == before
    # a line that already points at a customer ann no longer sees (the administrator moved it) stays editable
    moved = admin.patch(f"/api/data/leak/customer/{world['mine']}", json={"name": "moved", "version": 1})
    assert moved.status_code == 200
    with app.extensions["lowcode"].db.write() as s:
        s.execute(sa.text("UPDATE e_leak_customer SET owner = NULL WHERE id = :i"), {"i": world["mine"]})
    kept = ann.patch(f"/api/data/leak/order/{order['id']}",
                     json={"lines": [{**line, "qty": "2"}], "version": order["version"]})  # fmt: skip
    assert kept.status_code == 200, kept.get_json()


def test_a_role_without_read_on_the_target_may_not_point_at_any_record(app, world):
    cid = world["cid"]
    response = cid.post("/api/data/leak/order", json={"customer": world["theirs"]})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["customer"] == [
        f"No customer record with id {world['theirs']}."
    ]
    assert cid.post("/api/data/leak/order", json={"total": "5"}).status_code == 201


def test_unique_value_of_an_unseen_record_says_only_that_it_is_used(app, world):
    ann = world["ann"]
    response = ann.post("/api/data/leak/customer", json={"name": "x", "code": BOB_CODE})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"code": ["Must be unique: this value is already used."]}
    assert_no_secret(response)
    # bob's record deleted: the answer does not change (nothing says it is deleted or may be restored)
    bob = world["bob"]
    assert (
        bob.delete(f"/api/data/leak/customer/{world['theirs']}", headers={"If-Match": '"1"'}).status_code
        == 204
    )
    again = ann.post("/api/data/leak/customer", json={"name": "x", "code": BOB_CODE})
    assert again.get_json()["error"]["fields"] == {"code": ["Must be unique: this value is already used."]}
    # her own deleted record: she is told, and may restore it
    own = ann.post("/api/data/leak/customer", json={"name": "y", "code": "C-ANN-2"}).get_json()
    assert ann.delete(f"/api/data/leak/customer/{own['id']}", headers={"If-Match": '"1"'}).status_code == 204
    mine = ann.post("/api/data/leak/customer", json={"name": "z", "code": "C-ANN-2"}).get_json()["error"][
        "fields"
    ]
    assert "restore" in mine["code"][0]
    same = ann.post("/api/data/leak/customer", json={"name": "z", "code": "C-ANN"}).get_json()["error"][
        "fields"
    ]
    assert same == {"code": ["Must be unique: another record already has this value."]}


def test_rule_refusal_naming_an_unseen_record_is_neutral(app, world):
    ann, bob = world["ann"], world["bob"]
    before = fingerprint(app)
    over = {"account": BOB_CODE, "total": "100"}
    refused = ann.post("/api/data/leak/order", json=over)
    assert refused.status_code == 422, refused.get_json()
    assert refused.get_json()["error"]["message"] == (
        "Refused by rule 'charge_account' (the reason concerns a record you may not read)."
    )
    assert_no_secret(refused)
    probe = ann.post("/api/data/leak/order", json={"note": BOB_CODE})
    assert probe.get_json()["error"]["message"].startswith("Refused by rule 'code_check'")
    assert_no_secret(probe)
    assert fingerprint(app) != before  # the refused runs are logged ...
    with app.extensions["lowcode"].db.read() as s:
        messages = list(s.scalars(sa.select(RuleRunEntry.message).where(RuleRunEntry.outcome == "refused")))
    assert messages and not any(
        BOB_NAME in m or BOB_LIMIT in m or "1,234.56" in m for m in messages
    )  # ... as ann was told
    # the owner reads the same refusal with the figures
    told = bob.post("/api/data/leak/order", json=over).get_json()["error"]["message"]
    assert (
        told == f"Customer {BOB_NAME} is over its limit 1,234.56 (balance 1,200.00)"
    )  # in the reader's locale
    assert bob.post("/api/data/leak/order", json={"note": BOB_CODE}).get_json()["error"]["message"] == (
        f"{BOB_CODE} belongs to {BOB_NAME}"
    )


def test_the_neutral_refusal_is_in_the_readers_language(app, world):
    with app.extensions["lowcode"].db.write() as s:
        s.execute(sa.update(User).where(User.username == "ann").values(language="zh_CN"))
    refused = client_for(app, "ann").post("/api/data/leak/order", json={"account": BOB_CODE, "total": "100"})
    assert refused.status_code == 422, refused.get_json()
    assert (
        refused.get_json()["error"]["message"] == "被规则“charge_account”拒绝（原因涉及您无权查看的记录）。"
    )
    assert_no_secret(refused)


def test_refusal_reading_only_the_writers_own_values_is_kept(world):
    ann = world["ann"]
    assert ann.post("/api/data/leak/order", json={"total": "6000"}).get_json()["error"]["message"] == (
        "Total 6,000.00 is over 5000"
    )
    mine = ann.post("/api/data/leak/order", json={"account": "C-ANN", "total": "500"}).get_json()["error"]
    assert mine["message"] == "Customer Ann's buyer is over its limit 100.00 (balance 0.00)"


def test_refusal_reading_a_field_hidden_from_the_writer_is_neutral(app, world):
    admin = world["admin"]
    role = {"schema_version": 1, "name": "sales", "label": "Sales", "grants": [
        *BUNDLE["roles"][0]["grants"][:2],
        {"entity": "order", "actions": ["read", "create", "update"], "record_rule": OWN, "fields": {"cost": "hidden"}},
        BUNDLE["roles"][0]["grants"][3]]}  # fmt: skip
    assert admin.put("/api/definitions/leak/role/sales", json=role).status_code in (200, 201)
    assert admin.post("/api/definitions/leak/role/sales/publish").status_code == 200
    refused = world["ann"].post("/api/data/leak/order", json={"note": "cost"}).get_json()["error"]
    assert (
        refused["message"] == "Refused by rule 'cost_check' (the reason concerns a record you may not read)."
    )
    assert (
        admin.post("/api/data/leak/order", json={"note": "cost", "cost": "7"}).get_json()["error"]["message"]
        == "Cost 7.00 is too high"
    )


DRY = "/api/rules/leak/dry-run"


def test_dry_run_hides_unseen_records_and_their_refusals(app, world):
    ann, bob = world["ann"], world["bob"]
    before = fingerprint(app)
    ok = ann.post(DRY, json={"entity": "order", "changes": {"account": BOB_CODE, "total": "10"}})
    assert ok.status_code == 200, ok.get_json()
    result = ok.get_json()
    assert result["outcome"] == "ok"
    touched = {(c["entity"], c.get("hidden", False)) for c in result["changes"]}
    assert touched == {("order", False), ("customer", True)}
    hidden = next(c for c in result["changes"] if c["entity"] == "customer")
    assert hidden == {"entity": "customer", "action": "update", "hidden": True}
    assert {"entity": "customer", "kind": "updated", "hidden": True} in result["events"]
    assert_no_secret(ok)
    assert str(world["theirs"]) not in json.dumps([c for c in result["changes"] if c["entity"] == "customer"])
    refused = ann.post(
        DRY, json={"entity": "order", "changes": {"account": BOB_CODE, "total": "100"}}
    ).get_json()
    assert refused["outcome"] == "refused"
    assert refused["message"].startswith("Refused by rule 'charge_account'")
    assert all(BOB_NAME not in (r["message"] or "") for r in refused["runs"])
    assert_no_secret(
        ann.post(DRY, json={"entity": "order", "changes": {"account": BOB_CODE, "total": "100"}})
    )
    link = ann.post(DRY, json={"entity": "order", "changes": {"customer": world["theirs"]}}).get_json()
    assert link["outcome"] == "invalid"
    assert link["fields"] == {"customer": [f"No customer record with id {world['theirs']}."]}
    assert fingerprint(app) == before
    # the owner sees their customer's change in full
    full = bob.post(DRY, json={"entity": "order", "changes": {"account": BOB_CODE, "total": "10"}}).get_json()
    change = next(c for c in full["changes"] if c["entity"] == "customer")
    assert change["record_id"] == world["theirs"] and change["diff"]["balance"] == [BOB_BALANCE, "1210.00"]


def test_page_form_offers_and_accepts_only_records_the_writer_may_read(app, world):
    browser = Browser(app.test_client())
    assert browser.login("ann", PASSWORD).status_code == 303
    form = text(browser.get("/a/leak/order/new"))
    assert BOB_NAME not in form and BOB_NAME.replace("'", "&#39;") not in form
    for url in ("/a/leak/order/options/customer", "/a/leak/order/options/lines.ship_to"):  # the link pickers
        offered = text(browser.get(url))
        assert "Ann&#39;s buyer" in offered or "Ann's buyer" in offered, offered
        assert BOB_NAME not in offered and BOB_NAME.replace("'", "&#39;") not in offered
    before = fingerprint(app)
    for pairs in ([("customer", str(world["theirs"]))],
                  [("lines-n1-id", ""), ("lines-n1-ship_to", str(world["theirs"])), ("lines-n1-qty", "1")]):  # fmt: skip
        response = browser.post("/a/leak/order/new", pairs)
        assert response.status_code == 422, text(response)
        assert f"No customer record with id {world['theirs']}." in text(response)
        assert BOB_NAME not in text(response) and BOB_NAME.replace("'", "&#39;") not in text(response)
    assert fingerprint(app) == before
