"""The totals row adds up only what the reader's record rules let them read (a clerk sees their own orders)."""

from __future__ import annotations

import re

from tests.conftest import ApiClient, login
from tests.integration.pages.helpers import Browser, row_ids, text
from tests.integration.workflows.bundle import PASSWORD, install


def _total(page: str) -> str:
    match = re.search(r'data-total="total">([^<]*)<', page)
    assert match, "no totals row"
    return match.group(1)


def test_totals_follow_the_readers_record_rules(app, api):
    install(app, api)
    for user, amounts in (("cleo", ["10.00"]), ("cora", ["25.00", "5.50"])):
        client = app.test_client()
        as_user = ApiClient(client, login(client, user, PASSWORD))
        for amount in amounts:
            body = {"customer": f"{user} {amount}", "lines": [{"item": "x", "amount": amount}]}
            assert as_user.post("/api/data/shop/order", json=body).status_code == 201
    seen = {}
    for user in ("cleo", "cora", "vic"):
        browser = Browser(app.test_client())
        assert browser.login(user, PASSWORD).status_code == 303
        page = text(browser.get("/a/shop/order?limit=1"))
        seen[user] = (_total(page), len(row_ids(page)))
    # cleo: 10.00; cora: 25.00 + 5.50; vic reads every order: 10.00 + 25.00 + 5.50 - one row shown each
    # (a decimal column: the exact sum without trailing zeros)
    assert seen == {"cleo": ("10", 1), "cora": ("30.5", 1), "vic": ("40.5", 1)}
