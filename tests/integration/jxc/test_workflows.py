"""The JXC documents move by their workflows: every transition as each role (the ones that grant it take it,
the others are refused and change nothing), transitions only the app takes, documents that cannot be
created in a later state (API and pages), posted documents whose lines cannot be edited, deletes by state."""

from __future__ import annotations

import itertools
import json

import pytest

from tests.integration.jxc.conftest import PASSWORD, TEMPLATE
from tests.integration.jxc.stages import staged
from tests.integration.pages.helpers import Browser

WORKFLOWS = {
    doc["entity"]: doc for doc in (json.loads(p.read_text()) for p in (TEMPLATE / "workflows").glob("*.json"))
}
ROLE_FILES = {name: json.loads((TEMPLATE / "roles" / f"{name}.json").read_text()) for name in
              ("purchaser", "warehouse", "sales", "finance")}  # fmt: skip
ROLES = ("admin", *sorted(ROLE_FILES))
DAY = "2026-11-12"
_months = itertools.count(1)
REACHABLE = {"draft": [], "open": [], "confirmed": ["confirm"], "approved": ["approve"], "closed": ["close"]}


def takers(entity: str, transition: str) -> set[str]:
    """The roles that may take a transition: administrators, and every role whose grant names it."""
    named = {r for r, doc in ROLE_FILES.items() for g in doc["grants"]
             if g["entity"] == entity and transition in g.get("transitions", [])}  # fmt: skip
    return {"admin", *named}


def by_hand() -> list[tuple[str, str]]:
    """(entity, transition) of every transition a person may take."""
    return sorted(
        (e, t["name"]) for e, wf in WORKFLOWS.items() for t in wf["transitions"] if not t.get("automatic")
    )


def automatic() -> list[tuple[str, str]]:
    return sorted(
        (e, t["name"]) for e, wf in WORKFLOWS.items() for t in wf["transitions"] if t.get("automatic")
    )


def world_documents(jxc) -> dict:
    """100 TS-WHT-M received in Shanghai (a payable of 1,000.00), 10 delivered (a receivable of 299.00)."""
    j, sh, ts = jxc, jxc.wh["WH-SH"], jxc.product["TS-WHT-M"]
    gr = j.create(j.warehouse, "purchase_receipt", {"supplier": j.supplier, "warehouse": sh, "receipt_date": DAY,
                                                    "lines": [{"product": ts, "qty": "100", "unit_price": "10.00"}]})  # fmt: skip
    j.set_status(j.warehouse, "purchase_receipt", gr["id"], "posted")
    dn = j.create(j.warehouse, "delivery", {"customer": j.customer, "warehouse": sh, "delivery_date": DAY,
                                            "lines": [{"product": ts, "qty": "10", "unit_price": "29.90"}]})  # fmt: skip
    j.set_status(j.warehouse, "delivery", dn["id"], "posted")
    (receivable,) = j.rows("receivable")
    (payable,) = j.rows("payable")
    return {"delivery": dn["id"], "receivable": receivable["id"], "payable": payable["id"]}


world = staged("world", world_documents)


def draft_body(j, world: dict, entity: str) -> dict:
    """A valid new document of ``entity`` that each of its transitions can take."""
    sh, gz, ts, jn = j.wh["WH-SH"], j.wh["WH-GZ"], j.product["TS-WHT-M"], j.product["JN-BLU-32"]
    line = {"product": ts, "qty": "1", "unit_price": "10.00"}
    if entity == "stocktake":  # counted against the book quantity of the moment
        balance = j.balance(jn, gz)
        book = balance["on_hand"] if balance else "0"
        return {"warehouse": gz, "stocktake_date": DAY,
                "lines": [{"product": jn, "book_qty": book, "counted_qty": str(int(float(book)) + 1)}]}  # fmt: skip
    accounts = {a["code"]: a["id"] for a in j.rows("account", client=j.finance)}
    bodies = {
        "sales_order": {"customer": j.customer, "warehouse": sh, "order_date": DAY, "lines": [line]},
        "purchase_order": {"supplier": j.supplier, "warehouse": sh, "order_date": DAY, "lines": [line]},
        "delivery": {"customer": j.customer, "warehouse": sh, "delivery_date": DAY, "lines": [line]},
        "purchase_receipt": {"supplier": j.supplier, "warehouse": sh, "receipt_date": DAY, "lines": [line]},
        "purchase_return": {"supplier": j.supplier, "warehouse": sh, "return_date": DAY, "lines": [line]},
        "sales_return": {"delivery": world["delivery"], "customer": j.customer, "warehouse": sh,
                         "return_date": DAY, "lines": [{**line, "unit_price": "29.90"}]},
        "stock_transfer": {"warehouse": sh, "to_warehouse": gz, "transfer_date": DAY,
                           "lines": [{"product": ts, "qty": "1"}]},
        "customer_payment": {"customer": j.customer, "receivable": world["receivable"], "payment_date": DAY,
                             "amount": "1.00"},
        "supplier_payment": {"supplier": j.supplier, "payable": world["payable"], "payment_date": DAY,
                             "amount": "1.00"},
        "voucher": {"voucher_date": DAY, "description": "test",
                    "lines": [{"account": accounts["6602"], "debit": "1.00"},
                              {"account": accounts["1002"], "credit": "1.00"}]},
        "accounting_period": {"period": f"2025-{next(_months) % 12 + 1:02d}"},
        "receivable": {"customer": j.customer, "doc_date": DAY, "amount": "1.00"},
        "payable": {"supplier": j.supplier, "doc_date": DAY, "amount": "1.00"},
    }  # fmt: skip
    return bodies[entity]


