"""The form page of an entity with a laid-out form: tabs, columns, help texts and placeholders in both
languages; the conditional fields' state judged by the server on the page and in the compute round trip;
saving from the page leaves hidden fields alone. As the administrator and as a role user."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.integration.pages.helpers import Browser, field_errors, text

from .bundle import PASSWORD, install

NEW = "/a/desk/ticket/new"
COMPUTE = "/a/desk/ticket/compute"


@pytest.fixture(params=[("admin", ADMIN_PASSWORD), ("ada", PASSWORD)], ids=["admin", "agent"])
def user(request, app, api):
    install(app, api)
    browser = Browser(app.test_client())
    name, password = request.param
    assert browser.login(name, password).status_code == 303
    return browser


def _state(page: str) -> dict[str, tuple[str, str, str]]:
    """``{field: (visible, required, read_only)}`` of the page's (or compute answer's) state element."""
    found = re.findall(
        r'data-state-of="(\w+)" data-visible="(\d)" data-required="(\d)" data-read-only="(\d)"', page
    )
    return {name: (visible, required, read_only) for name, visible, required, read_only in found}


def _wrapper(page: str, name: str) -> str:
    match = re.search(rf'<div class="([^"]*)" data-field-wrapper="{name}"( hidden)?>', page)
    assert match, name
    return match.group(0)


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["Main", "Closing", "What happened", "Shown in lists", 'placeholder="One line"']),
        ("zh_CN", ["主要", "结案", "发生了什么", "列表中显示", 'placeholder="一句话"']),
    ],
)
def test_tabs_columns_help_and_placeholders_in_each_language(user, lang, words):
    assert user.post("/language", {"lang": lang, "next": "/"}).status_code == 303
    page = text(user.get(NEW))
    for word in words:
        assert word in page
    assert 'class="nav nav-tabs mb-3 form-tabs"' in page
    assert 'data-bs-toggle="tab" data-bs-target="#pane-main"' in page
    assert '<div class="tab-pane show active" id="pane-main"' in page
    assert '<div class="tab-pane" id="pane-closing"' in page
    assert page.index('id="pane-main"') < page.index('name="title"') < page.index('id="pane-closing"')
    assert page.index('id="pane-closing"') < page.index('name="resolution"')
    # 3 columns on wide screens, one at phone width; 2 in the closing section
    assert 'class="col-12 col-md-6 col-lg-4" data-field-wrapper="title"' in page
    assert 'class="col-12 col-md-6" data-field-wrapper="resolution"' in page
    assert "<script>" not in page and " onclick=" not in page  # no inline code (CSP)


def test_the_server_decides_which_fields_show(user):
    page = text(user.get(NEW))  # a question: severity, other_reason and parts are hidden
    assert _state(page) == {
        "severity": ("0", "0", "0"),
        "other_reason": ("0", "0", "0"),
        "parts": ("0", "0", "0"),
        "resolution": ("1", "0", "0"),
    }
    assert _wrapper(page, "severity").endswith(" hidden>")
    assert not _wrapper(page, "title").endswith(" hidden>")
    # the compute round trip answers the state for the form as it is now
    answer = text(user.post(COMPUTE, {"title": "x", "kind": "bug", "status": "closed"}, htmx=True))
    assert 'id="form-state" data-form-state hx-swap-oob="true"' in answer
    assert _state(answer) == {
        "severity": ("1", "1", "0"),
        "other_reason": ("0", "0", "0"),
        "parts": ("1", "0", "0"),
        "resolution": ("1", "1", "1"),  # a new record: read_only_when is judged on the record as it would be
    }
    answer = text(user.post(COMPUTE, {"title": "x", "kind": "other"}, htmx=True))
    assert _state(answer)["other_reason"] == ("1", "1", "0")  # required by its definition once shown


def test_a_page_save_leaves_hidden_fields_alone_and_read_only_ones_unchanged(user, api):
    # a value typed into a field that was hidden again is not sent: the ticket is saved without it
    response = user.post(NEW, {"title": "Jam", "kind": "question", "severity": "3", "status": "open"})
    assert response.status_code == 303, text(response)
    record_id = int(response.headers["Location"].rsplit("/", 1)[1])
    record = api.get(f"/api/data/desk/ticket/{record_id}").get_json()
    assert record["severity"] is None
    # required_when is shown next to its field, in the tab that is now active
    edit = f"/a/desk/ticket/{record_id}/edit"
    response = user.post(edit, {"version": "1", "title": "Jam", "kind": "bug", "status": "open"})
    assert response.status_code == 422
    page = text(response)
    assert field_errors(page, "severity") == ["Missing data for required field."]
    assert not _wrapper(page, "severity").endswith(" hidden>")
    # close it with a resolution; then the resolution is read-only on the edit form
    form = {
        "version": "1",
        "title": "Jam",
        "kind": "bug",
        "severity": "2",
        "status": "closed",
        "resolution": "fixed",
    }
    assert user.post(edit, form).status_code == 303
    page = text(user.get(edit))
    assert _state(page)["resolution"] == ("1", "1", "1")
    assert re.search(r'name="resolution" value="fixed" aria-label="[^"]+" required readonly', page)
    response = user.post(edit, {**form, "version": "2", "resolution": "changed", "note": "n"})
    assert response.status_code == 303, text(response)  # the read-only field is not sent: it keeps its value
    record = api.get(f"/api/data/desk/ticket/{record_id}").get_json()
    assert (record["resolution"], record["note"], record["severity"]) == ("fixed", "n", 2)
