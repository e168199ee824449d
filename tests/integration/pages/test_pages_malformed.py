"""Malformed form input on the pages: a clear 4xx page and nothing changed."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from .helpers import text


@pytest.mark.parametrize("version", ["9" * 40, "²", "true", "0"])
def test_an_edit_form_with_a_bad_version_is_a_400_and_changes_nothing(admin, demo_api, version):
    before = demo_api.get("/api/data/demo/customer/1").get_json()
    form = {"code": before["code"], "name": "changed", "level": "normal", "version": version}
    response = admin.post("/a/demo/customer/1/edit", form)
    assert response.status_code == 400
    assert "version" in text(response)
    assert demo_api.get("/api/data/demo/customer/1").get_json() == before


def test_a_record_form_with_an_underscored_number_is_refused(admin, demo_api):
    total = demo_api.get("/api/data/demo/customer").get_json()["total"]
    form = {"code": "C777", "name": "n", "level": "normal", "credit_limit": "1_000"}
    response = admin.post("/a/demo/customer/new", form)
    assert response.status_code == 422
    assert demo_api.get("/api/data/demo/customer").get_json()["total"] == total


def test_a_record_form_with_a_lone_surrogate_is_a_400_and_creates_nothing(admin, demo_api):
    total = demo_api.get("/api/data/demo/customer").get_json()["total"]
    body = f"code=S9&name=bad%ED%A0%80&level=normal&csrf_token={admin.token}"
    response = admin.client.post(
        "/a/demo/customer/new", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert "UTF-8" in text(response)
    assert demo_api.get("/api/data/demo/customer").get_json()["total"] == total


def test_a_sign_in_form_with_a_lone_surrogate_is_a_400(browser):
    page = text(browser.get("/login"))
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    body = f"username=%ED%A0%80&password=x&csrf_token={token}"
    response = browser.client.post("/login", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "UTF-8" in text(response)


def test_valid_non_ascii_form_text_still_saves(admin, demo_api):
    body = f"code=S8&name=%E5%AE%A2%E6%88%B7+A&level=normal&csrf_token={admin.token}"
    response = admin.client.post(
        "/a/demo/customer/new", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 303
    newest = demo_api.get("/api/data/demo/customer?sort=-id&limit=1").get_json()["data"][0]
    assert newest["name"] == "客户 A"


@pytest.mark.parametrize(
    "url", ["/a/demo/customer?limit=", "/inbox?before=", "/admin/users?department=", "/admin/security?limit="]
)
@pytest.mark.parametrize("value", ["²", "١٢", "-1", "9" * 40])
def test_a_page_number_parameter_that_is_not_ascii_digits_is_a_400(admin, url, value):
    response = admin.get(url + quote(value))
    assert response.status_code == 400
    assert "digits 0-9" in text(response)
    assert admin.get(url + "10").status_code == 200


def test_a_page_id_in_another_script_is_a_404(admin):
    assert admin.get("/a/demo/customer/1").status_code == 200
    assert admin.get("/a/demo/customer/" + quote("١")).status_code == 404