def in_state(j, world: dict, entity: str, state: str) -> dict:
    """A new document brought (by the administrator) to ``state`` along the workflow's transitions."""
    record = j.create(j.admin, entity, draft_body(j, world, entity))
    wf = WORKFLOWS[entity]
    for name in REACHABLE[state]:
        response = take(j.admin, j, entity, record, name)
        assert response.status_code == 200, response.get_json()
        record = response.get_json()
    assert record[wf["state_field"]] == state
    return record


def take(client, j, entity: str, record: dict, name: str, body: dict | None = None):
    return client.post(
        f"{j.url(entity, record['id'])}/transitions/{name}", json=body or {},
        headers={"If-Match": f'"{record["version"]}"'},
    )  # fmt: skip


@pytest.mark.parametrize(("entity", "name"), by_hand())
def test_every_transition_as_each_role(jxc, world, entity, name):
    """The roles that grant a transition take it (and see it offered); every other role gets a 403 and the
    document is unchanged."""
    j = jxc
    step = next(t for t in WORKFLOWS[entity]["transitions"] if t["name"] == name)
    sources = [step["from"]] if isinstance(step["from"], str) else step["from"]
    source = [s for s in sources if s in REACHABLE][-1]  # the latest state a person can bring it to
    may = takers(entity, name)
    assert may - {"admin"} or name in ("approve", "reopen"), f"no role takes {entity}.{name}"
    for role in ROLES:
        client = getattr(j, role)
        record = in_state(j, world, entity, source)
        readable = client.get(j.url(entity, record["id"]))
        if readable.status_code == 200:
            offered = [t["name"] for t in readable.get_json()["_transitions"]]
            assert (name in offered) == (role in may), (role, offered)
        response = take(client, j, entity, record, name)
        after = j.get(entity, record["id"])
        if role in may:
            assert response.status_code == 200, (role, response.get_json())
            assert after["status"] == step["to"] and after["version"] > record["version"]
        else:
            assert response.status_code == 403, (role, response.get_json())
            assert after["status"] == source and after["version"] == record["version"]


@pytest.mark.parametrize(("entity", "name"), automatic())
def test_transitions_the_app_takes_are_refused_to_everyone(jxc, world, entity, name):
    """Shipped, received and settled follow the posted documents: no one sets them by hand, not even the
    administrator, through the transition or a plain update, and none of them is offered."""
    j = jxc
    step = next(t for t in WORKFLOWS[entity]["transitions"] if t["name"] == name)
    source = step["from"] if isinstance(step["from"], str) else step["from"][0]
    if entity in ("receivable", "payable"):
        record = j.get(entity, world[entity])
    else:
        record = in_state(j, world, entity, source)
    for role in ROLES:
        client = getattr(j, role)
        response = take(client, j, entity, record, name)
        assert response.status_code == 403, (role, response.get_json())
        plain = client.patch(
            j.url(entity, record["id"]), json={"status": step["to"], "version": record["version"]}
        )
        assert plain.status_code == 403, (role, plain.get_json())
    after = j.get(entity, record["id"])
    assert after["status"] == source and after["version"] == record["version"]
    assert name not in [t["name"] for t in after["_transitions"]]


@pytest.mark.parametrize("entity", sorted(WORKFLOWS))
def test_no_document_is_created_in_a_later_state(jxc, world, entity):
    """Created straight as posted / confirmed / settled / closed: refused for every role that may create,
    administrators included (422 naming the initial state), and nothing is written."""
    j = jxc
    wf = WORKFLOWS[entity]
    initial = [wf["initial"]] if isinstance(wf["initial"], str) else wf["initial"]
    creators = ["admin", *(r for r, doc in ROLE_FILES.items() for g in doc["grants"]
                           if g["entity"] == entity and "create" in g["actions"])]  # fmt: skip
    before = len(j.rows(entity))
    for state in (s["name"] for s in wf["states"] if s["name"] not in initial):
        for role in creators:
            body = {**draft_body(j, world, entity), "status": state}
            response = getattr(j, role).post(j.url(entity), json=body)
            assert response.status_code == 422, (role, state, response.get_json())
            expected = (
                "is reached by a transition" if role == "admin" else "须经流程操作到达"
            )  # each user's language
            assert expected in response.get_json()["error"]["fields"]["status"][0]
    assert len(j.rows(entity)) == before


