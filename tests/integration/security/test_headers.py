"""Security headers on pages, API answers, error answers and static files."""

from __future__ import annotations

import pytest

from lowcode.security_headers import HEADERS

EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _assert_secure(response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, name
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert csp == HEADERS["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/login", 200),  # a page
        ("/no/such/page", 404),  # an error page
        ("/static/css/pages.css", 200),  # a static file
    ],
)
def test_headers_on_pages(app, url, status):
    response = app.test_client().get(url)
    assert response.status_code == status
    _assert_secure(response)


def test_headers_on_api_answers(app, api):
    ok = api.get("/api/auth/me")
    assert ok.status_code == 200
    _assert_secure(ok)
    refused = app.test_client().get("/api/auth/me")  # no session, no token: the one error shape
    assert refused.status_code == 401
    _assert_secure(refused)
    bad = api.post("/api/auth/login", json={"username": "admin"})
    assert bad.status_code in (400, 422)
    _assert_secure(bad)
