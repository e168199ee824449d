"""Languages: Accept-Language before sign-in, the switcher, Chinese platform words and labels."""

from __future__ import annotations

from tests.conftest import ADMIN_PASSWORD

from .helpers import Browser, text


def test_accept_language_picks_the_sign_in_page_language(browser):
    page = text(browser.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}))
    assert '<html lang="zh-CN">' in page and "登录" in page and "密码" in page
    page = text(browser.get("/login", headers={"Accept-Language": "fr-FR"}))
    assert "Sign in" in page and "Password" in page


def test_switching_to_chinese_shows_chinese_words_and_labels(app, admin, demo_api):
    response = admin.post("/language", {"lang": "zh_CN", "next": "/a/demo/order"})
    assert response.status_code == 303 and response.headers["Location"] == "/a/demo/order"
    page = text(admin.get("/a/demo/order"))
    assert "订单列表" in page  # the view's label
    assert ">订单<" in page  # the entity in the menu
    assert "搜索" in page and "加载更多" not in page  # 12 orders fit one page
    assert "新建订单" in page  # "New %(entity)s" with the Chinese entity label
    assert "单号" in page and "客户" in page and "状态" in page  # field labels
    assert "已确认" in page and "草稿" in page  # choice labels
    assert "共 12 条记录" in page
    assert "Search" not in page
    # the choice is the user's: stored in lc_user.language, used at the next sign-in
    assert demo_api.get("/api/auth/me").get_json()["language"] == "zh_CN"
    other = Browser(app.test_client())
    other.login("admin", ADMIN_PASSWORD)
    page = text(other.get("/a/demo/order/1/edit"))
    assert "保存" in page and "添加行" in page and "表头" in page  # platform words and the section label
    assert "商品" in page and "数量" in page  # child-table column labels


def test_language_switch_refuses_unknown_languages_and_missing_csrf(admin):
    assert admin.post("/language", {"lang": "xx"}).status_code == 400
    assert admin.post("/language", {"lang": "zh_CN"}, csrf=False).status_code == 403
    assert "Search" in text(admin.get("/a/demo/order"))
