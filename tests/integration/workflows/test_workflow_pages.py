"""Workflow pages as non-admin roles: the state badge, transition buttons (confirmation, a page for the
fields a transition needs), no free state dropdown, locked records without Edit/Delete, the state filter
and a transition run on several selected records (each refusal reported, the others done)."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from tests.conftest import ApiClient, login
from tests.integration.pages.helpers import Browser, field_errors, row_ids, text

from .bundle import PASSWORD, install

URL = "/api/data/shop/order"


@pytest.fixture
def shop(app, api):
    install(app, api)
    return api


def _browser(app, username: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(username, PASSWORD).status_code == 303
    return browser


def _order(app, lines=(("shirt", "10.00"),), confirm=False) -> dict:
    client = app.test_client()
    api = ApiClient(client, login(client, "cleo", PASSWORD))
    order = api.post(
        URL, json={"customer": "Acme", "lines": [{"item": i, "amount": a} for i, a in lines]}
    ).get_json()
    if confirm:
        order = api.post(
            f"{URL}/{order['id']}/transitions/confirm", headers={"If-Match": f'"{order["version"]}"'}
        )
        order = order.get_json()
    return order


def _status(api, record_id: int) -> str:
    return api.get(f"{URL}/{record_id}").get_json()["status"]


def test_detail_shows_the_badge_and_the_transitions_the_role_may_take(app, shop):
    cleo = _browser(app, "cleo")
    order = _order(app)
    page = text(cleo.get(f"/a/shop/order/{order['id']}"))
    assert 'class="badge state-badge state-grey">Draft</span>' in page
    confirm = re.search(
        r'<form method="post" action="(/a/shop/order/\d+/transitions/confirm)"[^>]*data-confirm="([^"]+)"',
        page,
    )
    assert confirm and html.unescape(confirm.group(2)) == "Confirm this order?"
    assert f'href="/a/shop/order/{order["id"]}/transitions/cancel"' in page  # needs a reason: its own page
    assert "/transitions/ship" not in page  # not the clerk's
    assert f'href="/a/shop/order/{order["id"]}/edit"' in page and "/delete" in page
    response = cleo.post(confirm.group(1), {"version": str(order["version"])})
    assert response.status_code == 303 and _status(shop, order["id"]) == "confirmed"
    page = text(cleo.get(f"/a/shop/order/{order['id']}"))
    assert 'state-blue">Confirmed</span>' in page
    assert "/edit" not in page and "/delete" not in page  # locked, and not deletable in this state
    assert "/transitions/cancel" in page and "/transitions/confirm" not in page
    sam = text(_browser(app, "sam").get(f"/a/shop/order/{order['id']}"))
    assert "/transitions/ship" in sam and "/transitions/cancel" not in sam and "/edit" not in sam
    vic = text(_browser(app, "vic").get(f"/a/shop/order/{order['id']}"))
    assert "/transitions/" not in vic and 'state-blue">Confirmed</span>' in vic


def test_the_state_field_is_no_free_dropdown_and_a_forged_state_is_ignored(app, shop):
    cleo = _browser(app, "cleo")
    form = text(cleo.get("/a/shop/order/new"))
    assert 'name="status"' not in form and 'name="customer"' in form
    response = cleo.post("/a/shop/order/new", {"customer": "Forged", "status": "shipped"})
    assert response.status_code == 303, text(response)
    record_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert _status(shop, record_id) == "draft"
    edit = text(cleo.get(f"/a/shop/order/{record_id}/edit"))
    assert 'name="status"' not in edit and 'name="customer"' in edit
    response = cleo.post(
        f"/a/shop/order/{record_id}/edit", {"customer": "Acme", "status": "confirmed", "version": "1"}
    )
    assert response.status_code == 303 and _status(shop, record_id) == "draft"


def test_several_initial_states_offer_only_those_and_a_forged_one_is_refused(app, shop):
    flow = shop.get("/api/definitions/shop/workflow/order_flow").get_json()["published"]
    assert (
        shop.put(
            "/api/definitions/shop/workflow/order_flow", json={**flow, "initial": ["draft", "confirmed"]}
        ).status_code
        == 200
    )
    assert shop.post("/api/definitions/shop/workflow/order_flow/publish").status_code == 200
    cleo = _browser(app, "cleo")
    form = text(cleo.get("/a/shop/order/new"))
    select = re.search(r'<select[^>]*name="status"[^>]*>(.*?)</select>', form, re.S)
    assert select and re.findall(r'value="(\w+)"', select.group(1)) == ["draft", "confirmed"]
    response = cleo.post("/a/shop/order/new", {"customer": "Forged", "status": "shipped"})
    assert response.status_code == 422
    assert field_errors(text(response), "status") == [
        "A new Order starts in 'Draft', 'Confirmed'; 'Shipped' is reached by a transition"
    ]


def test_a_named_field_lock_shows_those_fields_read_only(app, shop):
    order = _order(app)
    cleo = _browser(app, "cleo")
    page = text(cleo.get(f"/a/shop/order/{order['id']}/transitions/cancel"))
    assert 'name="cancel_reason"' in page and 'name="customer"' not in page
    empty = cleo.post(
        f"/a/shop/order/{order['id']}/transitions/cancel", {"version": "1", "cancel_reason": ""}
    )
    assert empty.status_code == 422 and field_errors(text(empty), "cancel_reason") == [
        "Required to take 'Cancel'."
    ]
    done = cleo.post(
        f"/a/shop/order/{order['id']}/transitions/cancel", {"version": "1", "cancel_reason": "too late"}
    )
    assert done.status_code == 303 and _status(shop, order["id"]) == "cancelled"
    edit = text(cleo.get(f"/a/shop/order/{order['id']}/edit"))  # 'cancelled' locks customer and lines only
    assert 'name="note"' in edit and 'name="customer"' not in edit and "data-add-row" not in edit
    response = cleo.post(f"/a/shop/order/{order['id']}/edit", {"note": "refunded", "version": "2"})
    assert response.status_code == 303, text(response)
    assert shop.get(f"{URL}/{order['id']}").get_json()["note"] == "refunded"


def test_refused_transitions_show_the_reason(app, shop):
    empty = _order(app, lines=())
    cleo = _browser(app, "cleo")
    response = cleo.post(f"/a/shop/order/{empty['id']}/transitions/confirm", {"version": "1"})
    assert response.status_code == 409 and "a total above zero" in text(response)
    assert cleo.post(f"/a/shop/order/{empty['id']}/transitions/ship", {"version": "1"}).status_code == 403
    assert cleo.get(f"/a/shop/order/{empty['id']}/transitions/ship").status_code == 403
    assert cleo.get(f"/a/shop/order/{empty['id']}/transitions/nope").status_code == 404
    assert _status(shop, empty["id"]) == "draft"


def test_lists_filter_by_state_and_run_a_transition_on_several_records(app, shop):
    good, empty, confirmed = _order(app), _order(app, lines=()), _order(app, confirm=True)
    cleo = _browser(app, "cleo")
    page = text(cleo.get("/a/shop/order"))
    assert (
        'name="transition" value="confirm"' in page and 'value="cancel"' not in page
    )  # cancel needs a reason
    assert f'value="{good["id"]}:{good["version"]}" form="bulk-form"' in page
    assert ">All states</a>" in page and ">Confirmed</a>" in page
    filtered = text(cleo.get("/a/shop/order?field=status&op==&value=confirmed"))
    assert row_ids(filtered) == [confirmed["id"]] and 'aria-current="true">Confirmed</a>' in filtered
    picked = [f"{r['id']}:{r['version']}" for r in (good, empty, confirmed)]
    response = cleo.post(
        "/a/shop/order/transitions", [("transition", "confirm"), *[("ids", p) for p in picked]]
    )
    assert response.status_code == 200
    result = text(response)
    assert "Confirm: 1 done, 2 refused" in result
    refused = dict(re.findall(r'<li class="list-group-item" data-record="(\d+)">.*?: ([^<]+)</li>', result))
    assert set(map(int, refused)) == {empty["id"], confirmed["id"]}
    assert "a total above zero" in html.unescape(refused[str(empty["id"])])
    assert "not possible in this state" in html.unescape(refused[str(confirmed["id"])])
    assert [_status(shop, r["id"]) for r in (good, empty, confirmed)] == ["confirmed", "draft", "confirmed"]


def test_bulk_transitions_check_grants_versions_and_input(app, shop):
    first, second = _order(app, confirm=True), _order(app, confirm=True)
    sam = _browser(app, "sam")
    page = text(sam.get("/a/shop/order"))
    assert 'name="transition" value="ship"' in page and 'value="confirm"' not in page
    stale = f"{second['id']}:{second['version'] - 1}"
    response = sam.post(
        "/a/shop/order/transitions",
        [("transition", "ship"), ("ids", f"{first['id']}:{first['version']}"), ("ids", stale)],
    )
    assert "Ship: 1 done, 1 refused" in text(response) and "changed by someone else" in text(response)
    assert [_status(shop, r["id"]) for r in (first, second)] == ["shipped", "confirmed"]
    denied = sam.post(
        "/a/shop/order/transitions",
        [("transition", "cancel"), ("ids", f"{second['id']}:{second['version']}")],
    )
    assert denied.status_code == 403 and _status(shop, second["id"]) == "confirmed"  # no grant of it at all
    cleo = _browser(
        app, "cleo"
    )  # holds 'confirm' within her record rule: another's order is refused, hers done
    theirs, mine = _order(app), _order(app)
    with app.extensions["lowcode"].db.write() as s:
        from lowcode.core.models import User

        cora = s.query(User).filter_by(username="cora").one()
        s.execute(
            sa.text("UPDATE e_shop_order SET owner = :o WHERE id = :i"), {"o": cora.id, "i": theirs["id"]}
        )
    mixed = cleo.post(
        "/a/shop/order/transitions",
        [("transition", "confirm"), ("ids", f"{theirs['id']}:1"), ("ids", f"{mine['id']}:1")],
    )
    assert "Confirm: 1 done, 1 refused" in text(mixed) and "outside what your roles allow" in text(mixed)
    assert [_status(shop, r["id"]) for r in (theirs, mine)] == ["draft", "confirmed"]
    with app.extensions["lowcode"].db.read() as s:
        from lowcode.core.models import SecurityEvent

        denials = s.query(SecurityEvent).filter_by(kind="permission_denied", username="cleo").all()
    assert len(denials) == 1  # the refused record of the bulk run is a logged denial
    for bad in ("x:1", "1", "1:-1", "99999999999999999999:1"):
        assert (
            sam.post("/a/shop/order/transitions", [("transition", "ship"), ("ids", bad)]).status_code == 400
        )
    assert sam.post("/a/shop/order/transitions", [("transition", "nope"), ("ids", "1:1")]).status_code == 404
    assert (
        sam.post(
            "/a/shop/order/transitions", [("transition", "ship"), ("ids", "1:1")], csrf=False
        ).status_code
        == 403
    )
    vic = text(_browser(app, "vic").get("/a/shop/order"))
    assert "bulk-form" not in vic


def test_chinese_labels(app, shop):
    order = _order(app)
    cleo = _browser(app, "cleo")
    assert cleo.post("/language", {"lang": "zh_CN", "next": "/"}).status_code == 303
    page = text(cleo.get(f"/a/shop/order/{order['id']}"))
    assert (
        'state-grey">草稿</span>' in page
        and ">确认</button>" in page
        and 'data-confirm="确认此订单？"' in page
    )
    listing = text(cleo.get("/a/shop/order"))
    assert "全部状态" in listing and "所选记录：" in listing


def test_a_hidden_state_field_shows_no_badge_nor_state_filter(app, shop):
    order = _order(app)
    role = {"name": "viewer", "label": "Viewer", "grants": [
        {"entity": "order", "actions": ["read"], "fields": {"status": "hidden"}}]}  # fmt: skip
    assert shop.put("/api/definitions/shop/role/viewer", json=role).status_code == 200
    assert shop.post("/api/definitions/shop/role/viewer/publish").status_code == 200
    vic = _browser(app, "vic")
    page = text(vic.get(f"/a/shop/order/{order['id']}"))
    assert "state-badge" not in page and "Draft" not in page
    assert "state-filter" not in text(vic.get("/a/shop/order"))
