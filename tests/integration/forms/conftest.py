"""Fixtures of the form-layout tests: the page catalogs compiled (the .mo files are not committed)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    """Compile the message catalogs when the build step has not."""
    from lowcode.pages.i18n import compile_catalogs

    compile_catalogs()
