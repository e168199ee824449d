"""Child rows follow their parent: every JXC role that may read a document reads its lines (API and record
page) and a role that may create one enters lines in the page form - the roles never name the line entities.
Where a role does name a child entity, its field rules hold on the lines (a small app, below)."""

from __future__ import annotations

import json
import re

import pytest

from lowcode.auth.users import create_user
from lowcode.core.models import RoleAssignment
from tests.conftest import ApiClient, login
from tests.integration.jxc.conftest import PASSWORD, TEMPLATE
from tests.integration.pages.helpers import Browser, text

ROLE_FILES = {name: json.loads((TEMPLATE / "roles" / f"{name}.json").read_text()) for name in
              ("purchaser", "warehouse", "sales", "finance")}  # fmt: skip
DOCS = ("sales_order", "purchase_order", "delivery", "purchase_receipt")


def grants(role: str, entity: str) -> set[str]:
    return {a for g in ROLE_FILES[role]["grants"] if g["entity"] == entity for a in g["actions"]}


@pytest.fixture
def documents(jxc):
    """One draft of each document type with one line (written by the administrator)."""
    j, sh, ts = jxc, jxc.wh["WH-SH"], jxc.product["TS-WHT-M"]
    line = [{"product": ts, "qty": "2", "unit_price": "10.00"}]
    bodies = {
        "sales_order": {"customer": j.customer, "warehouse": sh, "order_date": "2026-11-10", "lines": line},
        "purchase_order": {
            "supplier": j.supplier,
            "warehouse": sh,
            "order_date": "2026-11-10",
            "lines": line,
        },
        "delivery": {"customer": j.customer, "warehouse": sh, "delivery_date": "2026-11-10", "lines": line},
        "purchase_receipt": {
            "supplier": j.supplier,
            "warehouse": sh,
            "receipt_date": "2026-11-10",
            "lines": line,
        },
    }
    return {entity: j.create(j.admin, entity, body)["id"] for entity, body in bodies.items()}


@pytest.mark.parametrize("role", sorted(ROLE_FILES))
def test_each_role_reads_the_lines_of_the_documents_it_reads(jxc, documents, role):
    j = jxc
    client = getattr(j, role)
    browser = Browser(j.app.test_client())
    assert browser.login(role, PASSWORD).status_code == 303
    for entity, record_id in documents.items():
        if "read" not in grants(role, entity):
            assert client.get(j.url(entity, record_id)).status_code == 403
            continue
        (line,) = client.get(j.url(entity, record_id)).get_json()["lines"]
        assert (line["product"], line["qty"], line["unit_price"]) == (j.product["TS-WHT-M"], "2.000", "10.00")
        page = text(browser.get(f"/a/jxc/{entity}/{record_id}"))
        assert "纯棉T恤 白 M" in page and re.search(r">\s*2\s*<", page), (role, entity)  # the line, qty 2


@pytest.mark.parametrize("role", sorted(ROLE_FILES))
def test_each_role_enters_lines_in_the_forms_of_the_documents_it_creates(jxc, role):
    j, sh, ts = jxc, jxc.wh["WH-SH"], jxc.product["TS-WHT-M"]
    browser = Browser(j.app.test_client())
    assert browser.login(role, PASSWORD).status_code == 303
    headers = {
        "sales_order": {"customer": str(j.customer), "order_date": "2026-11-10"},
        "purchase_order": {"supplier": str(j.supplier), "order_date": "2026-11-10"},
        "delivery": {"customer": str(j.customer), "delivery_date": "2026-11-10"},
        "purchase_receipt": {"supplier": str(j.supplier), "receipt_date": "2026-11-10"},
    }
    created = 0
    for entity in DOCS:
        if "create" not in grants(role, entity):
            continue
        form = text(browser.get(f"/a/jxc/{entity}/new"))
        for column in ("product", "qty", "unit_price"):
            assert f'name="lines-__row__-{column}"' in form, (role, entity, column)
        body = {**headers[entity], "warehouse": str(sh), "lines-n1-id": "", "lines-n1-product": str(ts),
                "lines-n1-qty": "3", "lines-n1-unit_price": "12.50"}  # fmt: skip
        response = browser.post(f"/a/jxc/{entity}/new", body)
        assert response.status_code == 303, (role, entity, text(response)[:2000])
        record = j.get(entity, int(response.headers["Location"].rsplit("/", 1)[1]))
        assert [(ln["qty"], ln["amount"]) for ln in record["lines"]] == [("3.000", "37.50")]
        assert record["total"] == "37.50"
        created += 1
    assert created == {"purchaser": 1, "warehouse": 2, "sales": 1, "finance": 0}[role]


