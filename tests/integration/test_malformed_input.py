"""Malformed input found by a hostile user: each is a 4xx in the one error shape and changes nothing."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest

CUSTOMER = "/api/data/demo/customer"


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert set(error) >= {"code", "message", "fields"} and error["message"]
    return error


def _send(api, method, url, text, **kw):
    """Send ``text`` as the JSON body verbatim (a lone surrogate cannot go through ``json=``)."""
    headers = {**api.headers, "Content-Type": "application/json", **kw.pop("headers", {})}
    return api.client.open(url, method=method, data=text.encode(), headers=headers, **kw)


def _first(api) -> dict:
    return api.get(f"{CUSTOMER}?limit=1&sort=id").get_json()["data"][0]


@pytest.mark.parametrize("tag", ['"' + "9" * 40 + '"', '"²"', '"١"', '"-1"', '"0"', 'W/"1e3"'])
def test_an_if_match_that_is_not_a_version_is_a_400(demo_api, tag):
    before = _first(demo_api)
    url = f"{CUSTOMER}/{before['id']}"
    response = demo_api.patch(url, json={"name": "changed"}, headers={"If-Match": tag})
    assert _error(response, 400)["code"] == "bad_request"
    assert demo_api.get(url).get_json() == before


@pytest.mark.parametrize("version", ["true", "false", "1" + "0" * 40, '"1"', "1.0", "-3", "[1]"])
def test_a_body_version_that_is_not_a_whole_number_is_a_400(demo_api, version):
    before = _first(demo_api)
    url = f"{CUSTOMER}/{before['id']}"
    response = _send(demo_api, "PATCH", url, f'{{"name": "changed", "version": {version}}}')
    assert _error(response, 400)["code"] == "bad_request"
    assert demo_api.get(url).get_json() == before


@pytest.mark.parametrize(
    ("sort", "raw"),
    [
        ("", '[["int", 1e30]]'),
        ("", '[["int", 1' + "0" * 40 + "]]"),
        ("", '[["int", "1' + "1" * 40 + '"]]'),
        ("", '[["bool", "x"]]'),
        ("", '[["Decimal", "NaN"]]'),
        ("", '[["str", "\\ud800"]]'),
        ("", '{"a": 1}'),
        ("", "[1]"),
        ("name", '[["int", 1e30], ["int", 1]]'),
        ("credit_limit", '[["str", "abc"], ["int", 1]]'),
        ("credit_limit", '[["Decimal", "1_000"], ["int", 1]]'),
        ("created_at", '[["datetime", "yesterday"], ["int", 1]]'),
    ],
)
def test_a_cursor_we_did_not_write_is_a_400(demo_api, sort, raw):
    response = demo_api.get(f"{CUSTOMER}?limit=1&sort={sort}&after={_cursor(raw)}")
    assert _error(response, 400)["code"] == "bad_request"


def test_garbage_cursors_are_a_400_and_real_ones_still_page(demo_api):
    for after in ["1e30", "garbage", "!!!", _cursor("[[")]:
        assert _error(demo_api.get(f"{CUSTOMER}?after={after}"), 400)["code"] == "bad_request"
    for sort in ["credit_limit", "-created_at", "name,-id"]:
        first = demo_api.get(f"{CUSTOMER}?limit=2&sort={sort}").get_json()
        second = demo_api.get(f"{CUSTOMER}?limit=2&sort={sort}&after={first['next']}")
        assert second.status_code == 200 and second.get_json()["data"]


@pytest.mark.parametrize(
    "body", ['{"username": "\\ud800", "password": "x"}', '{"username": "admin", "password": "\\udc00"}']
)
def test_a_lone_surrogate_in_sign_in_is_a_400(app, body):
    response = app.test_client().post("/api/auth/login", data=body.encode(), content_type="application/json")
    error = _error(response, 400)
    assert error["code"] == "bad_request" and "surrogate" in error["message"]


def test_a_lone_surrogate_in_a_record_body_is_a_400_and_writes_nothing(demo_api):
    total = demo_api.get(CUSTOMER).get_json()["total"]
    created = _send(demo_api, "POST", CUSTOMER, '{"code": "S1", "name": "bad \\ud800"}')
    assert "surrogate" in _error(created, 400)["message"]
    assert demo_api.get(CUSTOMER).get_json()["total"] == total
    before = _first(demo_api)
    url = f"{CUSTOMER}/{before['id']}"
    updated = _send(demo_api, "PATCH", url, '{"name": "\\udfff", "version": 1}')
    assert "surrogate" in _error(updated, 400)["message"]
    assert demo_api.get(url).get_json() == before


@pytest.mark.parametrize("op", ["=", "contains", "starts_with"])
def test_a_lone_surrogate_in_a_filter_is_a_400(demo_api, op):
    condition = '{"field": "name", "op": "' + op + '", "value": "\\ud800"}'
    response = demo_api.get(f"{CUSTOMER}?filter={condition}")
    assert "surrogate" in _error(response, 400)["message"]


def test_numbers_with_underscores_are_refused_in_bodies_and_filters(demo_api):
    total = demo_api.get(CUSTOMER).get_json()["total"]
    response = demo_api.post(CUSTOMER, json={"code": "U1", "name": "n", "credit_limit": "1_000"})
    assert _error(response, 422)["fields"] == {"credit_limit": ["Not a valid number."]}
    assert demo_api.get(CUSTOMER).get_json()["total"] == total
    condition = json.dumps({"field": "credit_limit", "op": ">", "value": "1_000"})
    assert _error(demo_api.get(f"{CUSTOMER}?filter={condition}"), 400)["code"] == "condition_invalid"


def test_ids_beyond_64_bits_are_a_404_and_dry_run_versions_a_400(demo_api):
    assert _error(demo_api.get(f"{CUSTOMER}/{'9' * 40}"), 404)["code"] == "not_found"
    before = _first(demo_api)
    body = {"entity": "customer", "record_id": before["id"], "version": 10**40, "changes": {"name": "x"}}
    assert _error(demo_api.post("/api/rules/demo/dry-run", json=body), 400)["code"] == "bad_request"


NOT_WHOLE_NUMBERS = ["²", "١٢", "-1", "+5", " 5", "1_000", "1.0", "9" * 40]
NUMBER_PARAMS = [
    f"{CUSTOMER}?limit=", "/api/notifications?limit=", "/api/notifications?before=", "/api/rules/demo/runs?limit=",
    "/api/rules/demo/runs?entity=customer&record_id=", "/api/admin/users?department=", "/api/admin/tokens?user_id=",
    "/api/admin/security-events?limit=",
]  # fmt: skip


@pytest.mark.parametrize("url", NUMBER_PARAMS)
@pytest.mark.parametrize("value", NOT_WHOLE_NUMBERS)
def test_a_number_parameter_that_is_not_ascii_digits_is_a_400(demo_api, url, value):
    response = demo_api.get(url + quote(value))
    error = _error(response, 400)
    assert error["code"] == "bad_request" and "digits 0-9" in error["message"]


@pytest.mark.parametrize("url", NUMBER_PARAMS)
def test_a_number_parameter_in_plain_digits_still_reads(demo_api, url):
    assert demo_api.get(url + "1").status_code == 200


@pytest.mark.parametrize("segment", ["١", "١٢", "²", "-1", "9" * 19, "9" * 40])
def test_an_id_in_a_path_that_is_not_ascii_digits_is_a_404(demo_api, segment):
    assert demo_api.get(f"{CUSTOMER}/1").status_code == 200
    response = demo_api.get(f"{CUSTOMER}/{quote(segment)}")
    assert _error(response, 404)["code"] == "not_found"
    assert _error(demo_api.get(f"{CUSTOMER}/{quote(segment)}/history"), 404)["code"] == "not_found"


@pytest.mark.parametrize("notification_id", [2**31, 2**63 - 1])
def test_an_id_beyond_a_system_tables_key_is_a_4xx(demo_api, notification_id):
    """Found by the fuzz on PostgreSQL: system tables keep 32-bit ids, and asking for 2**31 overflowed the
    query (a 500). Now it is refused, and SQLite (no such limit) finds nothing."""
    response = demo_api.post(f"/api/notifications/{notification_id}/read")
    assert response.status_code in (404, 422), response.get_json()
    assert response.get_json()["error"]["code"] in ("not_found", "validation_failed")
