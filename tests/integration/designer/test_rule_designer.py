"""The rule designer (/design/<app>/rules, /design/<app>/rule/<name>)."""

from __future__ import annotations

import re

import pytest

from tests.integration.pages.helpers import Browser, add_role_users, signed_in, text

RULES = "/design/demo/rules"
RULE = "/design/demo/rule/big_order"


@pytest.fixture
def demo(demo_api, designer):
    return designer


def base_of(page: str) -> str:
    return re.search(r'name="base" value="(\d+)"', page).group(1)


def draft(api, name="big_order") -> dict:
    body = api.get(f"/api/definitions/demo/rule/{name}").get_json()
    return body["draft"] or body["published"]


def create(browser, name="big_order", entity="order", kind="refuse", expect=303):
    response = browser.post(
        RULES,
        {"name": name, "label:en": "Big order", "label:zh-CN": "大订单", "entity": entity, "type": kind},
    )
    assert response.status_code == expect, text(response)[-3000:]
    return response


def post(browser, url, data, expect=303):
    page = text(browser.get(RULE))
    pairs = list(data.items()) if isinstance(data, dict) else list(data)
    response = browser.post(url, [("base", base_of(page)), *pairs])
    assert response.status_code == expect, text(response)[-3000:]
    return response


def test_smoke(demo, demo_api):
    create(demo)
    page = demo.get(RULE)
    assert page.status_code == 200, text(page)[-3000:]
    print(text(page)[:200])