SHOP = {
    "app": {"name": "shop", "label": "Shop"},
    "entities": [
        {"name": "quote", "label": "Quote", "fields": [
            {"name": "customer", "type": "text", "required": True},
            {"name": "lines", "type": "child_table", "options": {"entity": "quote_line"}}]},
        {"name": "quote_line", "label": "Quote line", "child": True, "fields": [
            {"name": "item", "type": "text", "required": True},
            {"name": "price", "type": "decimal", "options": {"scale": 2}},
            {"name": "cost", "type": "decimal", "options": {"scale": 2}},
            {"name": "discount", "type": "decimal", "options": {"scale": 2}}]},
    ],
    "roles": [
        {"name": "seller", "label": "Seller", "grants": [
            {"entity": "quote", "actions": ["read", "create", "update"]},
            {"entity": "quote_line", "actions": ["read", "create", "update"],
             "fields": {"cost": "hidden", "discount": "read_only"}}]},
        {"name": "plain", "label": "Plain", "grants": [{"entity": "quote", "actions": ["read", "create", "update"]}]},
    ],
}  # fmt: skip


def test_field_rules_of_a_named_child_entity_hold_on_the_lines(app, api):
    assert api.post("/api/templates/import", json=SHOP).status_code == 201
    with app.extensions["lowcode"].db.write() as s:
        for name, role in (("sel", "seller"), ("pla", "plain")):
            user = create_user(s, name, "user-pass-123")
            s.add(RoleAssignment(user_id=user.id, app="shop", role=role, granted_by="test"))
    url = "/api/data/shop/quote"
    quote = api.post(
        url, json={"customer": "A", "lines": [{"item": "x", "price": "5", "cost": "3", "discount": "1"}]}
    )
    quote = quote.get_json()
    clients = {}
    for name in ("sel", "pla"):
        client = app.test_client()
        clients[name] = ApiClient(client, login(client, name, "user-pass-123"))
    (line,) = clients["sel"].get(f"{url}/{quote['id']}").get_json()["lines"]
    assert "cost" not in line and line["discount"] == "1.00" and line["price"] == "5.00"
    (line,) = clients["pla"].get(f"{url}/{quote['id']}").get_json()["lines"]
    assert line["cost"] == "3.00"  # the parent's grants govern lines of a role that names no line entity

    def edit(client, row: dict):
        current = api.get(f"{url}/{quote['id']}").get_json()
        return client.patch(f"{url}/{quote['id']}", json={"lines": [row], "version": current["version"]})

    row_id = quote["lines"][0]["id"]
    hidden = edit(clients["sel"], {"id": row_id, "item": "x", "cost": "9"})
    assert hidden.status_code == 422 and hidden.get_json()["error"]["fields"]["lines.0.cost"] == [
        "You may not write this field."
    ]
    locked = edit(clients["sel"], {"id": row_id, "item": "x", "discount": "0"})
    assert locked.get_json()["error"]["fields"]["lines.0.discount"] == ["You may not change this field."]
    new_row = edit(clients["sel"], {"item": "y", "discount": "2"})
    assert new_row.get_json()["error"]["fields"]["lines.0.discount"] == ["You may not change this field."]
    kept = edit(clients["sel"], {"id": row_id, "item": "renamed", "price": "6", "discount": "1.00"})
    assert kept.status_code == 200, kept.get_json()
    (stored,) = api.get(f"{url}/{quote['id']}").get_json()["lines"]
    assert (stored["item"], stored["price"], stored["cost"], stored["discount"]) == (
        "renamed",
        "6.00",
        "3.00",
        "1.00",
    )
    assert edit(clients["pla"], {"id": row_id, "item": "z", "cost": "4"}).status_code == 200

    browser = Browser(app.test_client())
    assert browser.login("sel", "user-pass-123").status_code == 303
    page = text(browser.get(f"/a/shop/quote/{quote['id']}"))
    # the price (a decimal: shown without trailing zeros), and no cost column for the seller
    assert re.search(r">\s*6\s*<", page) and not re.search(r">\s*4\s*<", page)
    form = text(browser.get(f"/a/shop/quote/{quote['id']}/edit"))
    assert 'name="lines-__row__-cost"' not in form and 'name="lines-__row__-discount"' not in form
    assert 'name="lines-__row__-price"' in form
