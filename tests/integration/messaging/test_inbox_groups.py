"""The inbox grouped by kind (the rule that sent them): counts per group, a kind's own page, and mark all read
per kind and for everything."""

from __future__ import annotations

import re

import sqlalchemy as sa

from lowcode import notifications
from lowcode.core.models import User
from tests.integration.pages.helpers import Browser, text

from .conftest import PASSWORD

GROUP = re.compile(r'data-kind="([^"]+)" data-total="(\d+)" data-unread="(\d+)"')


def _seed(app, username: str) -> None:
    with app.extensions["lowcode"].db.write() as session:
        user_id = session.scalar(sa.select(User.id).where(User.username == username))
        for i in range(4):
            notifications.notify(session, [user_id], f"ship {i}", app="shop", rule="ready_to_ship")
        notifications.notify(session, [user_id], "paid", app="shop", rule="paid")


def test_groups_counts_and_mark_read_per_kind_then_all(app, sales):
    _seed(app, "alice")
    alice = Browser(app.test_client())
    assert alice.login("alice", PASSWORD).status_code == 303
    groups = {k: (int(t), int(u)) for k, t, u in GROUP.findall(text(alice.get("/inbox")))}
    assert groups == {"shop:ready_to_ship": (4, 4), "shop:paid": (1, 1)}
    kind_page = text(alice.get("/inbox?kind=shop:ready_to_ship"))
    assert kind_page.count("data-notification=") == 4 and "paid" not in kind_page.split("<main")[1]
    assert alice.post("/inbox/read-all", {"kind": "shop:ready_to_ship"}).status_code == 303
    groups = {k: (int(t), int(u)) for k, t, u in GROUP.findall(text(alice.get("/inbox")))}
    assert groups == {"shop:ready_to_ship": (4, 0), "shop:paid": (1, 1)}
    assert alice.post("/inbox/read-all", {}).status_code == 303
    groups = {k: (int(t), int(u)) for k, t, u in GROUP.findall(text(alice.get("/inbox")))}
    assert groups == {"shop:ready_to_ship": (4, 0), "shop:paid": (1, 0)}
