"""Fixtures of the page tests: compiled translations and a signed-in browser on the demo app."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_PASSWORD

from .helpers import Browser


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    """Compile the message catalogs when the build step has not (the .mo files are not committed)."""
    from lowcode.pages.i18n import compile_catalogs

    compile_catalogs()


@pytest.fixture
def browser(app) -> Browser:
    """An anonymous browser."""
    return Browser(app.test_client())


@pytest.fixture
def admin(demo_api, browser) -> Browser:
    """A browser signed in as the administrator, with the demo app installed."""
    response = browser.login("admin", ADMIN_PASSWORD)
    assert response.status_code == 303, response.get_data(as_text=True)
    return browser
