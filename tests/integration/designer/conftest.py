"""Fixtures of the designer tests: compiled translations and an administrator's browser."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.integration.pages.helpers import Browser


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    """Compile the message catalogs when the build step has not (the .mo files are not committed)."""
    from lowcode.pages.i18n import compile_catalogs

    compile_catalogs()


@pytest.fixture
def designer(app) -> Browser:
    """A browser signed in as the administrator (no app installed)."""
    browser = Browser(app.test_client())
    response = browser.login("admin", ADMIN_PASSWORD)
    assert response.status_code == 303
    return browser
