"""The password policy: length, common passwords, one repeated character, whitespace, the username."""

from __future__ import annotations

import pytest

from lowcode.auth.passwords import COMMON_PASSWORDS, password_problems


@pytest.mark.parametrize(
    ("password", "username", "reason"),
    [
        ("short-1", "bob", "at least 10 characters"),
        ("Password123", "bob", "too common"),
        ("QWERTYUIOP", "bob", "too common"),
        ("1234567890", "bob", "too common"),
        ("zzzzzzzzzzzz", "bob", "one character repeated"),
        ("            ", "bob", "only spaces"),
        ("my-Marianne-pass", "marianne", "contain the username"),
        ("", "bob", "required"),
        (None, "bob", "required"),
    ],
)
def test_refused_with_the_reason(password, username, reason):
    problems = password_problems(password, username)
    assert any(reason in p for p in problems), problems


@pytest.mark.parametrize(
    ("password", "username"),
    [
        ("demo-pass-123", "sales"),
        ("demo-pass-123", "admin"),
        ("root-pass-2026", "admin"),
        ("user-pass-123", "al"),
    ],
)
def test_accepted(password, username):
    assert password_problems(password, username) == []


def test_the_list_is_ours_and_lower_case():
    assert len(COMMON_PASSWORDS) >= 100
    assert all(p == p.lower() for p in COMMON_PASSWORDS)
