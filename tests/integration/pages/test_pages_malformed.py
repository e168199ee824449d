"""Malformed form input on the pages: a clear 4xx page and nothing changed."""

from __future__ import annotations

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