def test_a_delivery_forged_as_posted_in_the_page_form_is_a_draft_that_moved_no_stock(jxc, world):
    j, sh, ts = jxc, jxc.wh["WH-SH"], jxc.product["TS-WHT-M"]
    on_hand = j.balance(ts, sh)["on_hand"]
    browser = Browser(j.app.test_client())
    assert browser.login("warehouse", PASSWORD).status_code == 303
    form = browser.get("/a/jxc/delivery/new").get_data(as_text=True)
    assert 'name="status"' not in form  # the state is no free dropdown
    response = browser.post("/a/jxc/delivery/new", {
        "customer": str(j.customer), "warehouse": str(sh), "delivery_date": DAY, "status": "posted",
        "lines-n1-id": "", "lines-n1-product": str(ts), "lines-n1-qty": "5", "lines-n1-unit_price": "29.90"})  # fmt: skip
    assert response.status_code == 303, response.get_data(as_text=True)
    newest = j.rows("delivery", sort="-id")[0]
    assert newest["status"] == "draft" and newest["qty_total"] == "5.000"
    assert j.balance(ts, sh)["on_hand"] == on_hand and len(j.rows("receivable")) == 1


@pytest.mark.parametrize(
    ("entity", "client_name", "state"),
    [("sales_order", "sales", "confirmed"), ("delivery", "warehouse", "posted"),
     ("purchase_receipt", "warehouse", "posted"), ("voucher", "finance", "posted")],
)  # fmt: skip
def test_a_line_edit_that_keeps_the_totals_is_refused_once_the_document_moved_on(
    jxc, world, entity, client_name, state
):
    """The old rules guessed "edited" from the totals; the lock holds the child rows themselves."""
    j = jxc
    record = in_state(j, world, entity, "draft")
    if state != "draft":
        name = {"confirmed": "confirm", "posted": "post"}[state]
        response = take(getattr(j, client_name), j, entity, record, name)
        assert response.status_code == 200, response.get_json()
        record = response.get_json()
    kept = ("id", "product", "qty", "unit_price", "account", "debit", "credit")
    lines = [{k: v for k, v in line.items() if k in kept} for line in record["lines"]]
    if entity == "voucher":
        lines = [lines[1], lines[0]]  # the same entries in the other order: both totals unchanged
    else:
        lines = [{**lines[0], "qty": "0.5"}, {**lines[0], "id": None, "qty": "0.5"}]  # split the line in two
        lines[1].pop("id")
    response = getattr(j, client_name).patch(
        j.url(entity, record["id"]), json={"lines": lines, "version": record["version"]}
    )
    assert response.status_code == 409, response.get_json()
    message = response.get_json()["error"]["message"]  # the line table, by its label, in the user's language
    assert message.endswith(("明细 不能修改", "分录 不能修改")), message
    after = j.get(entity, record["id"])
    assert after["version"] == record["version"] and after["lines"] == record["lines"]


def test_drafts_are_deleted_by_their_owners_and_nothing_later_is(jxc, world):
    j = jxc
    draft = in_state(j, world, "sales_order", "draft")
    assert j.sales.delete(j.url("sales_order", draft["id"]), headers={"If-Match": '"1"'}).status_code == 204
    confirmed = in_state(j, world, "sales_order", "confirmed")
    for client in (j.sales, j.admin):
        response = client.delete(
            j.url("sales_order", confirmed["id"]), headers={"If-Match": f'"{confirmed["version"]}"'}
        )
        assert (
            response.status_code == 409
            and ("不能删除" if client is j.sales else "cannot be deleted")
            in response.get_json()["error"]["message"]
        )
    for entity in ("receivable", "payable"):  # never, whatever their state
        response = j.admin.delete(j.url(entity, world[entity]))
        assert response.status_code == 409, response.get_json()
    assert j.get("sales_order", confirmed["id"])["status"] == "confirmed"


def test_service_messages_reach_each_user_in_their_language(jxc, world):
    """The record service raises English sentences; pages and the API render them in the reader's language
    (the JXC role users read Chinese, the administrator English)."""
    j = jxc
    browser = Browser(j.app.test_client())
    assert browser.login("sales", PASSWORD).status_code == 303
    page = browser.post("/a/jxc/sales_order/new", {"warehouse": str(j.wh["WH-SH"]), "order_date": DAY})
    body = page.get_data(as_text=True)
    assert (
        page.status_code == 422 and "部分字段无效" in body and "此项不能为空。" in body
    )  # customer left empty
    assert "Some fields are not valid" not in body and "Field may not be null." not in body
    for client, expected in ((j.sales, "部分字段无效"), (j.admin, "Some fields are not valid")):
        response = client.post(j.url("sales_order"), json={"order_date": DAY})
        assert response.get_json()["error"]["message"] == expected
