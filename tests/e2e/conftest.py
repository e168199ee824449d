"""Browser tests reuse the JXC seed database (template, role users, master data) of the integration tests."""

from tests.integration.jxc.conftest import jxc_seed  # noqa: F401 - a fixture for tests/e2e/test_jxc_roles.py
