"""Staged JXC fixtures: documents written once per test process on a copy of the seed, which then is the
template of each test using them (``app`` and ``jxc_stages`` in this folder's conftest).

The registry lives here, not in the conftest, because pytest loads a conftest under its own module object
while test modules import it again under its package name: two registries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

STAGES: dict[str, Callable[[Any], dict]] = {}
"""Fixture name -> builder (called with a signed-in ``Jxc`` once per test process)."""


def staged(name: str, builder: Callable[[Any], dict]):
    """A fixture called ``name`` whose documents are written through the API once per test process, on
    a copy of ``jxc_seed`` that is then the template of every test using it (``app`` starts on a copy of it);
    the fixture's value is what ``builder`` returned. Each test still gets its own database, holding exactly
    what the builder wrote: ids, numbers and balances as if the builder had run in the test."""
    STAGES[name] = builder

    @pytest.fixture(name=name)
    def fixture(jxc, jxc_stages):
        return jxc_stages(name)[1]

    return fixture
