"""The designer and the JXC roles: none of purchaser, warehouse, sales and finance may configure the app, so
none is offered the designer nor reaches it - in either language; the administrator designs the template's
tables with their real fields (used-by names the rules and forms that read them)."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.integration.jxc.conftest import PASSWORD, ROLES
from tests.integration.pages.helpers import Browser, signed_in, text


def browser(app, username: str, password: str, lang: str) -> Browser:
    return signed_in(app, username, password, lang)


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
@pytest.mark.parametrize("role", ROLES)
def test_business_roles_do_not_reach_the_designer(app, jxc, role, lang):
    page = browser(app, role, PASSWORD, lang)
    assert 'href="/design/jxc"' not in text(page.get("/design"))
    home = text(page.get("/a/jxc"))
    assert "design-link" not in home and 'href="/design/jxc"' not in home
    for url in ("/design/jxc", "/design/jxc/entity/sales_order", "/design/jxc/form/sales_order_form",
                "/design/jxc/view/sales_order_list", "/design/jxc/publish"):  # fmt: skip
        assert page.get(url).status_code == 403, url
    response = page.post("/design/jxc/entities", {"name": "sneaky"})
    assert response.status_code == 403
    assert jxc.admin.get("/api/definitions/jxc").status_code == 200
    names = [d["name"] for d in jxc.admin.get("/api/definitions/jxc").get_json()["data"]]
    assert "sneaky" not in names


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_administrator_designs_the_template_with_its_usages(app, jxc, lang):
    page = browser(app, "admin", ADMIN_PASSWORD, lang)
    home = text(page.get("/a/jxc/sales_order"))
    assert '<a class="btn btn-sm btn-outline-light design-link" href="/design/jxc">' in home
    assert ("设计</a>" if lang == "zh_CN" else "Design</a>") in home
    body = text(page.get("/design/jxc/entity/sales_order_line?field=qty"))
    assert 'data-usage="entity:sales_order_line"' in body  # the line's amount formula
    assert 'data-usage="rule:' in body  # the rules that reserve stock
    if lang == "zh_CN":
        assert "被引用于" in body and "Used by" not in body
