"""Password hashes: the production method is werkzeug's full-cost scrypt; the suite's cheaper one is checked by
the same code, and a hash made at either cost verifies (the parameters travel in the stored string)."""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

from lowcode.auth import users
from tests.conftest import PRODUCTION_PASSWORD_METHOD


def test_production_hashes_are_full_cost_scrypt():
    assert PRODUCTION_PASSWORD_METHOD == "scrypt"
    stored = generate_password_hash("a-pass-phrase-77", method=PRODUCTION_PASSWORD_METHOD)
    assert stored.startswith("scrypt:32768:8:1$")
    assert check_password_hash(stored, "a-pass-phrase-77")
    assert not check_password_hash(stored, "a-pass-phrase-78")


def test_hash_password_uses_the_configured_method_and_salts_each_hash():
    first, second = users.hash_password("a-pass-phrase-77"), users.hash_password("a-pass-phrase-77")
    assert first.startswith(users.PASSWORD_METHOD + "$") and first != second
    assert check_password_hash(first, "a-pass-phrase-77") and not check_password_hash(first, "other-phrase-1")
