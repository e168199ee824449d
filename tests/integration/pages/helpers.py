"""Helpers of the page tests: a signed-in browser-like client and HTML scraping."""

from __future__ import annotations

import html
import re

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
ROW_LINK = re.compile(r"<td(?: data-label=\"[^\"]*\")?><a href=\"/a/\w+/(\w+)/(\d+)\">([^<]*)</a></td>")
LOAD_MORE = re.compile(r'class="[^"]*load-more"[^>]*hx-get="([^"]+)"')


def csrf_of(page: str) -> str:
    """The CSRF token of a rendered page's first form."""
    match = CSRF_FIELD.search(page)
    assert match, "no csrf_token field in the page"
    return match.group(1)


def row_ids(page: str) -> list[int]:
    """Ids of the records listed in a list page (or rows partial), in order."""
    return [int(m.group(2)) for m in ROW_LINK.finditer(page)]


def row_titles(page: str) -> list[str]:
    """Titles (first column) of the listed records, in order."""
    return [html.unescape(m.group(3)) for m in ROW_LINK.finditer(page)]


def load_more_url(page: str) -> str | None:
    """The "load more" URL of a list page, if there is a next page."""
    match = LOAD_MORE.search(page)
    return html.unescape(match.group(1)) if match else None


def field_errors(page: str, name: str) -> list[str]:
    """Inline messages shown next to the input named ``name``."""
    pattern = re.compile(rf'data-field-error="{re.escape(name)}">([^<]*)<')
    return [html.unescape(m) for m in pattern.findall(page)]


class Browser:
    """A Flask test client used like a browser: forms with the CSRF token, optional htmx headers."""

    def __init__(self, client):
        self.client = client
        self.token = ""

    def login(self, username: str, password: str, next_url: str = "/"):
        """Sign in through the form; returns the response of the POST."""
        page = self.client.get("/login").get_data(as_text=True)
        data = {"username": username, "password": password, "csrf_token": csrf_of(page), "next": next_url}
        response = self.client.post("/login", data=data)
        if response.status_code == 303:
            self.token = csrf_of(self.get("/").get_data(as_text=True))
        return response

    def get(self, url: str, htmx: bool = False, headers: dict | None = None, **kw):
        """GET a page (``htmx`` adds the ``HX-Request`` header)."""
        headers = {**(headers or {}), **({"HX-Request": "true"} if htmx else {})}
        return self.client.get(url, headers=headers, **kw)

    def post(
        self,
        url: str,
        data: dict | list | None = None,
        htmx: bool = False,
        csrf: bool = True,
        headers: dict | None = None,
        **kw,
    ):
        """POST a form; ``csrf`` adds the session's token (as the hidden field, or the htmx header);
        ``headers`` are sent too (``HX-Trigger-Name``)."""
        headers = {**(headers or {}), **({"HX-Request": "true"} if htmx else {})}
        data = list(data.items()) if isinstance(data, dict) else list(data or [])
        if csrf and htmx:
            headers["X-CSRF-Token"] = self.token
        elif csrf:
            data.append(("csrf_token", self.token))
        return self.client.post(url, data=_multidict(data), headers=headers, **kw)


def _multidict(pairs):
    from werkzeug.datastructures import MultiDict

    return MultiDict(pairs)


def text(response) -> str:
    """The response body as text."""
    return response.get_data(as_text=True)


def add_role_users(app, app_name: str, users: dict[str, str], password: str) -> None:
    """Create users (name -> role of ``app_name``), each holding that role."""
    from lowcode.auth.users import create_user
    from lowcode.core.models import RoleAssignment

    with app.extensions["lowcode"].db.write() as s:
        for name, role in users.items():
            user = create_user(s, name, password)
            s.add(RoleAssignment(user_id=user.id, app=app_name, role=role, granted_by="test"))


def signed_in(app, username: str, password: str, lang: str | None = None) -> Browser:
    """A browser signed in as ``username`` (in ``lang``, when given)."""
    browser = Browser(app.test_client())
    assert browser.login(username, password).status_code == 303
    if lang is not None:
        assert browser.post("/language", {"lang": lang, "next": "/"}).status_code == 303
    return browser
